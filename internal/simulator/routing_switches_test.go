package simulator

import (
	"testing"
)

// sendButton makes the bot send a postback button titled Agent with payload HANDOFF.
func (e *env) sendButton() {
	e.t.Helper()
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message": map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "button", "text": "Need help?", "buttons": []any{
				map[string]any{"type": "postback", "title": "Agent", "payload": "HANDOFF"}}}}}}))
}

// The bot's button pressed while the inbox owns the thread: on standby the bot gets the title
// only, unless Behaviour.StandbyPostbackPayload (reference §3.3, §3.4).
func TestStandbyPostbackPayloadSwitch(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Behaviour.StandbyPostbackPayload = on })
		e.say("hi")
		e.sendButton()
		e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
		if err := e.sim.Customer(pageID, psid).Press("Agent"); err != nil {
			t.Fatal(err)
		}
		pb := e.bot.ofKind("postback")
		last := pb[len(pb)-1]
		if last.channel != "standby" || last.ev.Postback.Title != "Agent" || (last.ev.Postback.Payload != nil) != on {
			t.Fatalf("switch %v: standby postback = %s", on, last.ev.raw)
		}
		if on && *last.ev.Postback.Payload != "HANDOFF" {
			t.Fatalf("payload = %s", last.ev.raw)
		}
		// crm did not send the button: no payload either way.
		pc := e.crm.ofKind("postback")
		if pc[len(pc)-1].ev.Postback.Payload != nil {
			t.Fatalf("crm got the bot's payload: %s", pc[len(pc)-1].ev.raw)
		}
	}
}

// take and request on the thread of a person who blocked the Page are refused with 551 like
// sends; pass still works (Behaviour.HandoverIgnoresUnavailable lets them through).
func TestHandoverOnAnUnavailablePerson(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Behaviour.HandoverIgnoresUnavailable = ignore })
		e.say("hi")
		e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
		if err := e.sim.Customer(pageID, psid).SetUnavailable(true); err != nil {
			t.Fatal(err)
		}
		g := e.handover(botName, "take_thread_control", nil)
		if ignore {
			e.wantOK(g)
			continue
		}
		e.wantErr(g, 551, 1545041)
		e.wantOwner(InboxName)
		if err := e.sim.Inbox(pageID).Pass(psid, botName, ""); err != nil {
			t.Fatalf("pass to an unavailable person's thread: %v", err)
		}
		e.wantOwner(botName)
	}
}

// A Standard Access app reaches only people with a role on it: the others' events do not reach
// it, its sends and takes on their threads fail with 200/2018028 (reference §2.3, §4.3).
func TestStandardAccessApp(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Apps[0].StandardAccess = true
		o.Pages[0].Users = append(o.Pages[0].Users, UserConfig{PSID: psid2, AppRoles: []string{botName}})
	})
	e.say("hi")
	if n := len(e.bot.allPosts()); n != 0 {
		t.Fatalf("the bot heard from a person without a role: %d posts", n)
	}
	if r := e.sim.Routed(botName); len(r) != 1 || r[0].ToCallback || r[0].Reason == "" {
		t.Fatalf("routed = %+v", r)
	}
	e.wantErr(e.send(botName, "hello"), 200, 2018028)
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	e.wantErr(e.handover(botName, "take_thread_control", nil), 200, 2018028)
	// The developer (a role on the app) is heard and answered.
	if err := e.sim.Customer(pageID, psid2).Say("it's me"); err != nil {
		t.Fatal(err)
	}
	if m := e.bot.ofKind("message"); len(m) != 1 || idOf(m[0].ev.Sender.ID) != psid2 {
		t.Fatalf("bot messages = %+v", m)
	}
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid2}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "hi dev"}}))
}

func TestThreadOwnerFlatSwitch(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behaviour.ThreadOwnerFlat = true })
	e.say("hi")
	g := e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(botName), nil)
	e.wantOK(g)
	to, ok := g.body["thread_owner"].(map[string]any)
	if !ok || to["app_id"] != botID || g.body["data"] != nil {
		t.Fatalf("flat answer = %s", g.raw)
	}
}
