package graph

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		map[string]any{"text": "Hi \"Peter\" <b>&</b>\n\t\x01 äö \u2028 \xff end", "n": 3, "ok": true, "none": nil},
		map[string]any{"text": "t", "quick_replies": []map[string]any{{"content_type": "text", "title": "Pass", "payload": "p"}}},
		map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "button", "text": "x", "buttons": []any{map[string]any{"type": "postback", "title": "A", "payload": "a"}},
		}}},
		map[string]any{"f": 1.5, "s": []string{"a"}, "m": map[string]string{"k": "v\""}},
	} {
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("invalid JSON %s: %v", got, err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
	// Byte for byte for a single string (the escaping rules).
	for _, s := range []string{"plain", "q\"b\\s/", "<>&", "\x00\x1f\x7f", "\u2028\u2029", "bad \xff\xfe utf8", "emoji 😀"} {
		got := string(appendQuoted(nil, s))
		want, _ := json.Marshal(s)
		if got != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
