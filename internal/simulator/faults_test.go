package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestFaultBurstThenSuccess(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	if err := e.sim.InjectFault(Fault{Endpoint: EndpointMessages, Times: 2, Code: 2}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		g := e.send(botName, "hello")
		c, _ := g.code()
		if g.status != http.StatusServiceUnavailable || c != 2 || g.body["error"].(map[string]any)["is_transient"] != true {
			t.Fatalf("attempt %d: %d %s", i, g.status, g.raw)
		}
	}
	e.wantOK(e.send(botName, "hello"))
	if n := e.sim.Calls(EndpointMessages); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
	if got := countFrom(e.sim.Messages(pageID, psid), botName); got != 1 {
		t.Fatalf("bot messages = %d, want exactly 1", got)
	}
	log := e.sim.CallLog()
	if !log[0].Fault || log[0].Code != 2 || log[2].Fault || log[2].Status != 200 || log[2].App != botName {
		t.Fatalf("call log = %+v", log)
	}
}

func TestRateLimitAndStatusFaults(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	for _, code := range []int{4, 17, 32, 613} {
		_ = e.sim.InjectFault(Fault{Endpoint: EndpointPass, Code: code})
		g := e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID})
		if c, _ := g.code(); c != code || g.status != 400 {
			t.Fatalf("code %d: %d %s", code, g.status, g.raw)
		}
		e.wantOwner(botName) // no effect
	}
	_ = e.sim.InjectFault(Fault{Endpoint: EndpointAny, Status: 502})
	if g := e.send(botName, "x"); g.status != 502 {
		t.Fatalf("status fault: %d %s", g.status, g.raw)
	}
	// App filter: only crm's calls fail.
	_ = e.sim.InjectFault(Fault{Endpoint: EndpointThreadOwner, App: crmName, Code: 1})
	e.wantOK(e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(botName), nil))
	if c, _ := e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(crmName), nil).code(); c != 1 {
		t.Fatal("app-filtered fault not applied to crm")
	}
	if err := e.sim.InjectFault(Fault{Endpoint: EndpointMessages}); err == nil {
		t.Fatal("a fault without effect was accepted")
	}
}

func TestTimeoutAfterSending(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	_ = e.sim.InjectFault(Fault{Endpoint: EndpointMessages, AfterEffect: true})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	body, _ := json.Marshal(map[string]any{"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message": map[string]any{"text": "sent once"}})
	req, _ := http.NewRequest("POST", e.srv.URL+"/v25.0/me/messages?access_token="+url.QueryEscape(e.token(botName)), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	_, err := client.Do(req)
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("want a client timeout, got %v", err)
	}
	// The message was accepted (and echoed) although the client saw a timeout.
	e.idle()
	if got := countFrom(e.sim.Messages(pageID, psid), botName); got != 1 {
		t.Fatalf("bot messages = %d, want 1", got)
	}
	if len(e.bot.ofKind("echo")) != 1 {
		t.Fatal("no echo for the hung send")
	}
	if err := e.sim.Await(e.ctx(), func() bool { return e.sim.Calls(EndpointMessages) == 1 }); err != nil {
		t.Fatal(err)
	}
	if c := e.sim.CallLog()[0]; !c.Hung || !c.Fault {
		t.Fatalf("call = %+v", c)
	}
	// The fault is used up: the next call answers normally.
	e.wantOK(e.send(botName, "second"))
}

func countFrom(msgs []Message, from string) int {
	n := 0
	for _, m := range msgs {
		if m.From == from {
			n++
		}
	}
	return n
}
