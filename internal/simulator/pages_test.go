package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const page2 = "1000000000000002"

func TestOnePostCarriesEntriesOfSeveralPages(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Pages = append(o.Pages, PageConfig{ID: page2, DefaultApp: botName})
	})
	e.sim.Hold()
	_ = e.sim.Customer(pageID, psid).Say("page one")
	_ = e.sim.Customer(page2, psid2).Say("page two")
	e.sim.Flush()
	e.idle()
	posts := e.bot.allPosts()
	if len(posts) != 1 {
		t.Fatalf("posts = %d", len(posts))
	}
	evs := decodeEvents(t, posts[0].body)
	if len(evs) != 2 || evs[0].page != pageID || evs[1].page != page2 || idOf(evs[1].ev.Recipient.ID) != page2 {
		t.Fatalf("body = %s", posts[0].body)
	}
	// Tokens are per (app, page): page one's token cannot act on page two.
	g := e.call("POST", "/v25.0/"+page2+"/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid2}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}})
	e.wantErr(g, 100, 33)
	tok2, err := e.sim.PageToken(botName, page2)
	if err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.call("POST", "/v25.0/me/messages", tok2, map[string]any{
		"recipient": map[string]any{"id": psid2}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}))
}

func TestInboxAsDefaultApp(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Pages[0].DefaultApp = InboxName })
	e.say("hi")
	e.wantOwner(InboxName)
	if m := e.bot.ofKind("message"); len(m) != 1 || m[0].channel != "standby" {
		t.Fatalf("bot got %+v", m)
	}
	if err := e.sim.Inbox(pageID).Done(psid); err != nil {
		t.Fatal(err)
	}
	e.wantOwner("none")
	e.wantOK(e.handover(botName, "take_thread_control", nil))
	e.wantOwner(botName)
}

func TestNewRejectsBadOptions(t *testing.T) {
	good := AppConfig{ID: "1", Name: "a", Secret: "s"}
	cases := map[string]Options{
		"no pages":           {Apps: []AppConfig{good}},
		"app without secret": {Pages: []PageConfig{{ID: "p"}}, Apps: []AppConfig{{ID: "1"}}},
		"inbox id reused":    {Pages: []PageConfig{{ID: "p"}}, Apps: []AppConfig{{ID: InboxAppID, Secret: "s"}}},
		"reserved name":      {Pages: []PageConfig{{ID: "p"}}, Apps: []AppConfig{{ID: "1", Name: "customer", Secret: "s"}}},
		"unknown default":    {Pages: []PageConfig{{ID: "p", DefaultApp: "ghost"}}, Apps: []AppConfig{good}},
		"unknown connected":  {Pages: []PageConfig{{ID: "p", Apps: []string{"ghost"}}}, Apps: []AppConfig{good}},
		"token for stranger": {Pages: []PageConfig{{ID: "p"}}, Apps: []AppConfig{good}, Tokens: []TokenConfig{{App: "ghost", Page: "p", Token: "t"}}},
	}
	for name, o := range cases {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestConcurrentTraffic drives customers, the Graph API and deliveries at once (for -race).
func TestConcurrentTraffic(t *testing.T) {
	e := newEnv(t, nil)
	tok := url.QueryEscape(e.token(botName))
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		id := fmt.Sprintf("3000000000000000%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.sim.Customer(pageID, id)
			for j := 0; j < 5; j++ {
				if err := c.Say(fmt.Sprintf("msg %d", j)); err != nil {
					t.Error(err)
					return
				}
				body := `{"recipient":{"id":"` + id + `"},"messaging_type":"RESPONSE","message":{"text":"ok"}}`
				resp, err := http.Post(e.srv.URL+"/v25.0/me/messages?access_token="+tok, "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("send: %d", resp.StatusCode)
				}
				_ = e.sim.Transcript()
			}
		}()
	}
	wg.Wait()
	e.idle()
	if n := len(e.bot.ofKind("echo")); n != 20 {
		t.Fatalf("echoes = %d, want 20", n)
	}
	if n := e.sim.Calls(EndpointMessages); n != 20 {
		t.Fatalf("calls = %d", n)
	}
}
