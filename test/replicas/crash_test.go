package replicas

import (
	"testing"
	"time"
)

// A replica dies at a crash point while handling the first event it gets; the other replica
// finishes every conversation. A duplicate message is possible only when the replica died
// between a Graph call and its record, at most one (in that thread); every pass is made
// once: before repeating one, the replica checks thread_owner.
func TestCrashPoints(t *testing.T) {
	for _, tc := range []struct {
		point  string
		maxDup int
	}{
		{"accepted", 0},
		{"leased", 0},
		{"called:messages", 1},
		{"called:pass_thread_control", 1},
		{"committed", 0},
	} {
		t.Run(tc.point, func(t *testing.T) {
			r := newRig(t, 2, 2*time.Second)
			doomed, survivor := r.replicas[0], r.replicas[1]
			survivor.start("")
			doomed.start(tc.point)
			convs := r.conversations(6)
			r.play(convs, 6, 0, nil)
			if !doomed.exited() {
				t.Fatalf("the replica never reached the crash point %q", tc.point)
			}
			dups := r.check(convs, tc.maxDup)
			t.Logf("crash point %s: %d duplicate messages", tc.point, dups)
		})
	}
}
