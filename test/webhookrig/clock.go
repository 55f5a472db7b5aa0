package webhookrig

import (
	"sync"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// SimClock makes the webhook follow the simulator's clock (webhook.Options.Clock, a test-only
// option): Now is the simulator's, and a timer fires once the simulator's clock has passed its
// instant, whether wall time got there or a test advanced the clock.
type SimClock struct {
	Sim simulator.Clock
	// Poll is how often a pending timer looks at the simulator's clock. Default 10ms.
	Poll time.Duration
}

var _ runner.Clock = (*SimClock)(nil)

// Now is the simulator's time.
func (c *SimClock) Now() time.Time { return c.Sim.Now() }

// AfterFunc calls f in its own goroutine once the simulator's clock reaches now+d.
func (c *SimClock) AfterFunc(d time.Duration, f func()) runner.Timer {
	poll := c.Poll
	if poll <= 0 {
		poll = 10 * time.Millisecond
	}
	t := &simTimer{stop: make(chan struct{})}
	at := c.Sim.Now().Add(d)
	go func() {
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for c.Sim.Now().Before(at) {
			select {
			case <-t.stop:
				return
			case <-tick.C:
			}
		}
		if t.fire() {
			f()
		}
	}()
	return t
}

type simTimer struct {
	mu          sync.Mutex
	done        bool // fired or stopped
	stop        chan struct{}
	stoppedOnce sync.Once
}

// fire marks the timer fired unless it was stopped.
func (t *simTimer) fire() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Stop prevents the call if it has not started.
func (t *simTimer) Stop() bool {
	t.mu.Lock()
	was := !t.done
	t.done = true
	t.mu.Unlock()
	t.stoppedOnce.Do(func() { close(t.stop) })
	return was
}
