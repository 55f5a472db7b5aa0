package webhooktest

import (
	"sync"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// Clock is a runner.Clock moved by hand (Advance); due timers fire in their own goroutines, as
// AfterFunc's do.
type Clock struct {
	// Sync runs the due timers in Advance itself, before it returns, so that what they start
	// (a runner's ticks) is queued by then.
	Sync bool

	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	c       *Clock
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

// NewClock returns a Clock at a fixed instant.
func NewClock() *Clock { return &Clock{now: time.Unix(1700000000, 0)} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) AfterFunc(d time.Duration, f func()) runner.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

// Advance moves the clock on by d and fires the timers then due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*timer
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.at.After(c.now) {
			t.fired = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		if c.Sync {
			t.f()
		} else {
			go t.f()
		}
	}
}

// Pending counts the timers neither stopped nor fired.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			n++
		}
	}
	return n
}

// RunningClock is the wall clock moved back to the instant of NewClock: the fixed timestamps of
// the test events (1700000000000 and a little after) are seconds old, never past the replay
// cut-off, while timers and backoff run in real time.
type RunningClock struct{ start time.Time }

// NewRunningClock returns a RunningClock that reads NewClock's instant now.
func NewRunningClock() *RunningClock { return &RunningClock{start: time.Now()} }

func (c *RunningClock) Now() time.Time { return time.Unix(1700000000, 0).Add(time.Since(c.start)) }

func (c *RunningClock) AfterFunc(d time.Duration, f func()) runner.Timer { return time.AfterFunc(d, f) }
