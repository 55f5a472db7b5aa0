package simulator

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSendRatePerSecondOnTheSimulatorClock(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits = Limits{SendsPerSecond: 3, MediaSendsPerSecond: 1} })
	e.say("hi")
	for i := range 3 {
		e.wantOK(e.send(botName, "reply "+string(rune('a'+i))))
	}
	g := e.send(botName, "one too many")
	e.wantErr(g, 613, 0)
	if g.body["error"].(map[string]any)["is_transient"] != true {
		t.Fatalf("613 not transient: %s", g.raw)
	}
	// Another app has its own budget; the clock standing still keeps ours spent.
	e.wantErr(e.send(botName, "still"), 613, 0)
	e.advance(time.Second)
	e.wantOK(e.send(botName, "a second later"))
	// Audio and video have the lower rate.
	video := func() graphResp {
		return e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": psid},
			"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "video",
				"payload": map[string]any{"url": "https://example.com/v.mp4"}}}})
	}
	e.wantOK(video())
	e.wantErr(video(), 613, 0)
	if n := len(e.sim.Messages(pageID, psid)); n != 6 {
		t.Fatalf("accepted messages = %d, want 6 (refused sends are not sent)", n)
	}
}

func TestDefaultLimitsAreMetas(t *testing.T) {
	var l Limits
	l.applyDefaults()
	if l != (Limits{SendsPerSecond: 300, MediaSendsPerSecond: 10, CallsPerEngagedUser: 200}) {
		t.Fatalf("defaults %+v", l)
	}
}

type bucUsage map[string][]struct {
	Type      string `json:"type"`
	CallCount int    `json:"call_count"`
	CPU       int    `json:"total_cputime"`
	Time      int    `json:"total_time"`
	Regain    int    `json:"estimated_time_to_regain_access"`
}

func usageOf(t *testing.T, g graphResp) (int, int) {
	t.Helper()
	h := g.header.Get("X-Business-Use-Case-Usage")
	var u bucUsage
	if err := json.Unmarshal([]byte(h), &u); err != nil || len(u[pageID]) != 1 || u[pageID][0].Type != "messenger" {
		t.Fatalf("X-Business-Use-Case-Usage = %q", h)
	}
	return u[pageID][0].CallCount, u[pageID][0].Regain
}

func TestBusinessUseCaseLimitPerEngagedUser(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Limits = Limits{CallsPerEngagedUser: 4}
		o.Pages[0].Users = append(o.Pages[0].Users, UserConfig{PSID: psid2})
	})
	e.say("hi") // one engaged user: 4 calls a day
	owner := func() graphResp {
		return e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(botName), nil)
	}
	for i := 1; i <= 4; i++ {
		g := owner()
		e.wantOK(g)
		if pct, regain := usageOf(t, g); pct != i*25 || (regain != 0) != (i == 4) {
			t.Fatalf("call %d: usage %d%%, regain %d", i, pct, regain)
		}
	}
	g := owner()
	e.wantErr(g, 80006, 0)
	if pct, regain := usageOf(t, g); pct != 100 || regain != 24*60 {
		t.Fatalf("throttled: usage %d%%, regain %d min", pct, regain)
	}
	// A second person writes: the budget doubles.
	if err := e.sim.Customer(pageID, psid2).Say("hello"); err != nil {
		t.Fatal(err)
	}
	e.wantOK(owner())
	// Another app's budget is its own; app tokens are not under the Page's BUC.
	if g := e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(crmName), nil); g.status != 200 {
		t.Fatalf("crm throttled: %s", g.raw)
	}
	if g := e.call("GET", "/v25.0/"+botID+"/subscriptions", botID+"|"+botSec, nil); g.header.Get("X-Business-Use-Case-Usage") != "" {
		t.Fatal("usage header on an app-token call")
	}
	// A day later the calls have left the rolling window (the engaged users too: at least 1 counts).
	e.advance(24 * time.Hour)
	e.wantOK(owner())
}
