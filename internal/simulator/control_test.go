package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func (e *env) control(method, path string, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, nil)
	st, body := e.control("POST", "/_sim/customer/say", `{"psid":"`+psid+`","text":"hi"}`)
	if st != 200 || !strings.Contains(body, `"owner":"bot"`) {
		t.Fatalf("say: %d %s", st, body)
	}
	if m := e.bot.ofKind("message"); len(m) != 1 {
		t.Fatal("say via control API did not deliver before answering")
	}
	st, body = e.control("POST", "/_sim/app/bot/pass", `{"psid":"`+psid+`","target":"inbox","metadata":"handoff"}`)
	if st != 200 || !strings.Contains(body, `"owner":"inbox"`) {
		t.Fatalf("pass: %d %s", st, body)
	}
	// A refused scripted call answers 409 with the Graph code.
	st, body = e.control("POST", "/_sim/app/bot/send", `{"psid":"`+psid+`","text":"x"}`)
	if st != http.StatusConflict || !strings.Contains(body, `"subcode":2018300`) {
		t.Fatalf("refused send: %d %s", st, body)
	}
	if st, body = e.control("POST", "/_sim/inbox/reply", `{"psid":"`+psid+`","text":"Anna here"}`); st != 200 {
		t.Fatalf("reply: %d %s", st, body)
	}
	if st, body = e.control("POST", "/_sim/inbox/done", `{"psid":"`+psid+`"}`); st != 200 || !strings.Contains(body, `"owner":"bot"`) {
		t.Fatalf("done: %d %s", st, body)
	}
	st, body = e.control("GET", "/_sim/owner?psid="+psid, "")
	if st != 200 || !strings.Contains(body, `"owner":"bot"`) || !strings.Contains(body, botID) {
		t.Fatalf("owner: %d %s", st, body)
	}
	st, body = e.control("POST", "/_sim/clock/advance", `{"duration":"25h"}`)
	if st != 200 || !strings.Contains(body, "2026-03-02T13:00:00") {
		t.Fatalf("advance: %d %s", st, body)
	}
	_, body = e.control("GET", "/_sim/transcript?psid="+psid, "")
	for _, want := range []string{"customer  > hi", "inbox     < Anna here", "[owner: none]"} {
		if !strings.Contains(body, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, body)
		}
	}
	_, body = e.control("GET", "/_sim/transcript?format=json", "")
	var steps []Step
	if err := json.Unmarshal([]byte(body), &steps); err != nil || len(steps) < 5 {
		t.Fatalf("json transcript: %v %s", err, body)
	}
	// Faults and calls.
	if st, body = e.control("POST", "/_sim/faults", `{"endpoint":"messages","code":613}`); st != 200 {
		t.Fatalf("fault: %d %s", st, body)
	}
	e.say("back")
	if c, _ := e.send(botName, "x").code(); c != 613 {
		t.Fatal("fault from control API not applied")
	}
	_, body = e.control("GET", "/_sim/calls?endpoint=messages", "")
	if !strings.Contains(body, `"count":1`) {
		t.Fatalf("calls: %s", body)
	}
	// Tokens: issue one, use it, revoke it.
	_, body = e.control("POST", "/_sim/tokens/issue", `{"app":"bot"}`)
	var tok struct{ Token string }
	_ = json.Unmarshal([]byte(body), &tok)
	e.wantOK(e.send2(tok.Token, "with issued token"))
	if st, body = e.control("POST", "/_sim/tokens/revoke", `{"token":"`+tok.Token+`"}`); st != 200 {
		t.Fatalf("revoke: %d %s", st, body)
	}
	e.wantErr(e.send2(tok.Token, "again"), 190, 460)
	// Messages, state without secrets, unknown routes.
	_, body = e.control("GET", "/_sim/messages?psid="+psid, "")
	if !strings.Contains(body, "with issued token") {
		t.Fatalf("messages: %s", body)
	}
	_, body = e.control("GET", "/_sim/state", "")
	if strings.Contains(body, botSec) || strings.Contains(body, crmSec) || !strings.Contains(body, `"default_app":"bot"`) {
		t.Fatalf("state: %s", body)
	}
	if st, _ = e.control("GET", "/_sim/nope", ""); st != 404 {
		t.Fatalf("unknown route: %d", st)
	}
	if st, _ = e.control("POST", "/_sim/customer/say", `{"text":"no psid"}`); st != 400 {
		t.Fatalf("missing psid: %d", st)
	}
	if st, _ = e.control("POST", "/_sim/customer/say", `{not json`); st != 400 {
		t.Fatalf("bad json: %d", st)
	}
	// Hold / flush / wait_idle.
	e.control("POST", "/_sim/hold", "")
	e.control("POST", "/_sim/customer/say", `{"psid":"`+psid+`","text":"a"}`)
	e.control("POST", "/_sim/customer/say", `{"psid":"`+psid+`","text":"b"}`)
	before := len(e.bot.allPosts())
	e.control("POST", "/_sim/flush", "")
	if st, body = e.control("POST", "/_sim/wait_idle", `{"timeout":"5s"}`); st != 200 {
		t.Fatalf("wait_idle: %d %s", st, body)
	}
	if got := len(e.bot.allPosts()) - before; got != 1 {
		t.Fatalf("flush posts = %d, want 1", got)
	}
	_, body = e.control("GET", "/_sim/deliveries?app=bot", "")
	if !strings.Contains(body, `"attempt":1`) {
		t.Fatalf("deliveries: %s", body)
	}
}

func (e *env) send2(tok, text string) graphResp {
	return e.call("POST", "/v25.0/me/messages", tok, map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE", "message": map[string]any{"text": text}})
}
