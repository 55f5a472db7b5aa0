package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The error message (spec.errorMessage's rule): after a transient failure or a 5xx that
// retries did not overcome (FailInternal) or a rejected template (FailRejected) of the bot's
// reply, while the bot owns the thread, inside the window, at most once per thread per minute;
// never after 551, 2018278, 2018300 or 190.
func TestErrorMessage(t *testing.T) {
	p := page(t, nil)
	welcome := Decide(p, text(Messaging, "hi"), Thread{Owner: OwnerUs}, t0).Actions[0]
	us := Thread{Owner: OwnerUs, LastUserAt: t0}
	for _, tc := range []struct {
		name string
		th   Thread
		r    Result
		now  time.Time
		want string
	}{
		{"transient or 5xx, retries given up", us, failed(welcome), t0, errorMsg},
		{"template rejected", us, refused(welcome, FailRejected), t0, errorMsg},
		{"551", us, refused(welcome, FailUnreachable), t0, ""},
		{"2018278", us, refused(welcome, FailOutsideWindow), t0, ""},
		{"2018300", us, refused(welcome, FailNotOwner), t0, ""},
		{"190", us, refused(welcome, FailTokenInvalid), t0, ""},
		{"a Graph refusal is not a failure of ours", us, refused(welcome, FailRefused), t0, ""},
		{"not authorised", us, refused(welcome, FailNotAuthorized), t0, ""},
		{"ambiguous", us, refused(welcome, FailAmbiguous), t0, ""},
		{"unreachable user", Thread{Owner: OwnerUs, Unreachable: true}, failed(welcome), t0, ""},
		{"another app's thread", Thread{Owner: OwnerOther, OwnerAppID: inbox}, failed(welcome), t0, ""},
		{"unknown owner: check first", Thread{}, failed(welcome), t0, "resolve[error]"},
		{"sent 30 s ago", Thread{Owner: OwnerUs, ErrorAt: t0.Add(-30 * time.Second)}, failed(welcome), t0, ""},
		{"sent a minute ago", Thread{Owner: OwnerUs, ErrorAt: t0.Add(-time.Minute)}, failed(welcome), t0, errorMsg},
		{"window closed", us, failed(welcome), t0.Add(24 * time.Hour), ""},
		{"window open", us, failed(welcome), t0.Add(23 * time.Hour), errorMsg},
		{"done is not a user's message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonDone, Message: p.Policy.done}), t0, ""},
		{"request is not a user's message", us, failed(Action{Kind: ActPass, PSID: testPSID, Reason: ReasonRequest, TargetAppID: inbox}), t0, ""},
		{"idle timeout is not a user's message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonIdleTimeout, Message: p.Policy.takeBack}), t0, ""},
		{"the error message itself", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonError, Message: p.Policy.errorMsg}), t0, ""},
		{"take-back message after the take", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonTakeBack, Message: p.Policy.takeBack}), t0, errorMsg},
		{"outside hours message", us, failed(Action{Kind: ActSend, PSID: testPSID, Reason: ReasonOutsideHours, Message: p.Policy.welcome}), t0, errorMsg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Outcome(p, tc.th, tc.r, tc.now)
			wantActions(t, o, tc.want)
			if tc.want == errorMsg && !o.Thread.ErrorAt.Equal(tc.now) {
				t.Errorf("ErrorAt %v, want %v", o.Thread.ErrorAt, tc.now)
			}
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
	th := Thread{Owner: OwnerUs, ErrorAt: t0}
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
