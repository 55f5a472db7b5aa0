package callback

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// referenceDecode is encoding/json with the envelope's struct tags: what decodeBody must match.
func referenceDecode(body []byte, env *envelope) error {
	i := 0
	for i < len(body) && strings.ContainsRune(" \t\r\n", rune(body[i])) {
		i++
	}
	if i == len(body) || body[i] != '{' {
		return errNotObject
	}
	return json.Unmarshal(body, env)
}

var decodeSeeds = []string{
	textBody("2000000000000001", "m_1", 1700000000000),
	`{"object":"page","entry":[{"id":1000000000000001,"time":1700000000000,"messaging":[{"sender":{"id":9007199254740993123},"recipient":{"id":1000000000000001},"timestamp":"1700000000001","message":{"mid":"m_1","text":"h\u00e4\u00f6\u00e5 \"q\" \ud83d\ude00","quick_reply":{"payload":"P"},"nlp":{"entities":{}},"seq":3}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m","is_echo":true,"app_id":263902037430900,"metadata":"x","attachments":[{"type":"image","payload":{"url":"https://x/y?a=1&b=2"}}]}}]}]}`,
	`{"object":"page","entry":[{"id":"1","standby":[{"sender":{"id":"3"},"recipient":{"id":"1"},"timestamp":1.7e12,"postback":{"title":"Talk","mid":null}}],"messaging":[{"sender":{"id":"4"},"recipient":{"id":"1"},"timestamp":1,"pass_thread_control":{"previous_owner_app_id":null,"new_owner_app_id":"5","metadata":"m"}},{"recipient":{"id":"1"},"timestamp":1,"app_roles":{"1":["primary_receiver"]}},{"sender":{"id":"6"},"recipient":{"id":"6"},"timestamp":1,"request_thread_control":{"requested_owner_app_id":263902037430900}},{"sender":{"id":"7"},"take_thread_control":{"previous_owner_app_id":"1","new_owner_app_id":"2"}},{"sender":{"id":"8"},"read":{"watermark":1},"delivery":null}]}]}`,
	`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"a":[1,2,{"b":[]}],"c":-0.5e-3}}]}]}`,
	` {"object":"instagram","entry":[]} `,
	`{"OBJECT":"page","Entry":[{"ID":"1","Messaging":[{"SENDER":{"Id":"2"},"Message":{"Text":"t","MID":"m"}}]}]}`,
	`{"\u006fbject":"page","entry":null}`,
	`{"object":"page","entry":[{"id":true,"time":"x","messaging":[{"sender":{"id":{"x":1}},"timestamp":-5,"message":{"is_echo":"true","app_id":[1]}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"text":"bad \xff utf8"}}]}]}`,
	"{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"sender\":{\"id\":\"2\"},\"\xff\":1,\"message\":{\"mid\":\"m\xc0\xaf\",\"text\":\"raw \xff\xfe bytes\"}}]}]}",
	`{"object":"page","entry":[{"id":1.0,"messaging":[{"sender":{"id":-2},"recipient":{"id":3e3},"message":{"mid":"m","app_id":1.5}}]}]}`,
	// Must fail:
	`{"object":"page","entry":[`,
	`{"object":"page","entry":"x"}`,
	`{"object":5}`,
	`{"object":"page","entry":[{"messaging":[{"message":"x"}]}]}`,
	`{"object":"page","entry":[{"messaging":[{"sender":5}]}]}`,
	`{"object":"page"} x`,
	`{"object":"page",}`,
	`{"object":"page","entry":[1,]}`,
	`{"a":01}`,
	`{"a":"\x01"}`,
	`{"a":"\u12"}`,
	`{"a":tru}`,
	`[]`,
	``,
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, body := range decodeSeeds {
		var got, want envelope
		gerr := decodeBody([]byte(body), &got)
		werr := referenceDecode([]byte(body), &want)
		if (gerr == nil) != (werr == nil) {
			t.Errorf("%s\n decodeBody err %v, encoding/json err %v", body, gerr, werr)
			continue
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got  %s\n want %s", body, dump(got), dump(want))
		}
	}
}

func dump(e envelope) string {
	b, _ := json.Marshal(e)
	return string(b)
}

func TestDecodeDepthLimit(t *testing.T) {
	deep := `{"object":"page","x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`
	var env envelope
	if err := decodeBody([]byte(deep), &env); err == nil {
		t.Error("600 levels accepted")
	}
	ok := `{"object":"page","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	if err := decodeBody([]byte(ok), &env); err != nil {
		t.Error(err)
	}
}

// FuzzDecode: the scanner never panics, rejects whatever is not JSON, and where encoding/json
// reads the same envelope, both agree on the events.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want envelope
		gerr := decodeBody(body, &got)
		if gerr == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		werr := referenceDecode(body, &want)
		if gerr != nil || werr != nil {
			if werr == nil && gerr != errDepth && !strings.Contains(gerr.Error(), "nested") {
				t.Fatalf("rejected what encoding/json reads: %q: %v", body, gerr)
			}
			return
		}
		// Duplicate keys merge differently (encoding/json decodes into the existing pointer);
		// compare the events only when each event decodes the same on its own.
		if !reflect.DeepEqual(eventsOf(got), eventsOf(want)) && !hasDuplicateKeys(body) {
			t.Fatalf("%q\n got  %v\n want %v", body, eventsOf(got), eventsOf(want))
		}
	})
}

func eventsOf(env envelope) []string {
	var out []string
	for _, e := range env.Entry {
		for ch, list := range [2][]rawEvent{e.Messaging, e.Standby} {
			for i := range list {
				ev, reason := toEvent(string(e.ID), handover.Channel(ch), e.Time, &list[i])
				out = append(out, fmt.Sprintf("%+v %s", ev, reason))
			}
		}
	}
	return append(out, env.Object)
}

// hasDuplicateKeys reports whether some object in body repeats a key (case-insensitively).
func hasDuplicateKeys(body []byte) bool {
	s := scanner{b: body}
	return dupScan(&s)
}

func dupScan(s *scanner) bool {
	switch s.peek() {
	case '{':
		s.open('{')
		seen := map[string]bool{}
		for first := true; ; first = false {
			more, err := s.more('}', first)
			if err != nil || !more {
				return false
			}
			k, err := s.key()
			if err != nil {
				return false
			}
			lk := strings.ToLower(string(k))
			if seen[lk] {
				return true
			}
			seen[lk] = true
			if dupScan(s) {
				return true
			}
		}
	case '[':
		s.open('[')
		for first := true; ; first = false {
			more, err := s.more(']', first)
			if err != nil || !more {
				return false
			}
			if dupScan(s) {
				return true
			}
		}
	default:
		s.skip()
	}
	return false
}
