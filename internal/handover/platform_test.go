package handover

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// platform is a small model of Conversation Routing for one thread, with the webhook's way of
// running actions (an action's Then only after it succeeded, then Outcome's follow-ups first on
// the agenda). It holds the engine to the platform's rules: a send by an app that does not own the
// thread fails with 10/2018300, a take by the owner fails, a take in zero-config mode is refused.
type platform struct {
	t          *testing.T
	p          *Page
	th         Thread
	now        time.Time
	owner      string // "" idle
	defaultApp string // "" zero-config
	log        []string
	sends      []string // reasons of successful sends
	// fault, when set, answers an action instead of the model (once).
	fault func(a Action) (Result, bool)
}

func newPlatform(t *testing.T, p *Page) *platform {
	return &platform{t: t, p: p, now: t0, defaultApp: p.AppID}
}

// channel is where the user's events reach our app.
func (pl *platform) channel() Channel {
	if pl.defaultApp == "" || pl.owner == pl.p.AppID || pl.owner == "" && pl.defaultApp == pl.p.AppID {
		return Messaging
	}
	return Standby
}

// user delivers a user's event; an idle thread goes to the default app (social routing).
func (pl *platform) user(ev Event) {
	if pl.owner == "" && pl.defaultApp != "" {
		pl.owner = pl.defaultApp
	}
	ev.Channel = pl.channel()
	if ev.Channel == Standby && ev.Kind == KindPostback {
		ev.PostbackPayload = "" // not delivered on standby
	}
	pl.deliver(ev)
}

func (pl *platform) deliver(ev Event) {
	pl.t.Helper()
	ev.PageID, ev.PSID, ev.Timestamp = testPage, testPSID, pl.now
	d := Decide(pl.p, ev, pl.th, pl.now)
	pl.th = d.Thread
	pl.run(d.Actions)
}

// agentWrites: a person replies in the inbox; the inbox takes control when it does not have it.
func (pl *platform) agentWrites() {
	pl.inboxTakes()
	pl.deliver(echo(inbox))
}

// inboxTakes: the inbox takes control; the app that loses it gets take_thread_control, and so
// does every app when the thread was idle (Messenger CR doc, reference §3.5).
func (pl *platform) inboxTakes() {
	if pl.owner == inbox {
		return
	}
	prev := pl.owner
	pl.owner = inbox
	if prev == pl.p.AppID || prev == "" {
		pl.deliver(takeEv(inbox, prev))
	}
}

// agentDone: the agent marks the conversation done; control passes to the default app.
func (pl *platform) agentDone() {
	if pl.owner != inbox {
		pl.t.Fatalf("Done while the inbox does not own the thread (owner %q)", pl.owner)
	}
	if pl.defaultApp == "" || pl.defaultApp == inbox {
		pl.owner = "" // released: no webhook
		return
	}
	pl.owner = pl.defaultApp
	pl.deliver(passEv(pl.defaultApp, inbox))
}

// advance moves the clock and fires the engine's timer as the webhook would.
func (pl *platform) advance(d time.Duration) {
	end := pl.now.Add(d)
	for {
		at := NextTick(pl.p, pl.th)
		if at.IsZero() || at.After(end) {
			break
		}
		if at.After(pl.now) {
			pl.now = at
		}
		dec := Tick(pl.p, pl.th, pl.now)
		pl.th = dec.Thread
		pl.run(dec.Actions)
	}
	pl.now = end
}

func (pl *platform) run(acts []Action) {
	pl.t.Helper()
	agenda := append([]Action(nil), acts...)
	for rounds := 0; len(agenda) > 0; rounds++ {
		if rounds > 20 {
			pl.t.Fatalf("engine loop: %s", describe(agenda))
		}
		a := agenda[0]
		agenda = agenda[1:]
		if a.PSID == "" {
			a.PSID = testPSID
		}
		r := pl.exec(a)
		d := Outcome(pl.p, pl.th, r, pl.now)
		pl.th = d.Thread
		var next []Action
		if r.OK {
			next = append(next, a.Then...)
		}
		next = append(next, d.Actions...)
		agenda = append(next, agenda...)
	}
}

func (pl *platform) exec(a Action) Result {
	pl.t.Helper()
	if pl.fault != nil {
		if r, ok := pl.fault(a); ok {
			pl.log = append(pl.log, fmt.Sprintf("%s=%s", describeKind(a), failureMark(r)))
			return r
		}
	}
	us := pl.p.AppID
	res := Result{Action: a}
	switch a.Kind {
	case ActSend:
		switch {
		case pl.owner == us:
		case pl.owner == "" && (pl.defaultApp == "" || pl.defaultApp == us):
			if pl.defaultApp != "" {
				pl.owner = us
			}
		default:
			pl.t.Errorf("the engine sent %q on a thread %s owns", a.Reason, pl.owner)
			pl.log = append(pl.log, describeKind(a)+"=2018300")
			res.Failure = FailNotOwner // 10/2018300
			return res
		}
		pl.sends = append(pl.sends, a.Reason)
	case ActPass:
		if pl.owner != us && pl.owner != "" {
			pl.log = append(pl.log, describeKind(a)+"=2534037")
			res.Failure = FailNotOwner // 100/2534037
			return res
		}
		pl.owner = a.TargetAppID
	case ActTake:
		switch {
		case pl.defaultApp == "":
			pl.log = append(pl.log, describeKind(a)+"=refused")
			res.Failure = FailTakeRefused // (#10) Application does not have permission to take thread control
			return res
		case pl.owner == us:
			pl.t.Errorf("the engine took a thread it owns")
			res.Failure = FailAlreadyOwner // (#100) The app is already the thread owner.
			return res
		}
		pl.owner = us
	case ActResolveOwner:
		switch pl.owner {
		case us:
			res.Owner = OwnerUs
		case "":
			res.Owner = OwnerIdle
		default:
			res.Owner = OwnerOther // CR hides the app id from a non-owner, non-default app
			if pl.defaultApp == us {
				res.OwnerAppID = pl.owner
			}
		}
	}
	res.OK = true
	pl.log = append(pl.log, describeKind(a))
	return res
}

func describeKind(a Action) string {
	switch a.Kind {
	case ActSend:
		return "send:" + a.Reason
	case ActPass:
		return "pass:" + a.Reason + ":" + a.TargetAppID
	case ActTake:
		return "take:" + a.Reason
	}
	return "resolve:" + a.Reason
}

func failureMark(r Result) string {
	if r.Failure == FailInternal {
		return "failed"
	}
	return fmt.Sprintf("fault(%d)", r.Failure)
}

// calls returns the log since the last call and clears it.
func (pl *platform) calls() string {
	s := strings.Join(pl.log, " ")
	pl.log = nil
	return s
}

func (pl *platform) expect(want string) {
	pl.t.Helper()
	if got := pl.calls(); got != want {
		pl.t.Errorf("Graph calls:\n got  %q\n want %q", got, want)
	}
}
