package graph

import (
	"context"
	"sync/atomic"
	"time"
)

// limiter is a lock-free token bucket in GCRA form: tat is the theoretical arrival time of the
// next call; a call may go when tat - burst*interval <= now. Callers reserve a slot with one CAS
// and sleep until it comes.
type limiter struct {
	interval int64 // ns per call
	tau      int64 // tolerance: (burst-1) * interval
	tat      atomic.Int64
}

// newLimiter allows perSecond calls per second with bursts of up to perSecond/10 (at least 1),
// so that a burst never exceeds the per-second budget Meta counts.
func newLimiter(perSecond int) *limiter {
	burst := perSecond / 10
	if burst < 1 {
		burst = 1
	}
	iv := int64(time.Second) / int64(perSecond)
	return &limiter{interval: iv, tau: int64(burst-1) * iv}
}

// reserve takes the next slot and says how long to wait for it.
func (l *limiter) reserve(now time.Time) time.Duration {
	n := now.UnixNano()
	for {
		old := l.tat.Load()
		tat := max(old, n)
		if l.tat.CompareAndSwap(old, tat+l.interval) {
			if wait := tat - l.tau - n; wait > 0 {
				return time.Duration(wait)
			}
			return 0
		}
	}
}

func (l *limiter) wait(ctx context.Context, now func() time.Time) error {
	d := l.reserve(now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
