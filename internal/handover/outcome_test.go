package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The error message: once, for a user's message whose handling failed, never on another app's
// thread, never after 551/2018278/190, never twice in a row.
func TestErrorMessage(t *testing.T) {
	p := page(t, nil)
	th := Thread{Owner: OwnerUs}
	welcome := Decide(p, text(Messaging, "hi"), th, t0).Actions[0]

	// A failed welcome: the error message, and ErrorSent.
	o := Outcome(p, th, failed(welcome), t0)
	wantActions(t, o, errorMsg)
	if !o.Thread.ErrorSent {
		t.Fatal("ErrorSent not set")
	}
	errSend := o.Actions[0]
	// The error message went out: still the last thing sent.
	th = Outcome(p, o.Thread, ok(errSend), t0).Thread
	if !th.ErrorSent {
		t.Error("a sent error message cleared ErrorSent")
	}
	// The next failure gets nothing: never twice in a row.
	wantActions(t, Outcome(p, th, failed(welcome), t0), "")
	// Any other successful send clears it, and the next failure is answered again.
	th = Outcome(p, th, ok(welcome), t0).Thread
	if th.ErrorSent {
		t.Error("a successful welcome did not clear ErrorSent")
	}
	wantActions(t, Outcome(p, th, failed(welcome), t0), errorMsg)

	// The error message failing does not call for another one.
	if o := Outcome(p, Thread{Owner: OwnerUs}, failed(errSend), t0); len(o.Actions) != 0 {
		t.Errorf("error message for the error message: %s", describe(o.Actions))
	}

	us := Thread{Owner: OwnerUs}
	for _, tc := range []struct {
		name string
		th   Thread
		r    Result
		want string
	}{
		{"551", us, refused(welcome, FailUnreachable), ""},
		{"2018278", us, refused(welcome, FailOutsideWindow), ""},
		{"190", us, refused(welcome, FailTokenInvalid), ""},
		{"unreachable user", Thread{Owner: OwnerUs, Unreachable: true}, failed(welcome), ""},
		{"another app's thread", Thread{Owner: OwnerOther, OwnerAppID: inbox}, failed(welcome), ""},
		{"unknown owner: check first", Thread{}, failed(welcome), "resolve[error]"},
		{"a Graph refusal is not a failure of ours", us, refused(welcome, FailRefused), ""},
		{"ambiguous", us, refused(welcome, FailAmbiguous), ""},
		{"done is not a user's message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonDone, Message: p.Policy.done}), ""},
		{"request is not a user's message", us, failed(Action{Kind: ActPass, PSID: testPSID, Reason: ReasonRequest, TargetAppID: inbox}), ""},
		{"idle timeout is not a user's message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonIdleTimeout, Message: p.Policy.takeBack}), ""},
		{"take-back message after the take", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonTakeBack, Message: p.Policy.takeBack}), errorMsg},
		{"outside hours message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonOutsideHours, Message: p.Policy.welcome}), errorMsg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantActions(t, Outcome(p, tc.th, tc.r, t0), tc.want)
		})
	}

	// The owner check resumes the error message only on our own thread.
	d := Outcome(p, Thread{}, failed(welcome), t0)
	wantActions(t, Outcome(p, d.Thread, owner(d.Actions[0], OwnerUs, ""), t0), errorMsg)
	wantActions(t, Outcome(p, d.Thread, owner(d.Actions[0], OwnerOther, ""), t0), "")
	wantActions(t, Outcome(p, d.Thread, owner(d.Actions[0], OwnerIdle, ""), t0), "")
}

// Send before pass: what happens to the pass when the handoff message fails.
func TestHandoffOutcomes(t *testing.T) {
	p := page(t, nil)
	d := Decide(p, quick(Messaging, "Pass to Inbox", "pass_to_inbox"), Thread{Owner: OwnerUs}, t0)
	send := d.Actions[0]
	passed := d.Thread
	for _, tc := range []struct {
		name        string
		r           Result
		want        string
		owner       Owner
		passedAt    bool
		unreachable bool
	}{
		{"sent: the webhook runs the pass (Then)", ok(send), "", OwnerOther, true, false},
		{"another app controls the thread: no pass", refused(send, FailNotOwner), "", OwnerOther, false, false},
		{"blocked: no pass", refused(send, FailUnreachable), "", OwnerUs, false, true},
		{"outside the window: no pass", refused(send, FailOutsideWindow), "", OwnerUs, false, true},
		{"token: no pass", refused(send, FailTokenInvalid), "", OwnerUs, false, false},
		{"retries exhausted: pass anyway", failed(send), passInbox, OwnerOther, true, false},
		{"ambiguous: pass anyway", refused(send, FailAmbiguous), passInbox, OwnerOther, true, false},
		{"bad message: pass anyway", refused(send, FailRefused), passInbox, OwnerOther, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Outcome(p, passed, tc.r, t0)
			wantActions(t, o, tc.want)
			if o.Thread.Owner != tc.owner || !o.Thread.PassedAt.IsZero() != tc.passedAt || o.Thread.Unreachable != tc.unreachable {
				t.Errorf("thread %+v: want owner %v, passed %v, unreachable %v", o.Thread, tc.owner, tc.passedAt, tc.unreachable)
			}
		})
	}

	pass := send.Then[0]
	for _, tc := range []struct {
		name     string
		r        Result
		want     string
		owner    Owner
		passedAt bool
	}{
		{"passed", ok(pass), "", OwnerOther, true},
		{"retries exhausted: ours again, the error message", failed(pass), errorMsg, OwnerUs, false},
		{"not the owner", refused(pass, FailNotOwner), "", OwnerUnknown, false},
		{"ambiguous: may have passed", refused(pass, FailAmbiguous), "", OwnerUnknown, true},
		{"refused", refused(pass, FailRefused), "", OwnerUs, false},
		{"token", refused(pass, FailTokenInvalid), "", OwnerUs, false},
	} {
		t.Run("pass "+tc.name, func(t *testing.T) {
			o := Outcome(p, passed, tc.r, t0)
			wantActions(t, o, tc.want)
			if o.Thread.Owner != tc.owner || !o.Thread.PassedAt.IsZero() != tc.passedAt {
				t.Errorf("thread %+v: want owner %v, passed %v", o.Thread, tc.owner, tc.passedAt)
			}
			if tc.owner == OwnerOther && o.Thread.OwnerAppID != inbox {
				t.Errorf("owner app %q", o.Thread.OwnerAppID)
			}
		})
	}
}

// End to end: the handoff message fails for good; the pass still happens, and no error message
// is sent on the inbox's thread.
func TestHandoffMessageLost(t *testing.T) {
	pl := newPlatform(t, page(t, nil))
	pl.fault = func(a Action) (Result, bool) {
		if a.Kind == ActSend && a.Reason == ReasonHandoff {
			return failed(a), true
		}
		return Result{}, false
	}
	pl.user(quick(0, "Pass to Inbox", "pass_to_inbox"))
	pl.expect("send:handoff=failed pass:handoff:" + inbox)
	if pl.owner != inbox || pl.th.Owner != OwnerOther {
		t.Errorf("owner %q, thread %+v", pl.owner, pl.th)
	}

	// The pass fails too: the bot keeps the thread and says something went wrong.
	pl2 := newPlatform(t, page(t, nil))
	pl2.fault = func(a Action) (Result, bool) {
		if a.Kind == ActPass {
			return failed(a), true
		}
		return Result{}, false
	}
	pl2.user(quick(0, "Pass to Inbox", "pass_to_inbox"))
	pl2.expect("send:handoff pass:handoff:" + inbox + "=failed send:error")
	if pl2.th.Owner != OwnerUs || !pl2.th.PassedAt.IsZero() || !pl2.th.ErrorSent {
		t.Errorf("thread %+v", pl2.th)
	}
	pl2.fault = nil
	pl2.user(text(0, "hello?"))
	pl2.expect("send:welcome")
	if pl2.th.ErrorSent {
		t.Error("ErrorSent survives a successful welcome")
	}
}

func TestSendOutcomes(t *testing.T) {
	p := page(t, nil)
	welcome := Decide(p, text(Messaging, "hi"), Thread{}, t0).Actions[0]

	// 10/2018300: another app (unknown which) owns the thread: silent, no retry.
	o := Outcome(p, Thread{Owner: OwnerUs}, refused(welcome, FailNotOwner), t0)
	if len(o.Actions) != 0 || o.Thread.Owner != OwnerOther || o.Thread.OwnerAppID != "" {
		t.Errorf("2018300: %+v", o)
	}
	// 551 and 2018278: unreachable, no error message, no Done message later.
	for _, r := range []Result{refused(welcome, FailUnreachable), refused(welcome, FailOutsideWindow)} {
		o := Outcome(p, Thread{Owner: OwnerUs}, r, t0)
		if len(o.Actions) != 0 || !o.Thread.Unreachable || o.Thread.Owner != OwnerUs {
			t.Errorf("failure %d: %+v", r.Failure, o)
		}
	}
	un := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, Unreachable: true}
	if d := Decide(p, passEv(testApp, inbox), un, t0); len(d.Actions) != 0 || !d.Thread.Unreachable {
		t.Errorf("Done to an unreachable user: %+v", d)
	}
	// The user writes again: reachable, answered.
	d := Decide(p, text(Messaging, "back"), Thread{Owner: OwnerUs, Unreachable: true}, t0)
	wantActions(t, d, welcomeMsg)
	if d.Thread.Unreachable {
		t.Error("still unreachable after the user wrote")
	}
	// A successful send clears Unreachable too.
	if o := Outcome(p, Thread{Owner: OwnerUs, Unreachable: true}, ok(welcome), t0); o.Thread.Unreachable {
		t.Error("Unreachable survives a successful send")
	}
	// 190: nothing, the webhook reports the token on the page.
	if o := Outcome(p, Thread{Owner: OwnerUs}, refused(welcome, FailTokenInvalid), t0); len(o.Actions) != 0 || o.Thread != (Thread{Owner: OwnerUs}) {
		t.Errorf("190: %+v", o)
	}
	// No policy: the thread is kept.
	th := Thread{Owner: OwnerUs, ErrorSent: true}
	if o := Outcome(nil, th, failed(welcome), t0); len(o.Actions) != 0 || o.Thread != th {
		t.Errorf("nil page: %+v", o)
	}
}

// Never a send decision on a thread another app owns, whatever the event.
func TestNeverSendOnAnotherAppsThread(t *testing.T) {
	spec := businessSpec(v1alpha1.OutsidePassAnyway)
	spec.AgentIdleTimeout = durationPtr(time.Minute)
	p := page(t, spec)
	events := []Event{
		text(Messaging, "hi"), text(Messaging, "agent"), text(Standby, "hi"), text(Standby, "agent"),
		quick(Messaging, "Pass to Inbox", "pass_to_inbox"), quick(Standby, "Pass to Inbox", "pass_to_inbox"),
		quick(Messaging, "Take From Inbox", "take_from_inbox"), quick(Standby, "Take From Inbox", ""),
		postback(Messaging, "Human", "HUMAN"), postback(Standby, "Human", ""),
		echo(inbox), echo(testApp), requestEv(inbox), takeEv(inbox, testApp), passEv(otherApp, inbox),
		{Kind: KindOther, PSID: testPSID},
	}
	for _, th := range []Thread{
		{Owner: OwnerOther, OwnerAppID: inbox},
		{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, AgentActive: true, LastAgentAt: t0},
		{Owner: OwnerOther},
	} {
		for _, ev := range events {
			d := Decide(p, ev, th, t0.Add(time.Hour))
			if len(d.Actions) > 0 && d.Actions[0].Kind == ActSend {
				t.Errorf("%+v on %+v: %s", ev, th, describe(d.Actions))
			}
		}
		d := Tick(p, th, t0.Add(time.Hour))
		if len(d.Actions) > 0 && d.Actions[0].Kind == ActSend {
			t.Errorf("tick on %+v: %s", th, describe(d.Actions))
		}
	}
}
