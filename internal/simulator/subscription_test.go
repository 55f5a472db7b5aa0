package simulator

import (
	"net/url"
	"strings"
	"testing"
)

func TestAppSubscriptionRunsVerificationGET(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Apps[0].CallbackURL = "" }) // bot starts without a callback
	appToken := botID + "|" + botSec

	g := e.call("POST", "/v25.0/"+botID+"/subscriptions", appToken, map[string]any{
		"object": "page", "callback_url": e.bot.srv.URL + "/webhook", "verify_token": verifyTk,
		"fields": "messages,messaging_postbacks,messaging_handovers,standby,message_echoes"})
	e.wantOK(g)
	e.bot.mu.Lock()
	verifies := e.bot.verifies
	e.bot.mu.Unlock()
	if verifies != 1 {
		t.Fatalf("verification GETs = %d, want 1", verifies)
	}
	g = e.call("GET", "/v25.0/"+botID+"/subscriptions", appToken, nil)
	e.wantOK(g)
	data := g.body["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("subscriptions = %s", g.raw)
	}
	sub := data[0].(map[string]any)
	if sub["object"] != "page" || sub["callback_url"] != e.bot.srv.URL+"/webhook" || sub["active"] != true {
		t.Fatalf("subscription = %s", g.raw)
	}
	fields := sub["fields"].([]any)
	if len(fields) != 5 || fields[0].(map[string]any)["name"] != "messages" || fields[0].(map[string]any)["version"] != "v25.0" {
		t.Fatalf("fields = %v", fields)
	}

	// The Page-level subscription is still missing: nothing is delivered yet (§7.2 both levels).
	e.say("hello?")
	if n := len(e.bot.allPosts()); n != 0 {
		t.Fatalf("delivered without a Page subscription: %d posts", n)
	}
	// Preconfigured apps are subscribed to every page at start; the bot was not (no callback then).
	g = e.call("POST", "/v25.0/"+pageID+"/subscribed_apps", e.token(botName),
		map[string]any{"subscribed_fields": []string{"messages", "messaging_handovers", "standby", "message_echoes"}})
	e.wantOK(g)
	e.say("hello")
	msgs := e.bot.ofKind("message")
	if len(msgs) != 1 || msgs[0].ev.Message.Text != "hello" {
		t.Fatalf("bot got %v", e.bot.events())
	}
	g = e.call("GET", "/v25.0/me/subscribed_apps", e.token(botName), nil)
	e.wantOK(g)
	found := false
	for _, a := range g.body["data"].([]any) {
		m := a.(map[string]any)
		if m["id"] == botID && m["name"] == botName {
			found = true
		}
	}
	if !found {
		t.Fatalf("subscribed_apps does not list the bot: %s", g.raw)
	}
}

func TestVerificationFailureLeavesSubscriptionUnchanged(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Apps[0].CallbackURL = "" })
	appToken := botID + "|" + botSec
	cases := []struct {
		name  string
		reply func(q url.Values) (int, string)
	}{
		{"403 on wrong token", func(q url.Values) (int, string) { return 403, "" }},
		{"200 with another body", func(q url.Values) (int, string) { return 200, "ok" }},
		{"200 with challenge plus JSON quoting", func(q url.Values) (int, string) { return 200, `"` + q.Get("hub.challenge") + `"` }},
		{"500 with the challenge", func(q url.Values) (int, string) { return 500, q.Get("hub.challenge") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.bot.mu.Lock()
			e.bot.challengeReply = c.reply
			e.bot.mu.Unlock()
			g := e.call("POST", "/v25.0/"+botID+"/subscriptions", appToken, map[string]any{
				"object": "page", "callback_url": e.bot.srv.URL, "verify_token": "s3cret-verify", "fields": []string{"messages"}})
			e.wantErr(g, 2200, 0)
			if strings.Contains(string(g.raw), "s3cret-verify") {
				t.Fatalf("verify token leaked into the error: %s", g.raw)
			}
			g = e.call("GET", "/v25.0/"+botID+"/subscriptions", appToken, nil)
			if len(g.body["data"].([]any)) != 0 {
				t.Fatalf("a failed verification left a subscription: %s", g.raw)
			}
		})
	}
	// The real receiver rejects a wrong verify token with 403 -> 2200 too.
	e.bot.mu.Lock()
	e.bot.challengeReply = nil
	e.bot.mu.Unlock()
	g := e.call("POST", "/v25.0/"+botID+"/subscriptions", appToken, map[string]any{
		"object": "page", "callback_url": e.bot.srv.URL, "verify_token": "wrong", "fields": []string{"messages"}})
	e.wantErr(g, 2200, 0)
}

func TestSubscriptionTokenRules(t *testing.T) {
	e := newEnv(t, nil)
	// Page token on the app edge: code 15.
	e.wantErr(e.call("GET", "/v25.0/"+botID+"/subscriptions", e.token(botName), nil), 15, 0)
	// App token with a wrong secret: 190.
	e.wantErr(e.call("GET", "/v25.0/"+botID+"/subscriptions", botID+"|nope", nil), 190, 0)
	// App token on a Page edge: 210.
	e.wantErr(e.call("POST", "/v25.0/"+pageID+"/messages", botID+"|"+botSec, map[string]any{}), 210, 0)
	// Bad subscribed field: 100, nothing changed.
	e.wantErr(e.call("POST", "/v25.0/me/subscribed_apps", e.token(crmName), map[string]any{"subscribed_fields": "messages,bogus"}), 100, 0)
	// Missing subscribed_fields: 100.
	e.wantErr(e.call("POST", "/v25.0/me/subscribed_apps", e.token(crmName), map[string]any{}), 100, 0)
	// Form-encoded body, as most clients send it.
	tok := e.token(crmName)
	req := formRequest(t, e.srv.URL+"/v19.0/"+pageID+"/subscribed_apps", url.Values{"subscribed_fields": {"messages,standby"}, "access_token": {tok}})
	e.wantOK(e.do(req))
}

func TestPageFieldsFilterDeliveries(t *testing.T) {
	// crm has a callback but is subscribed to messages only: it never sees standby traffic.
	e := newEnv(t, func(o *Options) { o.Apps[1].Fields = []string{"messages"} })
	e.say("hi")
	e.idle()
	if n := len(e.crm.allPosts()); n != 0 {
		t.Fatalf("crm got %d posts without the standby field", n)
	}
	r := e.sim.Routed(crmName)
	if len(r) != 1 || r[0].Channel != ChannelStandby || r[0].ToCallback || r[0].Reason == "" {
		t.Fatalf("routed = %+v", r)
	}
	// DELETE subscribed_apps: the bot stops receiving.
	e.wantOK(e.call("DELETE", "/v25.0/me/subscribed_apps", e.token(botName), nil))
	before := len(e.bot.allPosts())
	e.say("anyone?")
	if len(e.bot.allPosts()) != before {
		t.Fatal("bot received after unsubscribing from the Page")
	}
}
