package simulator

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (e *env) wantControl(method, path, body string, want int) string {
	e.t.Helper()
	st, got := e.control(method, path, body)
	if st != want {
		e.t.Fatalf("%s %s: %d %s", method, path, st, got)
	}
	return got
}

func TestControlAPIWelcomeScreenAndTaps(t *testing.T) {
	e := newEnv(t, nil)
	prof, _ := json.Marshal(map[string]any{"profile": welcomeProfile})
	e.wantControl("POST", "/_sim/profile", string(prof), 200)
	body := e.wantControl("GET", "/_sim/profile", "", 200)
	if !strings.Contains(body, `"get_started":{"payload":"GET_STARTED"}`) {
		t.Fatalf("profile: %s", body)
	}
	// A hand edit beyond Meta's limits is refused with the Graph code.
	st, body := e.control("POST", "/_sim/profile", `{"profile":{"greeting":[{"locale":"en_US","text":"hi"}]}}`)
	if st != http.StatusConflict || !strings.Contains(body, `"code":100`) {
		t.Fatalf("bad hand edit: %d %s", st, body)
	}
	body = e.wantControl("GET", "/_sim/welcome?psid="+psid+"&format=text", "", 200)
	if !strings.Contains(body, "greeting: Hello Ada!") || !strings.Contains(body, "[Get Started]") {
		t.Fatalf("welcome text:\n%s", body)
	}
	body = e.wantControl("GET", "/_sim/welcome?psid="+psid, "", 200)
	var w WelcomeScreen
	if err := json.Unmarshal([]byte(body), &w); err != nil || len(w.Menu) != 2 {
		t.Fatalf("welcome json: %v %s", err, body)
	}
	e.wantControl("POST", "/_sim/customer/get_started", `{"psid":"`+psid+`"}`, 200)
	e.wantControl("POST", "/_sim/customer/menu", `{"psid":"`+psid+`","title":"Talk to a person"}`, 200)
	if pb := e.bot.ofKind("postback"); len(pb) != 2 || *pb[1].ev.Postback.Payload != "HANDOFF" {
		t.Fatalf("postbacks %+v", pb)
	}
	e.wantControl("POST", "/_sim/profile", `{"profile":{"ice_breakers":[{"question":"Track my order","payload":"TRACK"}]}}`, 200)
	e.wantControl("POST", "/_sim/customer/ice_breaker", `{"psid":"`+psid+`","title":"Track my order"}`, 200)
	e.wantControl("DELETE", "/_sim/profile", `{"fields":["ice_breakers"]}`, 200)
	if body := e.wantControl("GET", "/_sim/profile", "", 200); strings.Contains(body, "ice_breakers") {
		t.Fatalf("ice breakers not deleted: %s", body)
	}
	// A carousel card's button.
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": psid},
		"messaging_type": "RESPONSE", "message": generic(
			element("Red shoes", "42 EUR", postback("Buy", "BUY_RED")),
			element("Blue shoes", "40 EUR", postback("Buy", "BUY_BLUE")))}))
	// The thread keeps the cards as the customer sees them, in order, with their subtitles.
	msgs := e.sim.Messages(pageID, psid)
	if got := msgs[len(msgs)-1].Cards; len(got) != 2 || got[0] != (Card{Title: "Red shoes", Subtitle: "42 EUR"}) ||
		got[1] != (Card{Title: "Blue shoes", Subtitle: "40 EUR"}) {
		t.Fatalf("cards %+v", got)
	}
	e.wantControl("POST", "/_sim/customer/press", `{"psid":"`+psid+`","card":"Red shoes","title":"Buy"}`, 200)
	pb := e.bot.ofKind("postback")
	if last := pb[len(pb)-1]; *last.ev.Postback.Payload != "BUY_RED" {
		t.Fatalf("card press = %s", last.ev.raw)
	}
	e.wantControl("POST", "/_sim/customer/press", `{"psid":"`+psid+`","card":"Green shoes","title":"Buy"}`, 400)
}

func TestControlAPICustomerEventsInboxAndSettings(t *testing.T) {
	e := newEnv(t, nil)
	p := `"psid":"` + psid + `"`
	for _, c := range []struct{ path, body string }{
		{"/_sim/customer/say", `{` + p + `,"text":"hi"}`},
		{"/_sim/customer/attachment", `{` + p + `,"kind":"image","url":"https://example.com/a.png"}`},
		{"/_sim/customer/sticker", `{` + p + `,"sticker_id":"369239263222822"}`},
		{"/_sim/customer/referral", `{` + p + `,"ref":"ad-42","source":"ADS"}`},
		{"/_sim/customer/optin", `{` + p + `,"ref":"news"}`},
		{"/_sim/customer/post", `{` + p + `,"text":"A post"}`},
		{"/_sim/inbox/auto_reply", `{` + p + `,"text":"Automated"}`},
		{"/_sim/inbox/instant_reply", `{"text":"Thanks!"}`},
		{"/_sim/inbox/away_message", `{"text":"Away"}`},
		{"/_sim/inbox/away", `{"away":true}`},
		{"/_sim/pages/app_roles", `{"roles":{"bot":["primary_receiver"]}}`},
		{"/_sim/apps/bot/settings", `{"require_appsecret_proof":true}`},
	} {
		e.wantControl("POST", c.path, c.body, 200)
	}
	mid := e.sim.Messages(pageID, psid)[0].Mid
	e.wantControl("POST", "/_sim/customer/react", `{`+p+`,"mid":"`+mid+`","emoji":"👍"}`, 200)
	e.wantControl("POST", "/_sim/customer/edit", `{`+p+`,"mid":"`+mid+`","text":"hello"}`, 200)
	e.wantControl("POST", "/_sim/customer/delivered", `{`+p+`}`, 200)
	for _, key := range []string{"referral", "optin", "reaction", "message_edit", "app_roles", "delivery"} {
		if evs, _ := withKey(t, e.bot, key); len(evs) != 1 {
			t.Errorf("%s events: %d", key, len(evs))
		}
	}
	body := e.wantControl("GET", "/_sim/state", "", 200)
	if !strings.Contains(body, `"require_appsecret_proof":true`) || !strings.Contains(body, `"away":true`) {
		t.Fatalf("state: %s", body)
	}
	e.wantErr(e.call("GET", "/v25.0/me", e.token(botName), nil), 100, 0)
	e.wantControl("POST", "/_sim/customer/sticker", `{`+p+`,"sticker_id":"x"}`, 400)
	e.wantControl("POST", "/_sim/customer/dance", `{`+p+`}`, 404)
}

func TestControlAPITokensAndDeliveries(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxDeliveryAttempts = 1 })
	tok := e.token(botName)
	e.wantControl("POST", "/_sim/tokens/set", `{"app":"bot","expires_at":"2026-03-10T00:00:00Z","scopes":["pages_messaging"]}`, 200)
	d := e.debugToken(tok)
	if d["expires_at"] != json.Number(jsonInt(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC).Unix())) || len(d["scopes"].([]any)) != 1 {
		t.Fatalf("debug_token after tokens/set = %v", d)
	}
	e.wantControl("POST", "/_sim/tokens/set", `{"token":"`+tok+`","expires_at":"never"}`, 200)
	if d := e.debugToken(tok); d["expires_at"] != json.Number("0") {
		t.Fatalf("never expires = %v", d)
	}
	e.wantControl("POST", "/_sim/tokens/set", `{"token":"`+tok+`","expires_at":"tomorrow"}`, 400)
	// A failing body waits for its late attempt; duplicates on demand.
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 500, 0 })
	e.say("hi")
	if body := e.wantControl("GET", "/_sim/retries?app=bot", "", 200); !strings.Contains(body, `"pending":1`) {
		t.Fatalf("retries: %s", body)
	}
	if body := e.wantControl("GET", "/_sim/deliveries?app=bot", "", 200); !strings.Contains(body, `"next_attempt":"2026-03-01T12:01:00Z"`) {
		t.Fatalf("deliveries: %s", body)
	}
	e.bot.setAnswer(nil)
	e.wantControl("POST", "/_sim/duplicate_next", `{"n":1}`, 200)
	e.wantControl("POST", "/_sim/clock/advance", `{"duration":"1m"}`, 200)
	e.idle()
	if body := e.wantControl("GET", "/_sim/deliveries?app=bot", "", 200); !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("deliveries: %s", body)
	}
}

func TestControlAPITimelineLongPollAndStream(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	body := e.wantControl("GET", "/_sim/timeline?since=0", "", 200)
	var tl struct {
		Events []TimelineEvent `json:"events"`
		Next   int64           `json:"next"`
	}
	if err := json.Unmarshal([]byte(body), &tl); err != nil || len(tl.Events) == 0 || tl.Next != tl.Events[len(tl.Events)-1].Seq {
		t.Fatalf("timeline: %v %s", err, body)
	}
	// A long poll past the end waits for the next event.
	done := make(chan string, 1)
	go func() {
		_, b := e.control("GET", "/_sim/timeline?wait=10s&since="+jsonInt(tl.Next), "")
		done <- b
	}()
	e.wantOK(e.send(botName, "Hello"))
	if b := <-done; !strings.Contains(b, `"kind":"graph"`) && !strings.Contains(b, `"kind":"step"`) {
		t.Fatalf("long poll: %s", b)
	}
	// An empty wait answers with no events.
	last := e.sim.Timeline(0)
	body = e.wantControl("GET", "/_sim/timeline?wait=10ms&since="+jsonInt(last[len(last)-1].Seq), "", 200)
	if !strings.Contains(body, `"events":[]`) {
		t.Fatalf("empty long poll: %s", body)
	}
	e.wantControl("GET", "/_sim/timeline?since=x", "", 400)

	// Server-sent events, resumed after seq 1.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/_sim/timeline/stream", nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() && len(lines) < 3 {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 || lines[0] != "id: 2" || !strings.HasPrefix(lines[1], "event: ") || !strings.HasPrefix(lines[2], `data: {"seq":2,`) {
		t.Fatalf("stream: %q", lines)
	}
}
