package simulator

import (
	"strings"
	"testing"
	"time"
)

func TestMessagingToOwnerStandbyToOthers(t *testing.T) {
	e := newEnv(t, nil)
	e.wantOwner("none")
	e.say("hi") // idle thread: social routing gives it to the default app
	e.wantOwner(botName)
	b, c := e.bot.ofKind("message"), e.crm.ofKind("message")
	if len(b) != 1 || b[0].channel != "messaging" || idOf(b[0].ev.Recipient.ID) != pageID || b[0].page != pageID {
		t.Fatalf("bot got %+v", b)
	}
	if len(c) != 1 || c[0].channel != "standby" || c[0].ev.Message.Text != "hi" || c[0].ev.Message.Mid != b[0].ev.Message.Mid {
		t.Fatalf("crm got %+v", c)
	}
	// The owner changes: the channels swap.
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID}))
	e.say("still there?")
	if got := e.bot.ofKind("message"); got[len(got)-1].channel != "standby" {
		t.Fatal("bot still on messaging after passing")
	}
	if got := e.crm.ofKind("message"); got[len(got)-1].channel != "messaging" {
		t.Fatal("crm not on messaging after receiving control")
	}
}

func TestEchoesGoToEveryAppWithTheSendersAppID(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	g := e.call("POST", "/v25.0/"+pageID+"/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message": map[string]any{"text": "Hello!", "metadata": "bot:greeting"}})
	e.wantOK(g)
	if g.body["recipient_id"] != psid || !strings.HasPrefix(g.body["message_id"].(string), "m_") {
		t.Fatalf("send answer = %s", g.raw)
	}
	e.idle()
	be, ce := e.bot.ofKind("echo"), e.crm.ofKind("echo")
	if len(be) != 1 || be[0].channel != "messaging" || idOf(be[0].ev.Message.AppID) != botID || be[0].ev.Message.Metadata != "bot:greeting" {
		t.Fatalf("bot echo = %s", be[0].ev.raw)
	}
	if be[0].ev.Message.Mid != g.body["message_id"] || idOf(be[0].ev.Sender.ID) != pageID || idOf(be[0].ev.Recipient.ID) != psid {
		t.Fatalf("echo mid/sender/recipient wrong: %s", be[0].ev.raw)
	}
	if len(ce) != 1 || ce[0].channel != "standby" || idOf(ce[0].ev.Message.AppID) != botID {
		t.Fatalf("crm echo = %+v", ce)
	}
	// The agent replies in the inbox: echoes carry the inbox app id, to every app.
	if err := e.sim.Inbox(pageID).Reply(psid, "Anna here"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*receiver{e.bot, e.crm} {
		got := r.ofKind("echo")
		last := got[len(got)-1]
		if idOf(last.ev.Message.AppID) != InboxAppID || last.ev.Message.Text != "Anna here" || last.channel != "standby" {
			t.Fatalf("inbox echo = %s (%s)", last.ev.raw, last.channel)
		}
	}
}

func TestPassThreadControl(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	// Non-owner pass: 2534037, nothing changes.
	e.wantErr(e.handover(crmName, "pass_thread_control", map[string]any{"target_app_id": crmID}), 100, 2534037)
	// Pass to self, to an unknown app: 100.
	e.wantErr(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": botID}), 100, 0)
	e.wantErr(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": "263902037438966"}), 100, 0)
	e.wantOwner(botName)

	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID, "metadata": "needs a human"}))
	e.wantOwner(InboxName)
	// Sending now fails with 2018300 (exclusive control).
	e.wantErr(e.send(botName, "are you there?"), 10, 2018300)
	if n := len(e.sim.Messages(pageID, psid)); n != 1 {
		t.Fatalf("refused send was recorded: %d messages", n)
	}
	// The agent is done: the default app gets pass_thread_control from the inbox.
	if err := e.sim.Inbox(pageID).Done(psid); err != nil {
		t.Fatal(err)
	}
	e.wantOwner(botName)
	p := e.bot.ofKind("pass")
	if len(p) != 1 || p[0].channel != "messaging" || idOf(p[0].ev.Pass.PreviousOwnerAppID) != InboxAppID || idOf(p[0].ev.Pass.NewOwnerAppID) != botID {
		t.Fatalf("bot pass events = %+v", p)
	}
	// Pass to crm with metadata: crm is told, with the previous owner.
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID, "metadata": "order 42"}))
	cp := e.crm.ofKind("pass")
	if len(cp) != 1 || idOf(cp[0].ev.Pass.PreviousOwnerAppID) != botID || idOf(cp[0].ev.Pass.NewOwnerAppID) != crmID || cp[0].ev.Pass.Metadata != "order 42" {
		t.Fatalf("crm pass = %+v", cp)
	}
	if len(e.bot.ofKind("pass")) != 1 {
		t.Fatal("the passing app was notified of its own pass")
	}
	// Without target_app_id the thread goes to the default app.
	e.wantOK(e.handover(crmName, "pass_thread_control", nil))
	e.wantOwner(botName)
}

func TestPassFromIdleHasNullPreviousOwner(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantOK(e.handover(botName, "release_thread_control", nil))
	e.wantOwner("none")
	e.wantOK(e.handover(crmName, "pass_thread_control", map[string]any{"target_app_id": botID}))
	p := e.bot.ofKind("pass")
	if len(p) != 1 || p[0].ev.Pass.PreviousOwnerAppID != nil || !strings.Contains(string(p[0].ev.raw), `"previous_owner_app_id":null`) {
		t.Fatalf("pass from idle = %s", p[0].ev.raw)
	}
}

func TestTakeThreadControl(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Apps[1].CanTake = false })
	e.say("hi")
	// crm lacks the take permission: refused, nothing changes.
	e.wantErr(e.handover(crmName, "take_thread_control", nil), 10, 0)
	// The owner cannot take what it has.
	e.wantErr(e.handover(botName, "take_thread_control", nil), 100, 0)
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID}))
	// The bot may take: crm (previous owner) gets take_thread_control.
	e.wantOK(e.handover(botName, "take_thread_control", map[string]any{"metadata": "customer asked for the bot"}))
	e.wantOwner(botName)
	tk := e.crm.ofKind("take")
	if len(tk) != 1 || tk[0].channel != "messaging" || idOf(tk[0].ev.Take.PreviousOwnerAppID) != crmID ||
		idOf(tk[0].ev.Take.NewOwnerAppID) != botID || tk[0].ev.Take.Metadata != "customer asked for the bot" {
		t.Fatalf("crm take = %+v", tk)
	}
	if len(e.bot.ofKind("take")) != 0 {
		t.Fatal("the taker was notified")
	}
}

func TestTakeFromIdle(t *testing.T) {
	for _, silent := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Behaviour.NoTakeWebhookFromIdle = silent })
		e.say("hi")
		e.wantOK(e.handover(botName, "release_thread_control", nil))
		e.wantOK(e.handover(botName, "take_thread_control", nil))
		e.wantOwner(botName)
		tk := e.crm.ofKind("take")
		if silent && len(tk) != 0 {
			t.Fatal("take from idle notified with the switch on")
		}
		if !silent && (len(tk) != 1 || tk[0].ev.Take.PreviousOwnerAppID != nil || idOf(tk[0].ev.Take.NewOwnerAppID) != botID) {
			t.Fatalf("take from idle = %+v", tk)
		}
	}
}

// Conversation Routing accepts request_thread_control only in zero-config mode (reference §4.1).
func TestRequestRefusedOnAPageWithADefaultApp(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantErr(e.handover(crmName, "request_thread_control", nil), 10, 0)
	e.wantOwner(botName)
	if len(e.bot.ofKind("request")) != 0 {
		t.Fatal("a refused request reached the owner")
	}
	if r := e.sim.Transcript().Kinds(StepRefused); len(r) != 1 || r[0].Actor != crmName {
		t.Fatalf("refused steps %+v", r)
	}
}

// With Behaviour.RequestWithDefaultApp (the old Handover Protocol) the owner gets the request.
func TestRequestThreadControl(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behaviour.RequestWithDefaultApp = true })
	e.say("hi")
	e.wantErr(e.handover(botName, "request_thread_control", nil), 100, 0) // already owner
	e.wantOK(e.handover(crmName, "request_thread_control", map[string]any{"metadata": "vip"}))
	e.wantOwner(botName) // the owner decides
	rq := e.bot.ofKind("request")
	if len(rq) != 1 || rq[0].channel != "messaging" || idOf(rq[0].ev.Request.RequestedOwnerAppID) != crmID || rq[0].ev.Request.Metadata != "vip" {
		t.Fatalf("request = %+v", rq)
	}
	if len(e.crm.ofKind("request")) != 0 {
		t.Fatal("requester got its own request")
	}
	// The inbox owns it: requests go to the inbox, which never answers.
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	e.wantOK(e.handover(botName, "request_thread_control", nil))
	e.wantOwner(InboxName)
	r := e.sim.Routed(InboxName)
	if last := r[len(r)-1]; last.Kind != "request_thread_control" || last.ToCallback {
		t.Fatalf("inbox routed = %+v", last)
	}
}

func zeroConfig(o *Options) { o.Pages[0].DefaultApp = "" }

func TestRequestOnIdleThread(t *testing.T) {
	e := newEnv(t, zeroConfig)
	e.say("hi")
	e.wantOwner("none")
	e.wantOK(e.handover(crmName, "request_thread_control", nil))
	e.wantOwner(crmName)
	p := e.crm.ofKind("pass")
	if len(p) != 1 || p[0].ev.Pass.PreviousOwnerAppID != nil || idOf(p[0].ev.Pass.NewOwnerAppID) != crmID {
		t.Fatalf("pass after request on idle = %+v", p)
	}

	e2 := newEnv(t, func(o *Options) {
		zeroConfig(o)
		o.Behaviour.RequestOnIdleDoesNothing = true
	})
	e2.say("hi")
	e2.wantOK(e2.handover(crmName, "request_thread_control", nil))
	e2.wantOwner("none")
}

func TestScriptedAppHonoursRequests(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		zeroConfig(o)
		o.Apps[1].HonourRequests = true
	})
	e.say("hi")
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID}))
	e.wantOK(e.handover(botName, "request_thread_control", nil))
	e.wantOwner(botName)
	if p := e.bot.ofKind("pass"); len(p) != 1 || idOf(p[0].ev.Pass.PreviousOwnerAppID) != crmID {
		t.Fatalf("bot pass = %+v", p)
	}
}

func TestReleaseHasNoWebhook(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantErr(e.handover(crmName, "release_thread_control", nil), 100, 2534037)
	e.idle()
	before := len(e.bot.allPosts()) + len(e.crm.allPosts())
	e.wantOK(e.handover(botName, "release_thread_control", nil))
	e.wantOwner("none")
	e.idle()
	if after := len(e.bot.allPosts()) + len(e.crm.allPosts()); after != before {
		t.Fatalf("release sent %d webhooks", after-before)
	}
	// Idle, default-app mode: only the default app may send (and claims the thread).
	e.wantErr(e.send(crmName, "hello from crm"), 10, 2018300)
	e.wantOK(e.send(botName, "hello again"))
	e.wantOwner(botName)
}

func TestIdleSendByAnyAppSwitch(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behaviour.IdleSendByAnyApp = true })
	e.say("hi")
	e.wantOK(e.handover(botName, "release_thread_control", nil))
	e.wantOK(e.send(crmName, "crm claims it"))
	e.wantOwner(crmName)
}

func TestExtendThreadControl(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantErr(e.handover(crmName, "extend_thread_control", map[string]any{"duration": 3600}), 100, 2534037)
	e.wantErr(e.handover(botName, "extend_thread_control", map[string]any{"duration": 8 * 24 * 3600}), 100, 0)
	e.wantErr(e.handover(botName, "extend_thread_control", map[string]any{"duration": 0}), 100, 0)
	e.wantOK(e.handover(botName, "extend_thread_control", map[string]any{"duration": 48 * 3600}))
	_ = e.sim.Advance(30 * time.Hour)
	e.wantOwner(botName)
	_ = e.sim.Advance(19 * time.Hour)
	e.wantOwner("none")
}

func TestOwnershipExpiresAfter24hWithoutWebhook(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	e.idle()
	posts := len(e.bot.allPosts()) + len(e.crm.allPosts())
	_ = e.sim.Advance(23*time.Hour + 59*time.Minute)
	e.wantOwner(InboxName)
	_ = e.sim.Advance(time.Minute)
	e.wantOwner("none")
	e.idle()
	if len(e.bot.allPosts())+len(e.crm.allPosts()) != posts {
		t.Fatal("expiry sent a webhook")
	}
	exp := e.sim.Transcript().Kinds(StepExpire)
	if len(exp) != 1 || exp[0].Owner != "none" || !exp[0].Time.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("expire steps = %+v", exp)
	}
	// The customer writes again: social routing gives the thread back to the default app.
	e.say("hello again")
	e.wantOwner(botName)
	if got := e.bot.ofKind("message"); got[len(got)-1].channel != "messaging" {
		t.Fatal("bot did not get the message on messaging")
	}
}

func TestActivityKeepsOwnership(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	_ = e.sim.Advance(20 * time.Hour)
	e.say("still here")
	_ = e.sim.Advance(20 * time.Hour)
	e.wantOwner(botName)
}

func TestOutsideTheWindow(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Apps[0].HumanAgent = true })
	e.say("hi")
	_ = e.sim.Advance(25 * time.Hour)
	// The bot lost ownership by expiry; the default app may still send on idle, but the window is closed.
	e.wantErr(e.send(botName, "late"), 10, 2018278)
	humanAgent := func(app string) graphResp {
		return e.call("POST", "/v25.0/me/messages", e.token(app), map[string]any{"recipient": map[string]any{"id": psid},
			"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": map[string]any{"text": "agent here"}})
	}
	e.wantOK(humanAgent(botName))
	e.wantOwner(botName)
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID}))
	e.wantErr(humanAgent(crmName), 10, 0) // no HUMAN_AGENT permission
	_ = e.sim.Advance(7 * 24 * time.Hour)
	e.wantOK(e.handover(botName, "take_thread_control", nil))
	e.wantErr(humanAgent(botName), 10, 2018278)
	// A user who never wrote cannot be messaged.
	if err := e.sim.Customer(pageID, psid2).SetUnavailable(false); err != nil {
		t.Fatal(err)
	}
	g := e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": psid2},
		"messaging_type": "UPDATE", "message": map[string]any{"text": "hey"}})
	e.wantErr(g, 10, 2018278)
	// Unknown PSID: 100/2018001.
	g = e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": "999"},
		"messaging_type": "UPDATE", "message": map[string]any{"text": "hey"}})
	e.wantErr(g, 100, 2018001)
}

func TestUnavailableUser(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	_ = e.sim.Customer(pageID, psid).SetUnavailable(true)
	e.wantErr(e.send(botName, "hello"), 551, 1545041)
}

func TestInboxImplicitTake(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	if err := e.sim.Inbox(pageID).Reply(psid, "Anna here"); err != nil {
		t.Fatal(err)
	}
	e.wantOwner(InboxName)
	tk := e.bot.ofKind("take")
	if len(tk) != 1 || idOf(tk[0].ev.Take.PreviousOwnerAppID) != botID || idOf(tk[0].ev.Take.NewOwnerAppID) != InboxAppID {
		t.Fatalf("bot take = %+v", tk)
	}
	e.wantErr(e.send(botName, "me too"), 10, 2018300)
	// A customer tap on the bot's old quick reply now arrives on standby.
	e.say("help")
	if got := e.bot.ofKind("message"); got[len(got)-1].channel != "standby" {
		t.Fatal("customer message not on standby while the inbox owns the thread")
	}

	// Switch: the implicit take can be silent (echo and standby only).
	e2 := newEnv(t, func(o *Options) { o.Behaviour.InboxTakeWithoutWebhook = true })
	e2.say("hi")
	_ = e2.sim.Inbox(pageID).Reply(psid, "Anna here")
	if len(e2.bot.ofKind("take")) != 0 || len(e2.bot.ofKind("echo")) != 1 {
		t.Fatalf("silent implicit take: %+v", e2.bot.events())
	}
}

func TestInboxDoneRules(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	if err := e.sim.Inbox(pageID).Done(psid); err == nil {
		t.Fatal("Done without owning the thread succeeded")
	}
	_ = e.sim.Inbox(pageID).Take(psid)
	e.wantOwner(InboxName)
	if err := e.sim.Inbox(pageID).Done(psid); err != nil {
		t.Fatal(err)
	}
	e.wantOwner(botName)
}

func TestZeroConfig(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Pages[0].DefaultApp = "" })
	e.say("hi")
	e.wantOwner("none") // no social routing without a default app
	for _, r := range []*receiver{e.bot, e.crm} {
		if m := r.ofKind("message"); len(m) != 1 || m[0].channel != "messaging" {
			t.Fatalf("zero-config message delivery = %+v", m)
		}
	}
	// Take is blocked; request is allowed.
	e.wantErr(e.handover(botName, "take_thread_control", nil), 10, 0)
	// Any app may answer an idle thread; it stays idle.
	e.wantOK(e.send(crmName, "crm answers"))
	e.wantOK(e.send(botName, "bot answers too"))
	e.wantOwner("none")
	// Pass needs a target (no default app).
	e.wantErr(e.handover(botName, "pass_thread_control", nil), 100, 0)
	e.wantOK(e.handover(botName, "request_thread_control", nil)) // idle: given to the requester
	e.wantOwner(botName)
	e.wantOK(e.handover(crmName, "request_thread_control", map[string]any{"metadata": "mine"}))
	if rq := e.bot.ofKind("request"); len(rq) != 1 || idOf(rq[0].ev.Request.RequestedOwnerAppID) != crmID {
		t.Fatalf("request in zero-config = %+v", rq)
	}
	// With an owner, exclusive control applies to sends; messages still reach everyone on messaging.
	e.wantErr(e.send(crmName, "me"), 10, 2018300)
	e.say("again")
	if m := e.crm.ofKind("message"); m[len(m)-1].channel != "messaging" {
		t.Fatal("zero-config: crm not on messaging")
	}
	// Done in zero-config releases the thread.
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	if err := e.sim.Inbox(pageID).Done(psid); err != nil {
		t.Fatal(err)
	}
	e.wantOwner("none")

	e2 := newEnv(t, func(o *Options) { o.Pages[0].DefaultApp = ""; o.Behaviour.ZeroConfigSharedSend = true })
	e2.say("hi")
	e2.wantOK(e2.handover(botName, "request_thread_control", nil))
	e2.wantOK(e2.send(crmName, "shared"))
}

func TestThreadOwnerVisibility(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	get := func(app string) graphResp {
		return e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(app), nil)
	}
	g := get(botName)
	e.wantOK(g)
	to := g.body["data"].([]any)[0].(map[string]any)["thread_owner"].(map[string]any)
	if to["app_id"] != botID || to["expiration"] == nil {
		t.Fatalf("owner view = %s", g.raw)
	}
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	// Default app sees the owner id; crm only the expiration.
	if g := get(botName); !strings.Contains(string(g.raw), InboxAppID) {
		t.Fatalf("default app view = %s", g.raw)
	}
	g = get(crmName)
	to = g.body["data"].([]any)[0].(map[string]any)["thread_owner"].(map[string]any)
	if _, has := to["app_id"]; has || to["expiration"] == nil {
		t.Fatalf("other app view = %s", g.raw)
	}
	_ = e.sim.Advance(25 * time.Hour)
	if g := get(botName); len(g.body["data"].([]any)) != 0 {
		t.Fatalf("idle view = %s", g.raw)
	}
}

func TestHandoverAPIsDisabledPage(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Pages[0].HandoverAPIsDisabled = true })
	e.say("hi")
	g := e.handover(botName, "take_thread_control", nil)
	e.wantErr(g, 100, 0)
	if !strings.Contains(string(g.raw), "Handover Protocol APIs disabled") {
		t.Fatalf("message = %s", g.raw)
	}
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
}

func TestInlineThreadControlInSend(t *testing.T) {
	e := newEnv(t, nil)
	e.say("I want a human")
	g := e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message":        map[string]any{"text": "Let me transfer you"},
		"thread_control": map[string]any{"control_type": "pass", "app_id": InboxAppID}})
	e.wantOK(g)
	e.wantOwner(InboxName)
	// An invalid inline target refuses the whole send.
	e.wantOK(e.handover(botName, "take_thread_control", nil))
	g = e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message":        map[string]any{"text": "bye"},
		"thread_control": map[string]any{"control_type": "pass", "app_id": botID}})
	e.wantErr(g, 100, 0)
	if m := e.sim.Messages(pageID, psid); m[len(m)-1].Text == "bye" {
		t.Fatal("message sent although the inline pass was invalid")
	}
	// Release (the default control type).
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message": map[string]any{"text": "done"}, "thread_control": map[string]any{}}))
	e.wantOwner("none")
}

func TestStandbyQuickRepliesAndPostbacks(t *testing.T) {
	for _, without := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Behaviour.StandbyQuickReplyWithoutPayload = without })
		e.say("hi")
		e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
			"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
			"message": map[string]any{"text": "Pick", "quick_replies": []any{
				map[string]any{"content_type": "text", "title": "Talk to a human", "payload": "HANDOFF"}}}}))
		if err := e.sim.Customer(pageID, psid).Tap("Talk to a human"); err != nil {
			t.Fatal(err)
		}
		qb := e.bot.ofKind("message")
		last := qb[len(qb)-1]
		if last.channel != "messaging" || last.ev.Message.Text != "Talk to a human" || last.ev.Message.QuickReply == nil || last.ev.Message.QuickReply.Payload != "HANDOFF" {
			t.Fatalf("owner tap = %s", last.ev.raw)
		}
		qc := e.crm.ofKind("message")
		lc := qc[len(qc)-1]
		if lc.channel != "standby" || lc.ev.Message.Text != "Talk to a human" {
			t.Fatalf("standby tap = %s", lc.ev.raw)
		}
		if without != (lc.ev.Message.QuickReply == nil) {
			t.Fatalf("standby quick reply payload (switch %v) = %s", without, lc.ev.raw)
		}
		// Quick replies vanish once used.
		if err := e.sim.Customer(pageID, psid).Tap("Talk to a human"); err == nil {
			t.Fatal("tapped a quick reply that is no longer offered")
		}
	}

	e := newEnv(t, func(o *Options) { o.Pages[0].GetStartedPayload = "GET_STARTED" })
	if err := e.sim.Customer(pageID, psid).GetStarted(); err != nil {
		t.Fatal(err)
	}
	e.wantOwner(botName)
	pb, pc := e.bot.ofKind("postback"), e.crm.ofKind("postback")
	if len(pb) != 1 || pb[0].ev.Postback.Payload == nil || *pb[0].ev.Postback.Payload != "GET_STARTED" || pb[0].ev.Postback.Title != "Get Started" {
		t.Fatalf("owner postback = %s", pb[0].ev.raw)
	}
	if len(pc) != 1 || pc[0].channel != "standby" || pc[0].ev.Postback.Payload != nil || strings.Contains(string(pc[0].ev.raw), "payload") {
		t.Fatalf("standby postback carries a payload: %s", pc[0].ev.raw)
	}
	// A button sent by the bot, pressed while crm owns: crm (messaging) gets no payload, the
	// payload goes only to the app that sent the button.
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE",
		"message": map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "button", "text": "Need help?", "buttons": []any{
				map[string]any{"type": "postback", "title": "Agent", "payload": "HANDOFF"}}}}}}))
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": crmID}))
	if err := e.sim.Customer(pageID, psid).Press("Agent"); err != nil {
		t.Fatal(err)
	}
	pc = e.crm.ofKind("postback")
	if last := pc[len(pc)-1]; last.channel != "messaging" || last.ev.Postback.Payload != nil || last.ev.Postback.Title != "Agent" {
		t.Fatalf("crm press = %s", last.ev.raw)
	}
	e.wantOK(e.handover(crmName, "pass_thread_control", map[string]any{"target_app_id": botID}))
	_ = e.sim.Customer(pageID, psid).Press("Agent")
	pb = e.bot.ofKind("postback")
	if last := pb[len(pb)-1]; last.ev.Postback.Payload == nil || *last.ev.Postback.Payload != "HANDOFF" {
		t.Fatalf("bot press = %s", last.ev.raw)
	}
}

func TestReadReceipts(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	if err := e.sim.Customer(pageID, psid).Read(); err != nil {
		t.Fatal(err)
	}
	r := e.bot.ofKind("read")
	if len(r) != 1 || r[0].ev.Read.Watermark == 0 || r[0].channel != "messaging" {
		t.Fatalf("read = %+v", r)
	}
	if r := e.crm.ofKind("read"); len(r) != 1 || r[0].channel != "standby" {
		t.Fatalf("crm read = %+v", r)
	}
}
