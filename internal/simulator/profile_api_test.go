package simulator

import (
	"encoding/json"
	"strings"
	"testing"
)

func (e *env) profilePost(body map[string]any) graphResp {
	return e.call("POST", "/v25.0/me/messenger_profile", e.token(botName), body)
}

func (e *env) profileGet(fields string) graphResp {
	return e.call("GET", "/v25.0/me/messenger_profile?fields="+fields, e.token(botName), nil)
}

var welcomeProfile = map[string]any{
	"get_started": map[string]any{"payload": "GET_STARTED"},
	"greeting": []any{
		map[string]any{"locale": "default", "text": "Hello {{user_first_name}}!"},
		map[string]any{"locale": "fr_FR", "text": "Bonjour {{user_first_name}} !"},
	},
	"persistent_menu": []any{map[string]any{"locale": "default", "composer_input_disabled": false, "call_to_actions": []any{
		map[string]any{"type": "postback", "title": "Talk to a person", "payload": "HANDOFF"},
		map[string]any{"type": "web_url", "title": "Opening hours", "url": "https://shop.example/hours"},
	}}},
	"whitelisted_domains": []any{"https://shop.example"},
}

func TestMessengerProfileSetGetDelete(t *testing.T) {
	e := newEnv(t, nil)
	g := e.profileGet("get_started,greeting")
	e.wantOK(g)
	if d := g.body["data"].([]any); len(d) != 0 {
		t.Fatalf("a new Page's profile = %s", g.raw)
	}
	g = e.profilePost(welcomeProfile)
	e.wantOK(g)
	if g.body["result"] != "success" {
		t.Fatalf("POST answer = %s", g.raw)
	}
	g = e.profileGet("get_started,greeting,persistent_menu,whitelisted_domains,ice_breakers")
	data := g.body["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("GET = %s", g.raw)
	}
	d := data[0].(map[string]any)
	if d["get_started"].(map[string]any)["payload"] != "GET_STARTED" || len(d["greeting"].([]any)) != 2 || d["ice_breakers"] != nil {
		t.Fatalf("GET = %s", g.raw)
	}
	item := d["persistent_menu"].([]any)[0].(map[string]any)["call_to_actions"].([]any)[0].(map[string]any)
	if item["payload"] != "HANDOFF" || item["title"] != "Talk to a person" || item["type"] != "postback" {
		t.Fatalf("menu item = %v", item)
	}
	// A POST leaves the properties it does not name.
	e.wantOK(e.profilePost(map[string]any{"ice_breakers": []any{map[string]any{"question": "Where is my order?", "payload": "ORDER"}}}))
	g = e.profileGet("greeting,ice_breakers")
	if d := g.body["data"].([]any)[0].(map[string]any); d["greeting"] == nil || d["ice_breakers"] == nil {
		t.Fatalf("GET after a partial POST = %s", g.raw)
	}
	// DELETE removes the fields named; Get Started cannot go while the menu needs it.
	g = e.call("DELETE", "/v25.0/me/messenger_profile", e.token(botName), map[string]any{"fields": []string{"get_started"}})
	e.wantErr(g, 100, 0)
	e.wantOK(e.call("DELETE", "/v25.0/me/messenger_profile", e.token(botName), map[string]any{"fields": []string{"persistent_menu", "get_started"}}))
	g = e.profileGet("get_started,persistent_menu,greeting")
	if d := g.body["data"].([]any)[0].(map[string]any); d["get_started"] != nil || d["persistent_menu"] != nil || d["greeting"] == nil {
		t.Fatalf("GET after DELETE = %s", g.raw)
	}
	// The transcript shows the writes.
	steps := e.sim.Transcript().Kinds(StepProfile)
	if len(steps) != 3 || steps[0].Actor != botName || !strings.Contains(steps[0].Text, "greeting") {
		t.Fatalf("profile steps = %+v", steps)
	}
}

func TestMessengerProfileLimits(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("x", maxGreeting+1)
	menu := func(n int) []any {
		var items []any
		for range n {
			items = append(items, map[string]any{"type": "postback", "title": "Item", "payload": "P"})
		}
		return []any{map[string]any{"locale": "default", "call_to_actions": items}}
	}
	gs := map[string]any{"payload": "GS"}
	for name, body := range map[string]map[string]any{
		"greeting too long":       {"greeting": []any{map[string]any{"locale": "default", "text": long}}},
		"greeting no default":     {"greeting": []any{map[string]any{"locale": "en_US", "text": "hi"}}},
		"five ice breakers":       {"ice_breakers": []any{qb(), qb(), qb(), qb(), qb()}},
		"ice breaker forms mixed": {"ice_breakers": []any{qb(), map[string]any{"locale": "default", "call_to_actions": []any{qb()}}}},
		"menu without get_start":  {"persistent_menu": menu(1)},
		"menu of 21":              {"get_started": gs, "persistent_menu": menu(21)},
		"nested menu": {"get_started": gs, "persistent_menu": []any{map[string]any{"locale": "default",
			"call_to_actions": []any{map[string]any{"type": "nested", "title": "More"}}}}},
		"menu title too long": {"get_started": gs, "persistent_menu": []any{map[string]any{"locale": "default",
			"call_to_actions": []any{map[string]any{"type": "postback", "title": strings.Repeat("t", 31), "payload": "P"}}}}},
		"http domain":   {"whitelisted_domains": []any{"http://shop.example"}},
		"unknown field": {"home_screen": true},
		"empty":         {},
	} {
		g := e.profilePost(body)
		c, _ := g.code()
		if g.status != 400 || c != 100 || !strings.Contains(string(g.raw), `"type":"OAuthException"`) {
			t.Errorf("%s: %d %s", name, g.status, g.raw)
		}
	}
	// Nothing was set by the refused POSTs.
	if d := e.profileGet(strings.Join(profileFields, ",")).body["data"].([]any); len(d) != 0 {
		t.Fatalf("refused POSTs changed the profile: %v", d)
	}
	// The localised ice breakers and a 20-item menu are fine; GET needs fields.
	e.wantOK(e.profilePost(map[string]any{"get_started": gs, "persistent_menu": menu(20),
		"ice_breakers": []any{map[string]any{"locale": "default", "call_to_actions": []any{qb(), qb(), qb(), qb()}}}}))
	e.wantErr(e.call("GET", "/v25.0/me/messenger_profile", e.token(botName), nil), 100, 0)
	e.wantErr(e.profileGet("shoe_size"), 100, 0)
}

func qb() map[string]any { return map[string]any{"question": "Where is my order?", "payload": "ORDER"} }

func TestWelcomeScreenAndTaps(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Pages[0].Users = append(o.Pages[0].Users, UserConfig{PSID: psid2, FirstName: "Jeanne", Locale: "fr_FR"})
	})
	e.wantOK(e.profilePost(welcomeProfile))
	w, err := e.sim.WelcomeScreen(pageID, psid, "")
	if err != nil {
		t.Fatal(err)
	}
	if w.Greeting != "Hello Ada!" || !w.GetStarted || len(w.Menu) != 2 || w.Menu[1].URL != "https://shop.example/hours" {
		t.Fatalf("welcome = %+v", w)
	}
	if w2, _ := e.sim.WelcomeScreen(pageID, psid2, ""); w2.Greeting != "Bonjour Jeanne !" || len(w2.Menu) != 2 {
		t.Fatalf("French welcome = %+v", w2)
	}
	if s := w.String(); !strings.Contains(s, "[Get Started]") || !strings.Contains(s, "menu: Talk to a person (HANDOFF)") {
		t.Fatalf("rendered:\n%s", s)
	}
	c := e.sim.Customer(pageID, psid)
	if err := c.GetStarted(); err != nil {
		t.Fatal(err)
	}
	pb := e.bot.ofKind("postback")
	if len(pb) != 1 || pb[0].channel != "messaging" || *pb[0].ev.Postback.Payload != "GET_STARTED" {
		t.Fatalf("get started = %+v", pb)
	}
	e.wantOwner(botName)
	// The menu's "Talk to a person" while the inbox owns the thread: the bot, on standby, gets the
	// title only.
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	if err := c.TapMenu("Talk to a person"); err != nil {
		t.Fatal(err)
	}
	pb = e.bot.ofKind("postback")
	if last := pb[len(pb)-1]; last.channel != "standby" || last.ev.Postback.Title != "Talk to a person" || last.ev.Postback.Payload != nil {
		t.Fatalf("menu tap on standby = %s", last.ev.raw)
	}
	before := len(e.bot.allPosts())
	if err := c.TapMenu("Opening hours"); err != nil || len(e.bot.allPosts()) != before {
		t.Fatalf("a URL item sent a webhook (%v)", err)
	}
	if err := c.TapMenu("Nope"); err == nil {
		t.Fatal("tapped a missing menu item")
	}
	// API ice breakers take the Get Started button's place.
	e.wantOK(e.profilePost(map[string]any{"ice_breakers": []any{qb()}}))
	if w, _ := e.sim.WelcomeScreen(pageID, psid, ""); w.GetStarted || len(w.IceBreakers) != 1 {
		t.Fatalf("welcome with ice breakers = %+v", w)
	}
	if err := e.sim.Inbox(pageID).Done(psid); err != nil {
		t.Fatal(err)
	}
	if err := c.TapIceBreaker("Where is my order?"); err != nil {
		t.Fatal(err)
	}
	pb = e.bot.ofKind("postback")
	if last := pb[len(pb)-1]; last.channel != "messaging" || last.ev.Postback.Title != "Where is my order?" || *last.ev.Postback.Payload != "ORDER" {
		t.Fatalf("ice breaker tap = %s", last.ev.raw)
	}
	// A hand edit at Meta goes through the same limits.
	if err := e.sim.SetProfile(pageID, map[string]json.RawMessage{"greeting": json.RawMessage(`[{"locale":"default","text":"Hi!"}]`)}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetProfile(pageID, map[string]json.RawMessage{"greeting": json.RawMessage(`[{"locale":"en_US","text":"Hi!"}]`)}); err == nil {
		t.Fatal("a hand edit without default locale accepted")
	}
	if w, _ := e.sim.WelcomeScreen(pageID, psid, ""); w.Greeting != "Hi!" {
		t.Fatalf("greeting after the hand edit = %q", w.Greeting)
	}
	if err := e.sim.DeleteProfile(pageID, "ice_breakers"); err != nil {
		t.Fatal(err)
	}
	// No Get Started on a Page without it.
	e2 := newEnv(t, nil)
	if err := e2.sim.Customer(pageID, psid).GetStarted(); err == nil {
		t.Fatal("Get Started tapped on a Page without the button")
	}
}
