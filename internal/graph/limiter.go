package graph

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// limiter spaces the page's sends: perSecond calls per second with bursts of up to perSecond/10
// (at least 1), so that a burst never exceeds the per-second budget Meta counts. It reads the
// client's clock.
type limiter struct{ l *rate.Limiter }

func newLimiter(perSecond int) *limiter {
	return &limiter{rate.NewLimiter(rate.Limit(perSecond), max(perSecond/10, 1))}
}

// wait takes the next slot and waits for it, or gives it back when ctx ends first.
func (l *limiter) wait(ctx context.Context, now func() time.Time) error {
	at := now()
	r := l.l.ReserveN(at, 1)
	d := r.DelayFrom(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.CancelAt(now()) // the slot goes back to the next caller
		return ctx.Err()
	}
}
