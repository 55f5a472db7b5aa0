package simulator

import (
	"context"
	"fmt"
	"time"
)

// act runs a scripted action under the lock and returns once the webhooks it caused have been
// delivered (acknowledged or given up), so tests need no sleeps. Held events are not waited for.
func (s *Simulator) act(f func() error) error {
	s.mu.Lock()
	s.sweepLocked()
	s.collect = []*queued{}
	err := f()
	qs := s.collect
	s.collect = nil
	s.mu.Unlock()
	s.changes.notify()
	for _, q := range qs {
		if q.group != 0 {
			continue
		}
		select {
		case <-q.done:
		case <-s.closing:
			return err
		}
	}
	return err
}

// WaitIdle returns when no webhook is queued or in flight (events collected by Hold excepted).
func (s *Simulator) WaitIdle(ctx context.Context) error {
	return s.Await(ctx, s.dq.idle)
}

// Await returns when cond holds, re-checking it on every change of the simulator's state (a
// message accepted, an owner changed, a delivery done, a call counted). cond must not call back
// into the simulator while holding its own locks.
func (s *Simulator) Await(ctx context.Context, cond func() bool) error {
	for {
		ch := s.changes.current()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("simulator: condition not met: %w", ctx.Err())
		case <-s.closing:
			return fmt.Errorf("simulator: closed")
		}
	}
}

// WaitOwner returns when the thread is owned by owner (an app name or id; "" or "none" for idle).
func (s *Simulator) WaitOwner(ctx context.Context, pageID, psid, owner string) error {
	want := owner
	if want == "" {
		want = "none"
	}
	if a := s.lookupApp(owner); a != "" {
		want = a
	}
	return s.Await(ctx, func() bool { return s.Owner(pageID, psid) == want })
}

// WaitMessages returns when the thread holds at least n accepted messages from `from` (a readable
// app name, "customer", or "" for anyone).
func (s *Simulator) WaitMessages(ctx context.Context, pageID, psid, from string, n int) error {
	return s.Await(ctx, func() bool {
		c := 0
		for _, m := range s.Messages(pageID, psid) {
			if from == "" || m.From == from {
				c++
			}
		}
		return c >= n
	})
}

// WaitQuiet returns once nothing has changed for quiet (wall time): no call, message or delivery.
// Use it to assert that something did NOT happen (e.g. no second reply).
func (s *Simulator) WaitQuiet(ctx context.Context, quiet time.Duration) error {
	for {
		ch := s.changes.current()
		select {
		case <-ch:
		case <-time.After(quiet):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return fmt.Errorf("simulator: closed")
		}
	}
}

func (s *Simulator) lookupApp(ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.appByRef(ref); a != nil {
		return a.name
	}
	return ""
}
