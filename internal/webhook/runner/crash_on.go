//go:build crashpoints

package runner

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Crash points, for the fault tests only (built with the crashpoints tag): the process exits at
// once, like kill -9 (no drain, no deferred writes), the first time it reaches the point that
// MESSENGER_WEBHOOK_CRASH_AT names: "accepted" (an event recorded in the journal, before the
// 200), "leased" (its thread's lease held, before the first Graph call), "called" (a Graph call
// made, before the commit; "called:ENDPOINT" for a call to that endpoint only), "committed"
// (after the commit).
var (
	crashPoint = os.Getenv("MESSENGER_WEBHOOK_CRASH_AT")
	crashed    atomic.Bool
)

func crashAt(point, endpoint string) {
	want, ep, _ := strings.Cut(crashPoint, ":")
	if want != point || (ep != "" && ep != endpoint) || !crashed.CompareAndSwap(false, true) {
		return
	}
	os.Exit(3)
}

// crashWorkers bounds the workers to MESSENGER_WEBHOOK_CRASH_WORKERS when set, so that a test
// knows what else a replica had in flight when it reached a crash point (with one worker,
// nothing: another worker's Graph call, made and not yet committed, would be repeated).
func crashWorkers(n int) int {
	if v, err := strconv.Atoi(os.Getenv("MESSENGER_WEBHOOK_CRASH_WORKERS")); err == nil && v > 0 {
		return v
	}
	return n
}
