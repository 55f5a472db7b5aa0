package simulator

import (
	"net/url"
	"strings"
	"testing"
)

func qr(title, payload string) map[string]any {
	return map[string]any{"content_type": "text", "title": title, "payload": payload}
}

func qrs(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = qr("opt", "P")
	}
	return out
}

func postback(title, payload string) map[string]any {
	return map[string]any{"type": "postback", "title": title, "payload": payload}
}

func buttonTemplate(text string, buttons ...any) map[string]any {
	return map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
		"template_type": "button", "text": text, "buttons": buttons}}}
}

func generic(elements ...any) map[string]any {
	return map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
		"template_type": "generic", "elements": elements}}}
}

func element(title, subtitle string, buttons ...any) map[string]any {
	e := map[string]any{"title": title}
	if subtitle != "" {
		e["subtitle"] = subtitle
	}
	if len(buttons) > 0 {
		e["buttons"] = buttons
	}
	return e
}

func elements(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = element("card", "sub")
	}
	return out
}

func TestSendLimits(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	x := strings.Repeat
	bad := []struct {
		name string
		body map[string]any
	}{
		{"text of 2000 chars", map[string]any{"text": x("a", 2000)}},
		{"empty text", map[string]any{"text": ""}},
		{"text and attachment", map[string]any{"text": "a", "attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://x/i.png"}}}},
		{"no text no attachment", map[string]any{"metadata": "m"}},
		{"14 quick replies", map[string]any{"text": "pick", "quick_replies": qrs(14)}},
		{"quick reply payload 1001", map[string]any{"text": "pick", "quick_replies": []any{qr("a", x("p", 1001))}}},
		{"quick reply without payload", map[string]any{"text": "pick", "quick_replies": []any{map[string]any{"content_type": "text", "title": "a"}}}},
		{"quick reply without title", map[string]any{"text": "pick", "quick_replies": []any{map[string]any{"content_type": "text", "payload": "P"}}}},
		{"quick reply location", map[string]any{"text": "pick", "quick_replies": []any{map[string]any{"content_type": "location"}}}},
		{"metadata of 1000", map[string]any{"text": "a", "metadata": x("m", 1000)}},
		{"button text 641", buttonTemplate(x("b", 641), postback("A", "P"))},
		{"button template without buttons", buttonTemplate("t")},
		{"button template with 4 buttons", buttonTemplate("t", postback("A", "P"), postback("B", "P"), postback("C", "P"), postback("D", "P"))},
		{"button title 21", buttonTemplate("t", postback(x("t", 21), "P"))},
		{"postback payload 1001", buttonTemplate("t", postback("A", x("p", 1001)))},
		{"postback without payload", buttonTemplate("t", map[string]any{"type": "postback", "title": "A"})},
		{"web_url without url", buttonTemplate("t", map[string]any{"type": "web_url", "title": "A"})},
		{"unknown button type", buttonTemplate("t", map[string]any{"type": "teleport", "title": "A"})},
		{"generic 11 elements", generic(elements(11)...)},
		{"generic no elements", generic()},
		{"element title 81", generic(element(x("t", 81), "sub"))},
		{"element subtitle 81", generic(element("t", x("s", 81)))},
		{"element with title only", generic(element("t", ""))},
		{"element 4 buttons", generic(element("t", "s", postback("A", "P"), postback("B", "P"), postback("C", "P"), postback("D", "P")))},
		{"unknown template", map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "list"}}}},
		{"image without url", map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{}}}},
		{"unknown attachment type", map[string]any{"attachment": map[string]any{"type": "hologram", "payload": map[string]any{}}}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.sim.Messages(pageID, psid))
			g := e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
				"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE", "message": c.body})
			e.wantErr(g, 100, 0)
			if len(e.sim.Messages(pageID, psid)) != before {
				t.Fatal("refused message was recorded")
			}
		})
	}
	good := []struct {
		name string
		body map[string]any
	}{
		{"text of 1999 chars", map[string]any{"text": x("é", 1999)}},
		{"13 quick replies", map[string]any{"text": "pick", "quick_replies": qrs(13)}},
		{"quick reply payload 1000", map[string]any{"text": "pick", "quick_replies": []any{qr(x("t", 20), x("p", 1000))}}},
		{"phone and email quick replies", map[string]any{"text": "contact?", "quick_replies": []any{
			map[string]any{"content_type": "user_phone_number"}, map[string]any{"content_type": "user_email"}}}},
		{"metadata 999", map[string]any{"text": "a", "metadata": x("m", 999)}},
		{"button text 640, 3 buttons", buttonTemplate(x("b", 640), postback("A", "P"), map[string]any{"type": "web_url", "url": "https://x", "title": "FAQ"},
			map[string]any{"type": "phone_number", "title": "Call", "payload": "+15551234567"})},
		{"generic 10 elements", generic(elements(10)...)},
		{"element 80/80 with 3 buttons", generic(element(x("t", 80), x("s", 80), postback("A", "P"), postback("B", "P"), postback("C", "P")))},
		{"image", map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://x/i.png"}}}},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			g := e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
				"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE", "message": c.body})
			e.wantOK(g)
		})
	}
}

func TestSendRequestShape(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	tok := e.token(botName)
	post := func(body map[string]any) graphResp {
		return e.call("POST", "/v25.0/me/messages", tok, body)
	}
	rcp := map[string]any{"id": psid}
	// messaging_type is required for messages, and must be known.
	e.wantErr(post(map[string]any{"recipient": rcp, "message": map[string]any{"text": "a"}}), 100, 0)
	e.wantErr(post(map[string]any{"recipient": rcp, "messaging_type": "PROMO", "message": map[string]any{"text": "a"}}), 100, 0)
	e.wantErr(post(map[string]any{"recipient": rcp, "messaging_type": "MESSAGE_TAG", "message": map[string]any{"text": "a"}}), 100, 0)
	e.wantErr(post(map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"text": "a"}}), 100, 0)
	// Deprecated tags fail with 100 after Apr 27, 2026 (the clock says Mar 1, 2026 here).
	e.wantOK(post(map[string]any{"recipient": rcp, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE", "message": map[string]any{"text": "a"}}))
	e.clock.Set(deprecatedTagsEnd)
	e.say("hi again")
	e.wantErr(post(map[string]any{"recipient": rcp, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE", "message": map[string]any{"text": "a"}}), 100, 0)
	// Sender actions go alone.
	e.wantOK(post(map[string]any{"recipient": rcp, "sender_action": "typing_on"}))
	e.wantErr(post(map[string]any{"recipient": rcp, "sender_action": "typing_on", "message": map[string]any{"text": "a"}}), 100, 0)
	e.wantErr(post(map[string]any{"recipient": rcp, "sender_action": "dance"}), 100, 0)
	e.wantErr(post(map[string]any{"recipient": rcp, "sender_action": "react"}), 100, 0)
	// A form-encoded send with JSON-encoded values and the token in a Bearer header.
	form := url.Values{"recipient": {`{"id":"` + psid + `"}`}, "messaging_type": {"RESPONSE"}, "message": {`{"text":"form works"}`}}
	req := formRequest(t, e.srv.URL+"/v21.0/"+pageID+"/messages", form)
	req.Header.Set("Authorization", "Bearer "+tok)
	e.wantOK(e.do(req))
	// A numeric recipient id is accepted as the same PSID.
	e.wantOK(e.call("POST", "/v25.0/me/messages", tok, map[string]any{"recipient": map[string]any{"id": 27458394012345678},
		"messaging_type": "RESPONSE", "message": map[string]any{"text": "numeric id"}}))
	msgs := e.sim.Messages(pageID, psid)
	if msgs[len(msgs)-2].Text != "form works" || msgs[len(msgs)-1].Text != "numeric id" {
		t.Fatalf("messages = %+v", msgs)
	}
	// Unknown edges and methods.
	e.wantErr(e.call("POST", "/v25.0/me/teleport", tok, map[string]any{}), 100, 0)
	e.wantErr(e.call("GET", "/v25.0/me/messages", tok, nil), 100, 33)
}

func TestQuickReplyTitleTruncatedOrRefused(t *testing.T) {
	long := "Talk to a real human please" // 27 chars
	e := newEnv(t, nil)
	e.say("hi")
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": psid},
		"messaging_type": "RESPONSE", "message": map[string]any{"text": "pick", "quick_replies": []any{qr(long, "HUMAN")}}}))
	if err := e.sim.Customer(pageID, psid).Tap(long[:20]); err != nil {
		t.Fatalf("truncated title not offered: %v", err)
	}
	if m := e.bot.ofKind("message"); m[len(m)-1].ev.Message.Text != long[:20] {
		t.Fatalf("tap text = %q", m[len(m)-1].ev.Message.Text)
	}

	e2 := newEnv(t, func(o *Options) { o.Behaviour.StrictQuickReplyTitle = true })
	e2.say("hi")
	e2.wantErr(e2.call("POST", "/v25.0/me/messages", e2.token(botName), map[string]any{"recipient": map[string]any{"id": psid},
		"messaging_type": "RESPONSE", "message": map[string]any{"text": "pick", "quick_replies": []any{qr(long, "HUMAN")}}}), 100, 0)
}
