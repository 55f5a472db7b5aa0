package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func idlePage(t *testing.T, d time.Duration) *Page {
	return page(t, &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: durationPtr(d)})
}

func TestIdleTimeout(t *testing.T) {
	p := idlePage(t, 30*minute)
	passed := passedState(Thread{}, t0, inbox)

	if got := NextTick(page(t, nil), passed); !got.IsZero() {
		t.Errorf("timeout off: NextTick %v", got)
	}
	if got := NextTick(p, Thread{Owner: OwnerUs}); !got.IsZero() {
		t.Errorf("our thread: NextTick %v", got)
	}
	if got := NextTick(p, passed); !got.Equal(t0.Add(30 * minute)) {
		t.Errorf("after a pass: NextTick %v", got)
	}

	// Not due: nothing, nothing changed.
	d := Tick(p, passed, t0.Add(29*minute))
	if len(d.Actions) != 0 || d.Thread != passed || d.Ignored != IgnoredNotDue {
		t.Errorf("early tick: %+v", d)
	}

	// An agent writes: the timeout counts from the agent's last message.
	agent := Decide(p, echo(inbox), passed, t0.Add(20*minute)).Thread
	if got := NextTick(p, agent); !got.Equal(t0.Add(50 * minute)) {
		t.Errorf("after an agent message: NextTick %v", got)
	}
	if d := Tick(p, agent, t0.Add(31*minute)); len(d.Actions) != 0 {
		t.Errorf("tick counted from the pass, not the agent: %s", describe(d.Actions))
	}

	// Due: take, then (only after the take succeeded) the take-back message.
	d = Tick(p, agent, t0.Add(50*minute))
	wantActions(t, d, "take[idle_timeout] > send[idle_timeout](The bot is taking control back)")
	if d.Actions[0].Metadata != "idle_timeout" {
		t.Errorf("take metadata %q", d.Actions[0].Metadata)
	}
	if !NextTick(p, d.Thread).IsZero() || d.Thread.AgentActive {
		t.Errorf("the timer still runs after it fired: %+v", d.Thread)
	}
	o := Outcome(p, d.Thread, ok(d.Actions[0]), t0.Add(50*minute))
	if o.Thread.Owner != OwnerUs || len(o.Actions) != 0 {
		t.Errorf("after the take: %+v", o)
	}

	// A refused take: silent, and the timer does not fire again and again.
	o = Outcome(p, d.Thread, refused(d.Actions[0], FailTakeRefused), t0.Add(50*minute))
	if len(o.Actions) != 0 || o.Thread.Owner != OwnerOther || o.Thread.OwnerAppID != inbox || !NextTick(p, o.Thread).IsZero() {
		t.Errorf("refused: %+v", o)
	}

	// A user who cannot be reached: take, no message.
	un := agent
	un.Unreachable = true
	wantActions(t, Tick(p, un, t0.Add(time.Hour)), "take[idle_timeout]")
}

// With an unknown owner (an ambiguous pass), the timer asks who owns the thread first.
func TestIdleTimeoutUnknownOwner(t *testing.T) {
	p := idlePage(t, 10*minute)
	th := Thread{Owner: OwnerUnknown, PassedAt: t0}
	at := NextTick(p, th)
	if !at.Equal(t0.Add(10 * minute)) {
		t.Fatalf("NextTick %v", at)
	}
	d := Tick(p, th, at)
	wantActions(t, d, "resolve[idle_timeout]")
	res := d.Actions[0]
	res.PSID = testPSID // the webhook addresses timer actions to the thread's user

	o := Outcome(p, d.Thread, owner(res, OwnerOther, inbox), at)
	wantActions(t, o, "take[idle_timeout] > send[idle_timeout](The bot is taking control back)")
	o = Outcome(p, d.Thread, owner(res, OwnerUs, ""), at)
	wantActions(t, o, "send[idle_timeout](The bot is taking control back)")
	o = Outcome(p, d.Thread, owner(res, OwnerIdle, ""), at)
	if len(o.Actions) != 0 || o.Thread.Owner != OwnerIdle || !NextTick(p, o.Thread).IsZero() {
		t.Errorf("idle: %+v", o)
	}
}
