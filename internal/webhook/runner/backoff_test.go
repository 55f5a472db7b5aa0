package runner

import (
	"testing"
	"time"
)

// The retry delay doubles from RetryBase up to RetryMax; each is half fixed, half random.
func TestBackoffDoublesToTheCapWithJitter(t *testing.T) {
	r := &Runner{opts: Options{RetryBase: 250 * time.Millisecond, RetryMax: 15 * time.Second}}
	for attempt := 1; attempt <= 12; attempt++ {
		want := min(250*time.Millisecond<<(attempt-1), 15*time.Second)
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 200 {
			d := r.backoff(attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < want/2 || hi > want {
			t.Errorf("attempt %d: delays in [%v, %v], want within [%v, %v]", attempt, lo, hi, want/2, want)
		}
		if hi-lo < want/4 {
			t.Errorf("attempt %d: delays in [%v, %v]: no jitter", attempt, lo, hi)
		}
	}
}
