package handover

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// asJSON compares rendered messages through their JSON form, as the Send API gets them.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRenderShapes(t *testing.T) {
	text := &OutMessage{Text: "Hi {{first_name}}!", QuickReplies: []QuickReply{{"Pass to Inbox", "pass_to_inbox"}}, NeedsFirstName: true, FirstNameFallback: "there"}
	if got, want := asJSON(t, Render(text, "Zoë", bizName)),
		`{"quick_replies":[{"content_type":"text","payload":"pass_to_inbox","title":"Pass to Inbox"}],"text":"Hi Zoë!"}`; got != want {
		t.Errorf("text:\n got  %s\n want %s", got, want)
	}
	// No profile: the fallback.
	if got := Render(text, "", bizName)["text"]; got != "Hi there!" {
		t.Errorf("fallback: %q", got)
	}

	buttons := &OutMessage{
		Text: "fallback text",
		Buttons: &ButtonTemplate{Text: "Welcome to {{business_name}}", Buttons: []Button{
			{Type: "postback", Title: "Agent", Payload: "AGENT"},
			{Type: "web_url", Title: "FAQ", URL: "https://example.com/faq"},
		}},
		QuickReplies: []QuickReply{{"Menu", "MENU"}},
	}
	want := `{"attachment":{"payload":{"buttons":[{"payload":"AGENT","title":"Agent","type":"postback"},` +
		`{"title":"FAQ","type":"web_url","url":"https://example.com/faq"}],"template_type":"button","text":"Welcome to Shop"},"type":"template"},` +
		`"quick_replies":[{"content_type":"text","payload":"MENU","title":"Menu"}]}`
	if got := asJSON(t, Render(buttons, "", bizName)); got != want {
		t.Errorf("buttons:\n got  %s\n want %s", got, want)
	}

	cards := &OutMessage{Text: "fallback", Cards: []Card{
		{Title: "Hello {{first_name}}", Subtitle: "at {{business_name}}", ImageURL: "https://example.com/a.png",
			Buttons: []Button{{Type: "postback", Title: "Talk", Payload: "TALK"}}},
		{Title: "Second", Subtitle: "only a subtitle"},
	}}
	want = `{"attachment":{"payload":{"elements":[` +
		`{"buttons":[{"payload":"TALK","title":"Talk","type":"postback"}],"image_url":"https://example.com/a.png","subtitle":"at Shop","title":"Hello Ann"},` +
		`{"subtitle":"only a subtitle","title":"Second"}],"template_type":"generic"},"type":"template"}}`
	if got := asJSON(t, Render(cards, "Ann", bizName)); got != want {
		t.Errorf("cards:\n got  %s\n want %s", got, want)
	}

	// The fallback of a template is its text with its quick replies.
	if got, want := asJSON(t, RenderFallback(buttons, "", bizName)),
		`{"quick_replies":[{"content_type":"text","payload":"MENU","title":"Menu"}],"text":"fallback text"}`; got != want {
		t.Errorf("fallback:\n got  %s\n want %s", got, want)
	}
	if !buttons.Template() || !cards.Template() || text.Template() {
		t.Error("Template()")
	}
	if !reflect.DeepEqual(RenderFallback(text, "Zoë", bizName), Render(text, "Zoë", bizName)) {
		t.Error("the fallback of a text message is the message")
	}
	if Render(nil, "", "") != nil || RenderFallback(nil, "", "") != nil {
		t.Error("nil message")
	}

	// Unknown placeholders and lone braces stay as written.
	odd := &OutMessage{Text: "{{name}} {{ {first_name}} {{business_name"}
	if got := Render(odd, "X", bizName)["text"]; got != odd.Text {
		t.Errorf("odd placeholders: %q", got)
	}
}

// The tutorial's messages render as the Node tutorial sends them.
func TestRenderTutorialMessages(t *testing.T) {
	p := page(t, nil)
	got := asJSON(t, Render(p.Policy.welcome, "", bizName))
	want := asJSON(t, map[string]any{"text": v1alpha1.DefaultWelcomeText, "quick_replies": []map[string]any{
		{"content_type": "text", "title": "Pass to Inbox", "payload": "pass_to_inbox"}}})
	if got != want {
		t.Errorf("welcome:\n got  %s\n want %s", got, want)
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("é", 1996) + " {{first_name}}" // 2000 characters once filled with "Zoë"
	m := &OutMessage{Text: long}
	txt := Render(m, "Zoë", "")["text"].(string)
	if n := utf8.RuneCountInString(txt); n != textMax || !strings.HasSuffix(txt, "…") || !utf8.ValidString(txt) {
		t.Errorf("cut text: %d characters, valid %v, ends %q", n, utf8.ValidString(txt), txt[len(txt)-8:])
	}
	// Under the limit in characters though over it in bytes: untouched.
	twoByte := strings.Repeat("ж", textMax)
	if got := Render(&OutMessage{Text: twoByte}, "", "")["text"]; got != twoByte {
		t.Error("a text of 1999 two-byte characters was cut")
	}

	bt := &OutMessage{Text: "f", Buttons: &ButtonTemplate{Text: strings.Repeat("a", 630) + "{{business_name}}",
		Buttons: []Button{{Type: "postback", Title: strings.Repeat("t", 25), Payload: "P"}}}}
	payload := Render(bt, "", "A very long business name")["attachment"].(map[string]any)["payload"].(map[string]any)
	if n := utf8.RuneCountInString(payload["text"].(string)); n != buttonTextMax {
		t.Errorf("button text %d characters", n)
	}
	if title := payload["buttons"].([]map[string]any)[0]["title"].(string); title != strings.Repeat("t", 20) {
		t.Errorf("button title %q", title)
	}

	cards := &OutMessage{Text: "f", Cards: []Card{{Title: strings.Repeat("🙂", 70) + "{{first_name}}", Subtitle: "{{business_name}}" + strings.Repeat("x", 79)}}}
	el := Render(cards, "Maximilian", "Shop")["attachment"].(map[string]any)["payload"].(map[string]any)["elements"].([]map[string]any)[0]
	if n := utf8.RuneCountInString(el["title"].(string)); n != cardTitleMax {
		t.Errorf("card title %d characters", n)
	}
	if n := utf8.RuneCountInString(el["subtitle"].(string)); n != subtitleMax {
		t.Errorf("subtitle %d characters", n)
	}

	// Many placeholders with a long name: filled only as far as the limit, cut as if filled whole.
	many := &OutMessage{Text: "Hi " + strings.Repeat("{{first_name}} ", 500)}
	name := "Maximiliané🙂"
	want := cut(strings.ReplaceAll(many.Text, "{{first_name}}", name), textMax, true)
	if got := Render(many, name, "")["text"]; got != want {
		t.Errorf("many placeholders:\n got  %q\n want %q", got, want)
	}

	qr := &OutMessage{Text: "x", QuickReplies: []QuickReply{{Title: strings.Repeat("ü", 30), Payload: "p"}}}
	if title := Render(qr, "", "")["quick_replies"].([]map[string]any)[0]["title"].(string); title != strings.Repeat("ü", 20) {
		t.Errorf("quick reply title %q", title)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 8, "hello w…"},
		{"hello  world", 7, "hello…"}, // no trailing space before the ellipsis
		{"héllo wörld", 6, "héllo…"},
		{"ab\u0301cd", 3, "a…"},                // keeps b with its accent together: drops both
		{"a👍🏽b", 3, "a…"},                      // a skin tone stays with its emoji
		{"a👩\u200d💻xyz", 4, "a…"},              // a joined emoji is not split
		{"🇫🇷🇩🇪xx", 4, "🇫🇷…"},                   // flags are pairs
		{"x🇫🇷🇩🇪", 3, "x…"},                     // never half a flag
		{"abc\xff\xfedef", 20, "abc\uFFFDdef"}, // invalid UTF-8 repaired
	} {
		got := cut(tc.in, tc.max, true)
		if got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("cut(%q, %d) = %q: invalid or too long", tc.in, tc.max, got)
		}
	}
	if got := cut("abcdef", 3, false); got != "abc" {
		t.Errorf("cut without ellipsis %q", got)
	}
}

func FuzzRenderLimits(f *testing.F) {
	f.Add("Hi {{first_name}}, welcome to {{business_name}}", "Zoë", "Shop", 5)
	f.Add(strings.Repeat("👩\u200d💻", 700), "\xff", "🇫🇷🇩🇪", 1)
	f.Add("a\u0301\u0301\u0301", "{{first_name}}", "", 0)
	f.Fuzz(func(t *testing.T, txt, first, business string, reps int) {
		if reps < 0 || reps > 200 {
			return
		}
		txt = strings.Repeat(txt, reps)
		m := &OutMessage{
			Text:         txt,
			QuickReplies: []QuickReply{{Title: first + business, Payload: "P"}},
			Cards:        []Card{{Title: txt, Subtitle: txt, Buttons: []Button{{Type: "postback", Title: txt, Payload: "B"}}}},
		}
		check := func(what string, v any, max int) {
			s, _ := v.(string)
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
				t.Fatalf("%s: %d characters, valid %v", what, utf8.RuneCountInString(s), utf8.ValidString(s))
			}
		}
		fb := RenderFallback(m, first, business)
		check("text", fb["text"], textMax)
		check("quick reply", fb["quick_replies"].([]map[string]any)[0]["title"], titleMax)
		el := Render(m, first, business)["attachment"].(map[string]any)["payload"].(map[string]any)["elements"].([]map[string]any)[0]
		check("title", el["title"], cardTitleMax)
		check("subtitle", el["subtitle"], subtitleMax)
		check("button", el["buttons"].([]map[string]any)[0]["title"], titleMax)
		bt := Render(&OutMessage{Text: "f", Buttons: &ButtonTemplate{Text: txt}}, first, business)
		check("button text", bt["attachment"].(map[string]any)["payload"].(map[string]any)["text"], buttonTextMax)
	})
}
