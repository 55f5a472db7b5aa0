package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// stamped stamps ev with ts (the platform's time of the event).
func stamped(ev Event, ts time.Time) Event {
	ev.Timestamp = ts
	return ev
}

// step is one event of a table: decided at now, and when it asks for the owner, thread_owner
// answers owner.
type step struct {
	ev    Event
	now   time.Time
	owner Owner // answer to a resolve; OwnerUnknown: no resolve expected
	want  string
}

// play decides the steps in order on th and checks each one's actions (after the owner check,
// when one is asked for).
func play(t *testing.T, p *Page, th Thread, steps []step) Thread {
	t.Helper()
	for i, s := range steps {
		d := Decide(p, s.ev, th, s.now)
		if s.owner != OwnerUnknown {
			if len(d.Actions) != 1 || d.Actions[0].Kind != ActResolveOwner {
				t.Fatalf("step %d: want an owner check, got %s (ignored %q)", i, describe(d.Actions), d.Ignored)
			}
			d = Outcome(p, d.Thread, owner(d.Actions[0], s.owner, ""), s.now)
		}
		if got := describe(d.Actions); got != s.want {
			t.Errorf("step %d: actions\n got  %s\n want %s\n (ignored %q)", i, got, s.want, d.Ignored)
		}
		th = d.Thread
	}
	return th
}

// Ownership comes from the platform's word and the events' own timestamps, never from the time
// of processing: an echo that is not ours (an automation of the inbox, an echo without app_id,
// the agent's last message delivered after the Done) never keeps the bot quiet on a thread
// thread_owner says the bot owns.
func TestForeignAndLateEchoes(t *testing.T) {
	p := page(t, nil)
	noApp := echo("")
	done := stamped(passEv(testApp, inbox), t0)
	lastAgentLine := stamped(echo(inbox), t0.Add(-time.Second)) // written before the Done, delivered after it
	for _, tc := range []struct {
		name  string
		th    Thread
		steps []step
	}{
		{"an echo without app_id (a Page post shared) changes nothing", Thread{Owner: OwnerUs}, []step{
			{ev: stamped(noApp, t0), now: t0, want: ""},
			{ev: stamped(text(Messaging, "hi"), t0.Add(time.Second)), now: t0.Add(time.Second), want: welcomeMsg},
		}},
		{"an instant reply of the inbox: thread_owner says the bot owns the thread", Thread{Owner: OwnerUs}, []step{
			{ev: stamped(echo(inbox), t0), now: t0, want: ""},
			{ev: stamped(text(Messaging, "hi"), t0.Add(time.Second)), now: t0.Add(time.Second), owner: OwnerUs, want: welcomeMsg},
			{ev: stamped(text(Messaging, "again"), t0.Add(2*time.Second)), now: t0.Add(2 * time.Second), want: welcomeMsg},
		}},
		{"another app's echo, handled a day late: the owner decides, not the time of processing", Thread{Owner: OwnerUs}, []step{
			{ev: stamped(echo(otherApp), t0), now: t0.Add(25 * time.Hour), want: ""},
			{ev: stamped(text(Messaging, "hi"), t0.Add(time.Minute)), now: t0.Add(25 * time.Hour), owner: OwnerUs, want: welcomeMsg},
		}},
		{"the agent's last line delivered after the Done is stale", Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0.Add(-time.Hour), LastUserAt: t0.Add(-time.Hour)}, []step{
			{ev: done, now: t0, want: doneMsg},
			{ev: lastAgentLine, now: t0.Add(time.Second), want: ""},
			{ev: stamped(text(Messaging, "thanks"), t0.Add(time.Minute)), now: t0.Add(time.Minute), want: welcomeMsg},
		}},
		{"an agent's echo on an idle thread still pauses the bot, by the events' times", Thread{}, []step{
			{ev: stamped(echo(inbox), t0), now: t0, want: ""},
			{ev: stamped(text(Messaging, "hi"), t0.Add(time.Minute)), now: t0.Add(time.Minute), owner: OwnerIdle, want: ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { play(t, p, tc.th, tc.steps) })
	}

	d := Decide(p, stamped(noApp, t0), Thread{Owner: OwnerUs}, t0)
	if d.Ignored != IgnoredEchoNoApp || d.Thread != (Thread{Owner: OwnerUs}) {
		t.Errorf("echo without app_id: %+v", d)
	}
	d = Decide(p, lastAgentLine, Thread{Owner: OwnerUs, HandoverAt: t0}, t0)
	if d.Ignored != IgnoredStale || d.Thread.AgentActive {
		t.Errorf("late echo: %+v", d)
	}
	// The agent's echo counts from its own timestamp.
	d = Decide(p, stamped(echo(inbox), t0), Thread{Owner: OwnerUs}, t0.Add(time.Hour))
	if !d.Thread.LastAgentAt.Equal(t0) {
		t.Errorf("LastAgentAt %v, want the echo's timestamp %v", d.Thread.LastAgentAt, t0)
	}
}

// An event stamped before the last handover applied to its thread never re-runs a handover.
func TestEventsOlderThanTheLastHandover(t *testing.T) {
	p := page(t, nil)
	back := Thread{Owner: OwnerUs, HandoverAt: t0, LastUserAt: t0}
	for _, tc := range []struct {
		name string
		ev   Event
	}{
		{"a tap on Pass to Inbox", quick(Messaging, "Pass to Inbox", "pass_to_inbox")},
		{"a take-back tap on standby", quick(Standby, "Take From Inbox", "take_from_inbox")},
		{"a Done", passEv(testApp, inbox)},
		{"a take by the inbox", takeEv(inbox, testApp)},
		{"a request", requestEv(otherApp)},
		{"an agent's echo", echo(inbox)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(p, stamped(tc.ev, t0.Add(-time.Millisecond)), back, t0.Add(time.Minute))
			if len(d.Actions) != 0 || d.Ignored != IgnoredStale || d.Thread != back {
				t.Errorf("%+v", d)
			}
		})
	}
	// Handover events move the mark forward, never back.
	d := Decide(p, stamped(takeEv(inbox, testApp), t0.Add(time.Hour)), back, t0.Add(time.Hour))
	if !d.Thread.HandoverAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("HandoverAt %v", d.Thread.HandoverAt)
	}
	// An event without a timestamp cannot be ordered: it is handled.
	wantActions(t, Decide(p, stamped(text(Messaging, "hi"), time.Time{}), back, t0), welcomeMsg)
}

// On standby, a tap whose quick_reply object the platform stripped arrives as text: the text
// equal to a take-back quick reply's title (trimmed, case-folded, the title cut to 20
// characters as Meta shows it) is the tap.
func TestTakeBackByTitleWithoutQuickReply(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{}
	spec.Default()
	spec.Handoff.Message.QuickReplies = []v1alpha1.QuickReply{{Title: "Give me the bot back, please", Payload: "take_from_inbox"}}
	long := page(t, spec)
	def := page(t, nil)
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0}
	take := "take[take_back] > " + takeBackMsg
	for _, tc := range []struct {
		name string
		p    *Page
		text string
		want string
	}{
		{"the title", def, "Take From Inbox", take},
		{"case and spaces", def, "  take from INBOX ", take},
		{"a part of it", def, "take from", ""},
		{"more than it", def, "take from inbox now", ""},
		{"a handoff title is no take-back", def, "Pass to Inbox", ""},
		{"a long title as Meta cuts it", long, "Give me the bot back", take},
		{"a long title in full is typed text", long, "Give me the bot back, please", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantActions(t, Decide(tc.p, stamped(text(Standby, tc.text), t0), away, t0), tc.want)
		})
	}
	// With the quick_reply object the title counts as before; on messaging while the bot owns the
	// thread the title is ordinary text.
	wantActions(t, Decide(def, quick(Standby, "Take From Inbox", ""), away, t0), take)
	wantActions(t, Decide(def, text(Messaging, "Take From Inbox"), Thread{Owner: OwnerUs}, t0), welcomeMsg)
}

// A take refused with a documented code: 200 (a permission) turns HandoverPermitted false
// (TakeRefused) and leaves the thread with its owner, the bot silent; 551 marks the user
// unreachable. Neither sends the take-back message nor forgets the owner.
func TestTakeRefusals(t *testing.T) {
	p := page(t, nil)
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, LastUserAt: t0}
	d := Decide(p, quick(Standby, "Take From Inbox", "take_from_inbox"), away, t0)
	take := d.Actions[0]
	for _, tc := range []struct {
		name        string
		f           Failure
		refused     bool
		ignored     string
		unreachable bool
	}{
		{"200 permission", FailNotAuthorized, true, IgnoredTakeRefused, false},
		{"10 Conversation Routing", FailTakeRefused, true, IgnoredTakeRefused, false},
		{"551 unavailable", FailUnreachable, false, IgnoredUnreachable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := refused(take, tc.f)
			if TakeRefused(r) != tc.refused {
				t.Errorf("TakeRefused = %v", !tc.refused)
			}
			o := Outcome(p, d.Thread, r, t0)
			if len(o.Actions) != 0 || o.Ignored != tc.ignored || o.Thread.Owner != OwnerOther || o.Thread.OwnerAppID != inbox ||
				o.Thread.Unreachable != tc.unreachable {
				t.Errorf("%+v", o)
			}
		})
	}
}

// pass_thread_control to us: Done (the policy's message) when it names a previous owner, or,
// without one, when our state says the thread was away; silence for a thread from idle.
func TestPassWithoutPreviousOwner(t *testing.T) {
	p := page(t, nil)
	for _, tc := range []struct {
		name string
		th   Thread
		prev string
		want string
	}{
		{"from the inbox, named", Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0}, inbox, doneMsg},
		{"from the inbox, unnamed (pre-2021 shape)", Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0}, "", doneMsg},
		{"after an agent's echo, unnamed", Thread{Owner: OwnerOther, OwnerAppID: inbox, AgentActive: true, LastAgentAt: t0}, "", doneMsg},
		{"from another app that took it, unnamed", Thread{Owner: OwnerOther, OwnerAppID: otherApp}, "", doneMsg},
		{"named, state lost in a restart", Thread{}, inbox, doneMsg},
		{"unnamed, nothing known: from idle", Thread{}, "", ""},
		{"unnamed, known idle", Thread{Owner: OwnerIdle}, "", ""},
		{"unnamed, ours already", Thread{Owner: OwnerUs}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(p, stamped(passEv(testApp, tc.prev), t0), tc.th, t0)
			wantActions(t, d, tc.want)
			if d.Thread.Owner != OwnerUs || !d.Thread.HandoverAt.Equal(t0) {
				t.Errorf("thread %+v", d.Thread)
			}
		})
	}
}

// The bot's own messages go out only within 24 h of the user's last message; what the window
// suppresses is named for the metric.
func TestMessagingWindow(t *testing.T) {
	idle := &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: durationPtr(30 * time.Minute)}
	p := page(t, idle)
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, LastUserAt: t0}
	for _, tc := range []struct {
		name       string
		decide     func(now time.Time) Decision
		now        time.Time
		want       string
		suppressed string
	}{
		{"Done inside the window", func(now time.Time) Decision { return Decide(p, stamped(passEv(testApp, inbox), now), away, now) },
			t0.Add(23 * time.Hour), doneMsg, ""},
		{"Done after the window", func(now time.Time) Decision { return Decide(p, stamped(passEv(testApp, inbox), now), away, now) },
			t0.Add(24 * time.Hour), "", SuppressedWindowClosed},
		{"idle take-back inside the window", func(now time.Time) Decision { return Tick(p, away, now) },
			t0.Add(time.Hour), "take[idle_timeout] > send[idle_timeout](The bot is taking control back)", ""},
		{"idle take-back after the window: the take, no message", func(now time.Time) Decision { return Tick(p, away, now) },
			t0.Add(25 * time.Hour), "take[idle_timeout]", SuppressedWindowClosed},
		{"a user's message reopens it", func(now time.Time) Decision {
			return Decide(p, stamped(text(Messaging, "hi"), now), Thread{Owner: OwnerUs, LastUserAt: t0}, now)
		}, t0.Add(48 * time.Hour), welcomeMsg, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.decide(tc.now)
			wantActions(t, d, tc.want)
			if d.Suppressed != tc.suppressed {
				t.Errorf("suppressed %q, want %q", d.Suppressed, tc.suppressed)
			}
		})
	}
	// The idle timeout with the bot owning the thread already (resolved): the message only.
	r := Action{Kind: ActResolveOwner, PSID: testPSID, Reason: ReasonIdleTimeout}
	o := Outcome(p, Thread{LastUserAt: t0}, owner(r, OwnerUs, ""), t0.Add(25*time.Hour))
	if len(o.Actions) != 0 || o.Suppressed != SuppressedWindowClosed {
		t.Errorf("resolved idle timeout after the window: %+v", o)
	}
}
