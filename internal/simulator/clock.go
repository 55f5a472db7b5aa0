package simulator

import (
	"sync"
	"time"
)

// Clock is the simulator's notion of "now": ownership expiry, the 24 h messaging window and every
// timestamp come from it, so tests can jump a day ahead without waiting.
type Clock interface {
	Now() time.Time
}

// Advancer is a Clock that can be moved forward (ManualClock, OffsetClock).
type Advancer interface {
	Clock
	Advance(d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock stands still until Advance or Set: for tests.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
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
}

// Set moves the clock to t if t is later than now.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}

// OffsetClock is wall time plus an offset that Advance grows: it keeps ticking (for a running demo
// process) and can still skip a day.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
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
}
