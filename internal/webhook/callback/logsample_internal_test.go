package callback

import (
	"testing"
	"time"
)

// The limiter passes a burst per interval and reports what it left out with the next line.
func TestLogLimiterCountsSuppressed(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := logLimiter{now: func() time.Time { return now }}
	passed := 0
	for range 100 {
		if ok, _ := l.allow(); ok {
			passed++
		}
	}
	if passed != refusalBurst {
		t.Fatalf("passed %d lines in one interval, want %d", passed, refusalBurst)
	}
	now = now.Add(refusalInterval)
	ok, suppressed := l.allow()
	if !ok || suppressed != 100-refusalBurst {
		t.Fatalf("next interval: ok=%v suppressed=%d, want true %d", ok, suppressed, 100-refusalBurst)
	}
	if _, s := l.allow(); s != 0 {
		t.Fatalf("suppressed reported twice: %d", s)
	}
}
