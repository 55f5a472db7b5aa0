package simulator

import (
	"sync"
	"time"
)

// Clock is the simulator's notion of "now": ownership expiry, the 24 h messaging window, delivery
// retries, rate limits and every timestamp come from it, so tests can jump a day ahead without
// waiting.
type Clock interface {
	Now() time.Time
}

// Advancer is a Clock that can be moved forward (ManualClock, OffsetClock).
type Advancer interface {
	Clock
	Advance(d time.Duration)
}

// moveWatcher is implemented by the clocks of this package: the channel closes when the clock is
// moved forward, so delivery retries waiting for a simulated instant wake up even when a test
// advances the clock directly instead of through Simulator.Advance.
type moveWatcher interface {
	moved() <-chan struct{}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// moves is a broadcast: moved() returns a channel that the next bump closes.
type moves struct {
	mu sync.Mutex
	ch chan struct{}
}

func (m *moves) moved() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ch == nil {
		m.ch = make(chan struct{})
	}
	return m.ch
}

func (m *moves) bump() {
	m.mu.Lock()
	if m.ch != nil {
		close(m.ch)
		m.ch = nil
	}
	m.mu.Unlock()
}

// ManualClock stands still until Advance or Set: for tests.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
	mv  moves
}

// NewManualClock starts at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the current simulated time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (negative values are ignored: time does not go back).
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.mv.bump()
}

// Set moves the clock to t if t is later than now.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	later := t.After(c.now)
	if later {
		c.now = t
	}
	c.mu.Unlock()
	if later {
		c.mv.bump()
	}
}

func (c *ManualClock) moved() <-chan struct{} { return c.mv.moved() }

// OffsetClock is wall time plus an offset that Advance grows: it keeps ticking (for a running demo
// process) and can still skip a day.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
	mv     moves
}

// Now returns wall time plus the accumulated offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance adds d to the offset (negative values are ignored).
func (c *OffsetClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	c.mv.bump()
}

func (c *OffsetClock) moved() <-chan struct{} { return c.mv.moved() }
