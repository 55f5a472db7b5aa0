package webhookrig

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// A timer of the webhook fires when the simulator's clock passes its instant, not before; a
// stopped one never does.
func TestSimClockFollowsTheSimulator(t *testing.T) {
	sim := simulator.NewManualClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	c := &SimClock{Sim: sim, Poll: time.Millisecond}
	if !c.Now().Equal(sim.Now()) {
		t.Fatalf("Now %v, simulator %v", c.Now(), sim.Now())
	}
	var fired, stopped atomic.Bool
	c.AfterFunc(time.Hour, func() { fired.Store(true) })
	st := c.AfterFunc(time.Hour, func() { stopped.Store(true) })
	sim.Advance(59 * time.Minute)
	time.Sleep(20 * time.Millisecond) // several polls: nothing is due yet
	if fired.Load() {
		t.Fatal("fired before the simulator's clock reached it")
	}
	if !st.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	sim.Advance(time.Minute)
	Eventually(t, "the timer", fired.Load)
	time.Sleep(10 * time.Millisecond)
	if stopped.Load() {
		t.Error("a stopped timer fired")
	}
}
