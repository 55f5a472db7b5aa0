// Package store holds what the webhook remembers between events: thread states and the keys of
// events already accepted. The runner uses it through the Store interface; Memory is the
// in-process implementation (one replica per page).
package store

import (
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// DedupWindow is how long after its own timestamp an event is remembered, and the replay
// cut-off: an event older than that (on the engine's clock) is acknowledged and ignored.
const DedupWindow = time.Hour

// Store keeps what the webhook remembers between events: the state of every thread and the keys
// of events already accepted. The runner calls it for one thread at a time, from many workers
// at once.
type Store interface {
	// Thread returns the state of (pageID, psid); the zero Thread (owner unknown) when none is
	// known, which makes the engine ask thread_owner.
	Thread(pageID, psid string) handover.Thread
	// SetThread records the state of (pageID, psid).
	SetThread(pageID, psid string, th handover.Thread)
	// FirstSeen records an event's dedup key until its own time at plus the dedup window (one
	// hour), by the engine's clock now, and reports whether it was not seen before.
	FirstSeen(key string, at, now time.Time) bool
}
