//go:build crashpoints

package runner

import (
	"os"
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
