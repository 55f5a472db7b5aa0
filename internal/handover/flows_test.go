package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The tutorial's four flows, one decision each, in the corrected order.
func TestTutorialFlowsDecisions(t *testing.T) {
	p := page(t, nil) // an empty policy is the tutorial
	th := Thread{}

	// 1. Any message: Welcome.
	d := Decide(p, text(Messaging, "hi"), th, t0)
	wantActions(t, d, welcomeMsg)
	if d.Thread.Owner != OwnerUs {
		t.Errorf("owner %v after a messaging event, want us", d.Thread.Owner)
	}
	if q := d.Actions[0].Message.QuickReplies; len(q) != 1 || q[0] != (QuickReply{"Pass to Inbox", "pass_to_inbox"}) {
		t.Errorf("welcome quick replies %+v", q)
	}

	// 2. "Pass to Inbox": the handoff message first, then (its Then) the pass.
	d = Decide(p, quick(Messaging, "Pass to Inbox", "pass_to_inbox"), d.Thread, t0)
	wantActions(t, d, handoffMsg+" > "+passInbox)
	if got := d.Thread; got.Owner != OwnerOther || got.OwnerAppID != inbox || !got.PassedAt.Equal(t0) {
		t.Errorf("thread after handoff %+v", got)
	}

	// 3. "Take From Inbox" on standby: take, and only after it succeeded the message.
	d = Decide(p, quick(Standby, "Take From Inbox", "take_from_inbox"), d.Thread, t0.Add(minute))
	wantActions(t, d, "take[take_back] > "+takeBackMsg)
	if d.Thread.Owner != OwnerOther {
		t.Errorf("the take is not done yet: owner %v, want other", d.Thread.Owner)
	}
	out := Outcome(p, d.Thread, ok(d.Actions[0]), t0.Add(minute))
	if out.Thread.Owner != OwnerUs || !out.Thread.PassedAt.IsZero() || len(out.Actions) != 0 {
		t.Errorf("after the take: %+v %s", out.Thread, describe(out.Actions))
	}

	// 4. Done in the inbox: pass_thread_control to us, the Done message.
	th = passedState(Thread{}, t0, inbox)
	th.AgentActive, th.LastAgentAt = true, t0.Add(minute)
	d = Decide(p, passEv(testApp, inbox), th, t0.Add(2*minute))
	wantActions(t, d, doneMsg)
	if d.Thread != (Thread{Owner: OwnerUs}) {
		t.Errorf("thread after Done %+v, want owned by us with agent state cleared", d.Thread)
	}
}

// Own echoes are ignored; another app's echo pauses the bot until Done, a take-back trigger or
// the idle timeout.
func TestEchoes(t *testing.T) {
	p := page(t, nil)
	th := Thread{Owner: OwnerUs}

	d := Decide(p, echo(testApp), th, t0)
	if len(d.Actions) != 0 || d.Ignored != IgnoredEchoOwn || d.Thread != th {
		t.Errorf("own echo: %+v", d)
	}

	d = Decide(p, echo(otherApp), th, t0)
	if len(d.Actions) != 0 || d.Ignored != IgnoredAgentEcho {
		t.Errorf("other app's echo: %+v", d)
	}
	want := Thread{Owner: OwnerOther, OwnerAppID: otherApp, AgentActive: true, LastAgentAt: t0}
	if d.Thread != want {
		t.Errorf("thread %+v, want %+v", d.Thread, want)
	}

	// The inbox echo on standby, as the platform may deliver it, does the same.
	ev := echo(inbox)
	ev.Channel = Standby
	if d := Decide(p, ev, th, t0); d.Thread.OwnerAppID != inbox || !d.Thread.AgentActive || len(d.Actions) != 0 {
		t.Errorf("standby echo: %+v", d)
	}

	// Paused: the user's standby messages are left alone.
	paused := want
	paused.LastUserAt = t0
	for _, ev := range []Event{text(Standby, "hello?"), quick(Standby, "Pass to Inbox", "pass_to_inbox"), postback(Standby, "Menu", "")} {
		ev.Timestamp = t0
		d := Decide(p, ev, paused, t0)
		if len(d.Actions) != 0 || d.Ignored != IgnoredStandby || d.Thread != paused {
			t.Errorf("%q on standby while paused: %+v", ev.Text, d)
		}
	}
}

// A user's message on messaging while our state says an agent has the thread (zero-config Pages
// deliver messaging to every app; an expired control comes back without a webhook): the engine
// checks the owner before it says anything.
func TestMessagingWhileAwayResolvesOwner(t *testing.T) {
	p := page(t, nil)
	paused := Thread{Owner: OwnerOther, OwnerAppID: inbox, AgentActive: true, LastAgentAt: t0, PassedAt: t0, LastUserAt: t0}
	now := t0.Add(time.Hour)

	d := Decide(p, text(Messaging, "hello?"), paused, now)
	wantActions(t, d, "resolve[owner_check]")
	if d.Thread != paused {
		t.Errorf("thread changed before the owner is known: %+v", d.Thread)
	}
	res := d.Actions[0]
	if res.Deferred == nil || res.Deferred.Text != "hello?" {
		t.Fatalf("deferred event %+v", res.Deferred)
	}

	// The inbox still has it: silent.
	o := Outcome(p, paused, owner(res, OwnerOther, ""), now)
	if len(o.Actions) != 0 || o.Ignored != IgnoredAgentActive || o.Thread.Owner != OwnerOther {
		t.Errorf("owner other: %+v", o)
	}
	// We have it (control expired and came back): the bot answers and the agent state is gone.
	o = Outcome(p, paused, owner(res, OwnerUs, ""), now)
	wantActions(t, o, welcomeMsg)
	if o.Thread != (Thread{Owner: OwnerUs, LastUserAt: t0}) {
		t.Errorf("thread %+v", o.Thread)
	}
	// Idle: a messaging event on an idle thread shows that we may send.
	o = Outcome(p, paused, owner(res, OwnerIdle, ""), now)
	wantActions(t, o, welcomeMsg)
	// thread_owner failed: the decision is dropped, the bot stays silent.
	o = Outcome(p, paused, refused(res, FailRefused), now)
	if len(o.Actions) != 0 || o.Thread != paused {
		t.Errorf("failed resolve: %+v", o)
	}
	// Not the owner (100/2018234, visibility denied) means another app owns it.
	o = Outcome(p, paused, refused(res, FailNotOwner), now)
	if len(o.Actions) != 0 || o.Thread.Owner != OwnerOther {
		t.Errorf("visibility denied: %+v", o)
	}

	// A take-back trigger on messaging while away: after the check, take then the message.
	d = Decide(p, quick(Messaging, "Take From Inbox", "take_from_inbox"), paused, now)
	wantActions(t, d, "resolve[take_back]")
	o = Outcome(p, paused, owner(d.Actions[0], OwnerOther, inbox), now)
	wantActions(t, o, "take[take_back] > "+takeBackMsg)
	// ... or just the message when the bot has the thread already (no take by the owner).
	o = Outcome(p, paused, owner(d.Actions[0], OwnerUs, ""), now)
	wantActions(t, o, takeBackMsg)
	if o.Thread.Owner != OwnerUs || o.Thread.AgentActive {
		t.Errorf("thread %+v", o.Thread)
	}

	// An unknown owner with nothing to suggest a handoff (after a restart): messaging proves it.
	d = Decide(p, text(Messaging, "hi"), Thread{}, now)
	wantActions(t, d, welcomeMsg)
}

func TestStandbyLeftAlone(t *testing.T) {
	p := page(t, nil)
	for name, th := range map[string]Thread{
		"owner us":      {Owner: OwnerUs},
		"owner unknown": {},
		"owner other":   {Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0},
	} {
		for _, ev := range []Event{
			text(Standby, "hello"),
			text(Standby, "I want the bot back"),
			quick(Standby, "Pass to Inbox", "pass_to_inbox"),
			quick(Standby, "Something", ""),
			postback(Standby, "Get Started", ""),
			{Kind: KindMessage, Channel: Standby, PSID: testPSID, HasAttachments: true},
		} {
			d := Decide(p, ev, th, t0)
			if len(d.Actions) != 0 || d.Ignored != IgnoredStandby {
				t.Errorf("%s: %+v on standby: %s (%s)", name, ev, describe(d.Actions), d.Ignored)
			}
			// Standby shows that another app owns the thread.
			if d.Thread.Owner != OwnerOther {
				t.Errorf("%s: owner %v after a standby event", name, d.Thread.Owner)
			}
			if th.Owner == OwnerOther && d.Thread.OwnerAppID != inbox {
				t.Errorf("%s: the known owner app was lost: %+v", name, d.Thread)
			}
		}
	}
}

// Take-back triggers on standby: the payload, or the title when the payload is missing.
func TestTakeBackTriggers(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{
		Handoff: v1alpha1.HandoffSpec{Message: v1alpha1.Message{
			Text:         "Passing you to a person.",
			QuickReplies: []v1alpha1.QuickReply{{Title: "Back to the bot", Payload: "BOT"}},
			Buttons: &v1alpha1.ButtonTemplate{Text: "Or:", Buttons: []v1alpha1.Button{
				{Type: "postback", Title: "Bot please", Payload: "BOT_PB"},
				{Type: "web_url", Title: "FAQ", URL: "https://example.com/faq"},
			}},
		}},
		TakeBack: v1alpha1.TakeBackSpec{Triggers: v1alpha1.Triggers{
			QuickReplyPayloads: []string{"BOT"},
			PostbackPayloads:   []string{"BOT_PB"},
			Keywords:           []string{"bot please", "menu"},
			Patterns:           []string{`^(?i)restart$`},
		}},
	}
	p := page(t, spec)
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0}
	const take = "take[take_back] > " + takeBackMsg
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"payload", quick(Standby, "Back to the bot", "BOT"), take},
		{"payload, other title", quick(Standby, "whatever", "BOT"), take},
		{"no payload, title", quick(Standby, "Back to the bot", ""), take},
		{"no payload, title in other case", quick(Standby, "back TO the bot ", ""), take},
		{"no payload, unknown title", quick(Standby, "Something else", ""), ""},
		{"other payload", quick(Standby, "Back to the bot", "OTHER"), ""},
		{"postback without payload, button title", postback(Standby, "Bot please", ""), take},
		{"postback, URL button title", postback(Standby, "FAQ", ""), ""},
		{"keyword", text(Standby, "Bot, please!"), take},
		{"phrase keyword", text(Standby, "can I have the MENU"), take},
		{"not a keyword", text(Standby, "menus"), ""},
		{"pattern", text(Standby, "Restart"), take},
		{"pattern anchored", text(Standby, "restart now"), ""},
		{"keyword on a quick-reply title is not typed text", quick(Standby, "menu", "X"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantActions(t, Decide(p, tc.ev, away, t0), tc.want)
		})
	}
	// A title the policy also gives to another payload is ambiguous: it does not trigger.
	amb := page(t, &v1alpha1.HandoverPolicySpec{
		Done: v1alpha1.Message{Text: "Done.", QuickReplies: []v1alpha1.QuickReply{{Title: "Take From Inbox", Payload: "SOMETHING_ELSE"}}},
	})
	wantActions(t, Decide(amb, quick(Standby, "Take From Inbox", ""), away, t0), "")
	wantActions(t, Decide(amb, quick(Standby, "Take From Inbox", "take_from_inbox"), away, t0), take)

	// The tutorial's default: a standby quick reply without payload, titled "Take From Inbox".
	wantActions(t, Decide(page(t, nil), quick(Standby, "Take From Inbox", ""), away, t0), "take[take_back] > "+takeBackMsg)

	// While the bot owns the thread, take-back triggers are plain input: Welcome.
	wantActions(t, Decide(page(t, nil), quick(Messaging, "Take From Inbox", "take_from_inbox"), Thread{Owner: OwnerUs}, t0), welcomeMsg)

	// A standby trigger while our state says we own the thread: check the owner before a take
	// that would fail.
	d := Decide(p, quick(Standby, "x", "BOT"), Thread{Owner: OwnerUs}, t0)
	wantActions(t, d, "resolve[take_back]")
	wantActions(t, Outcome(p, d.Thread, owner(d.Actions[0], OwnerUs, ""), t0), takeBackMsg)
	wantActions(t, Outcome(p, d.Thread, owner(d.Actions[0], OwnerOther, ""), t0), take)
}

// Never a message before the take succeeded; nothing after a refused or failed take.
func TestTakeOutcomes(t *testing.T) {
	p := page(t, nil)
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, AgentActive: true, LastAgentAt: t0}
	d := Decide(p, quick(Standby, "Take From Inbox", "take_from_inbox"), away, t0)
	take := d.Actions[0]
	if take.Kind != ActTake || take.Metadata == "" {
		t.Fatalf("first action %s metadata %q", describeOne(take), take.Metadata)
	}

	for _, tc := range []struct {
		name      string
		r         Result
		refused   bool
		wantOwner Owner
		want      string
	}{
		{"ok", ok(take), false, OwnerUs, ""},
		// 100/2534037, 10 without a default app, "Handover Protocol APIs disabled" (internal/graph)
		{"refused by Conversation Routing", refused(take, FailTakeRefused), true, OwnerOther, ""},
		{"already owner", refused(take, FailAlreadyOwner), false, OwnerUs, takeBackMsg},
		{"retries exhausted", failed(take), false, OwnerOther, ""},
		{"ambiguous", refused(take, FailAmbiguous), false, OwnerUnknown, ""},
		{"token", refused(take, FailTokenInvalid), false, OwnerOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TakeRefused(tc.r); got != tc.refused {
				t.Errorf("TakeRefused = %v", got)
			}
			o := Outcome(p, d.Thread, tc.r, t0)
			wantActions(t, o, tc.want)
			if o.Thread.Owner != tc.wantOwner {
				t.Errorf("owner %v, want %v", o.Thread.Owner, tc.wantOwner)
			}
			if tc.refused && (o.Thread.OwnerAppID != inbox || o.Ignored != IgnoredTakeRefused) {
				t.Errorf("refused: %+v %q", o.Thread, o.Ignored)
			}
		})
	}
	// TakeRefused is about takes only.
	send := Action{Kind: ActSend, Reason: ReasonWelcome}
	pass := Action{Kind: ActPass, Reason: ReasonHandoff}
	for _, r := range []Result{
		refused(send, FailNotOwner), refused(pass, FailTakeRefused),
		ok(take), refused(take, FailOutsideWindow),
	} {
		if TakeRefused(r) {
			t.Errorf("TakeRefused(%+v) = true", r)
		}
	}
}

// Done: pass_thread_control to our app, from the inbox or another app.
func TestDone(t *testing.T) {
	p := page(t, nil)
	away := Thread{Owner: OwnerOther, OwnerAppID: otherApp, PassedAt: t0, AgentActive: true, LastAgentAt: t0}
	wantActions(t, Decide(p, passEv(testApp, otherApp), away, t0), doneMsg)
	wantActions(t, Decide(p, passEv(testApp, inbox), Thread{}, t0), doneMsg) // state lost in a restart

	// From idle (social routing): nothing was handed back, nothing to say.
	d := Decide(p, passEv(testApp, ""), Thread{}, t0)
	wantActions(t, d, "")
	if d.Thread.Owner != OwnerUs {
		t.Errorf("owner %v", d.Thread.Owner)
	}
	// Pre-2021 payloads have no previous owner: our state tells.
	wantActions(t, Decide(p, passEv(testApp, ""), away, t0), doneMsg)

	// An unreachable user gets no Done message.
	un := away
	un.Unreachable = true
	d = Decide(p, passEv(testApp, inbox), un, t0)
	wantActions(t, d, "")
	if d.Thread.Owner != OwnerUs || !d.Thread.Unreachable {
		t.Errorf("thread %+v", d.Thread)
	}

	// A pass to another app is not Done.
	d = Decide(p, passEv(otherApp, inbox), away, t0)
	wantActions(t, d, "")
	if d.Thread.Owner != OwnerOther || d.Thread.OwnerAppID != otherApp {
		t.Errorf("thread %+v", d.Thread)
	}
}

func TestControlTakenFromUs(t *testing.T) {
	p := page(t, &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: durationPtr(30 * minute)})
	d := Decide(p, takeEv(inbox, testApp), Thread{Owner: OwnerUs}, t0)
	wantActions(t, d, "")
	if d.Thread.Owner != OwnerOther || d.Thread.OwnerAppID != inbox || d.Ignored != IgnoredControlTaken {
		t.Errorf("after take: %+v %q", d.Thread, d.Ignored)
	}
	// The idle timeout counts from the take until an agent writes.
	if got := NextTick(p, d.Thread); !got.Equal(t0.Add(30 * minute)) {
		t.Errorf("NextTick %v", got)
	}
}

func TestRequestThreadControl(t *testing.T) {
	pass := page(t, nil) // onRequest defaults to Pass
	ignore := page(t, &v1alpha1.HandoverPolicySpec{OnRequest: v1alpha1.RequestIgnore, Handoff: v1alpha1.HandoffSpec{Metadata: "from-bot"}})

	d := Decide(pass, requestEv(otherApp), Thread{Owner: OwnerUs}, t0)
	wantActions(t, d, "pass[request]("+otherApp+")")
	if d.Thread.Owner != OwnerOther || d.Thread.OwnerAppID != otherApp || !d.Thread.PassedAt.Equal(t0) {
		t.Errorf("thread %+v", d.Thread)
	}
	wantActions(t, Decide(pass, requestEv(otherApp), Thread{Owner: OwnerIdle}, t0), "pass[request]("+otherApp+")")

	// Ignore: nothing, whoever asks.
	for _, th := range []Thread{{Owner: OwnerUs}, {}, {Owner: OwnerIdle}} {
		d := Decide(ignore, requestEv(inbox), th, t0)
		if len(d.Actions) != 0 || d.Ignored != IgnoredRequestIgnored || d.Thread != th {
			t.Errorf("Ignore: %+v", d)
		}
	}

	// Unknown owner: check first; pass only if we own it.
	d = Decide(pass, requestEv(inbox), Thread{}, t0)
	wantActions(t, d, "resolve[request]")
	wantActions(t, Outcome(pass, d.Thread, owner(d.Actions[0], OwnerUs, ""), t0), "pass[request]("+inbox+")")
	o := Outcome(pass, d.Thread, owner(d.Actions[0], OwnerOther, ""), t0)
	if len(o.Actions) != 0 || o.Ignored != IgnoredNotOwner {
		t.Errorf("request on another app's thread: %+v", o)
	}

	// Invalid requests.
	for _, by := range []string{"", testApp} {
		if d := Decide(pass, requestEv(by), Thread{Owner: OwnerUs}, t0); len(d.Actions) != 0 {
			t.Errorf("request by %q: %s", by, describe(d.Actions))
		}
	}

	// The pass carries the policy's metadata.
	metaPage := page(t, &v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Metadata: "bot-ctx"}})
	if a := Decide(metaPage, requestEv(inbox), Thread{Owner: OwnerUs}, t0).Actions[0]; a.Metadata != "bot-ctx" {
		t.Errorf("metadata %q", a.Metadata)
	}
}

// Only a user's messages and postbacks are answered.
func TestOnlyUserInputIsAnswered(t *testing.T) {
	p := page(t, nil)
	th := Thread{Owner: OwnerUs}
	for _, ev := range []Event{
		{Kind: KindOther, Channel: Messaging, PSID: testPSID}, // read, delivery, reaction, edit
		{Kind: KindOther, Channel: Standby, PSID: testPSID},
		echo(testApp),
		takeEv(inbox, testApp),
		passEv(otherApp, inbox),
	} {
		if d := Decide(p, ev, th, t0); len(d.Actions) != 0 {
			t.Errorf("%+v answered: %s", ev, describe(d.Actions))
		}
	}
	// A postback (Get Started) and an attachment are answered.
	wantActions(t, Decide(p, postback(Messaging, "Get Started", "GET_STARTED"), th, t0), welcomeMsg)
	wantActions(t, Decide(p, Event{Kind: KindMessage, PSID: testPSID, HasAttachments: true}, th, t0), welcomeMsg)

	// Other page, no user, no policy: nothing, thread unchanged.
	ev := text(Messaging, "hi")
	ev.PageID = "777"
	if d := Decide(p, ev, th, t0); len(d.Actions) != 0 || d.Ignored != IgnoredOtherPage || d.Thread != th {
		t.Errorf("other page: %+v", d)
	}
	ev = text(Messaging, "hi")
	ev.PSID = ""
	if d := Decide(p, ev, th, t0); len(d.Actions) != 0 || d.Ignored != IgnoredNoUser {
		t.Errorf("no PSID: %+v", d)
	}
	if d := Decide(&Page{PageID: testPage}, text(Messaging, "hi"), th, t0); len(d.Actions) != 0 || d.Thread != th {
		t.Errorf("no policy: %+v", d)
	}
	if d := Decide(nil, text(Messaging, "hi"), th, t0); len(d.Actions) != 0 || d.Thread != th {
		t.Errorf("nil page: %+v", d)
	}
}

func durationPtr(d time.Duration) *metav1Duration { return &metav1Duration{Duration: d} }

// §10.12: the inbox's implicit takeover shows up as a handover event, an echo with the inbox
// app id, events moving to standby, or 10/2018300 on the next send. Each one silences the bot.
func TestInboxTakeoverSignals(t *testing.T) {
	p := page(t, nil)
	ours := Thread{Owner: OwnerUs}
	welcome := Decide(p, text(Messaging, "hi"), ours, t0).Actions[0]
	for name, th := range map[string]Thread{
		"take_thread_control": Decide(p, takeEv(inbox, testApp), ours, t0).Thread,
		"echo":                Decide(p, echo(inbox), ours, t0).Thread,
		"echo, doc's typo id": Decide(p, echo("26390203743090"), ours, t0).Thread,
		"standby":             Decide(p, text(Standby, "hello"), ours, t0).Thread,
		"not owner (2018300)": Outcome(p, ours, refused(welcome, FailNotOwner), t0).Thread,
	} {
		if th.Owner != OwnerOther {
			t.Errorf("%s: owner %v", name, th.Owner)
		}
		// The user's next standby message is left alone; a messaging one is checked first.
		if d := Decide(p, text(Standby, "anyone?"), th, t0); len(d.Actions) != 0 {
			t.Errorf("%s: standby answered %s", name, describe(d.Actions))
		}
		if d := Decide(p, text(Messaging, "anyone?"), th, t0); describe(d.Actions) != "resolve[owner_check]" {
			t.Errorf("%s: messaging got %s", name, describe(d.Actions))
		}
	}
}

// Handoff triggers on messaging: payloads, keywords as whole words, patterns.
func TestHandoffTriggers(t *testing.T) {
	p := page(t, &v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{
		TargetAppID: otherApp,
		Metadata:    "handoff",
		Triggers: v1alpha1.Triggers{
			QuickReplyPayloads: []string{"pass_to_inbox"},
			PostbackPayloads:   []string{"HUMAN"},
			Keywords:           []string{"agent", "talk to a human"},
			Patterns:           []string{`(?i)\bcall me\b`, `^\d{6}$`},
		},
	}})
	pass := handoffMsg + " > pass[handoff](" + otherApp + ")"
	for _, tc := range []struct {
		ev   Event
		want string
	}{
		{text(Messaging, "I want an Agent!"), pass},
		{text(Messaging, "can I TALK to a human?"), pass},
		{text(Messaging, "agents"), welcomeMsg},
		{text(Messaging, "reagent"), welcomeMsg},
		{text(Messaging, "Please call me back"), pass},
		{text(Messaging, "123456"), pass},
		{text(Messaging, "1234567"), welcomeMsg},
		{quick(Messaging, "Pass to Inbox", "pass_to_inbox"), pass},
		{quick(Messaging, "agent", "MENU"), welcomeMsg}, // a quick-reply title is not typed text
		{postback(Messaging, "Talk to a human", "HUMAN"), pass},
		{postback(Messaging, "agent", "OTHER"), welcomeMsg},
	} {
		d := Decide(p, tc.ev, Thread{Owner: OwnerUs}, t0)
		if got := describe(d.Actions); got != tc.want {
			t.Errorf("%q/%q: %s, want %s", tc.ev.Text+tc.ev.PostbackTitle, tc.ev.QuickReplyPayload+tc.ev.PostbackPayload, got, tc.want)
		}
		if len(d.Actions) > 0 && len(d.Actions[0].Then) > 0 && d.Actions[0].Then[0].Metadata != "handoff" {
			t.Errorf("pass metadata %q", d.Actions[0].Then[0].Metadata)
		}
	}
}

// An agent who writes on an idle thread without any handover (zero-config Page): the owner check
// says idle, yet the bot must not talk over the person; a day later the thread is the bot's again.
func TestAgentOnIdleThreadKeepsTheBotQuiet(t *testing.T) {
	p := page(t, nil)
	now := t0
	d := Decide(p, echo(inbox), Thread{}, now)
	if !d.Thread.AgentActive {
		t.Fatalf("an echo from the inbox did not mark the agent active: %+v", d.Thread)
	}
	th := d.Thread

	d = Decide(p, text(Messaging, "are you a person?"), th, now.Add(time.Minute))
	wantActions(t, d, "resolve[owner_check]")
	o := Outcome(p, th, owner(d.Actions[0], OwnerIdle, ""), now.Add(time.Minute))
	if len(o.Actions) != 0 || o.Ignored != IgnoredAgentActive {
		t.Fatalf("bot answered while an agent talks on an idle thread: %+v", o)
	}

	// A day after the agent's echo by the events' own timestamps, whenever they are handled.
	later := text(Messaging, "hello?")
	later.Timestamp = now.Add(25 * time.Hour)
	d = Decide(p, later, th, now.Add(2*time.Minute))
	wantActions(t, d, "resolve[owner_check]")
	wantActions(t, Outcome(p, th, owner(d.Actions[0], OwnerIdle, ""), now.Add(2*time.Minute)), welcomeMsg)
	// A message written within the day but handled a day later is still the agent's turn.
	early := text(Messaging, "still there?")
	early.Timestamp = now.Add(time.Hour)
	d = Decide(p, early, th, now.Add(26*time.Hour))
	wantActions(t, Outcome(p, th, owner(d.Actions[0], OwnerIdle, ""), now.Add(26*time.Hour)), "")
}
