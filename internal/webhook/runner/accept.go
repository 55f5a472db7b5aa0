package runner

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Reasons the runner does not hand an event to the engine (the ignored-events metric); the
// engine's own reasons (Decision.Ignored) are counted alike.
const (
	ignoreDuplicate = "duplicate"
	ignoreNoPolicy  = "no_policy"
	// ignoreReplay: an event older than the dedup window by its own timestamp (a replayed
	// signed body); acknowledged, never handled.
	ignoreReplay = "replay"
)

func (r *Runner) accept(evs []handover.Event) bool {
	if len(evs) == 0 {
		return true
	}
	now := r.clock.Now()
	for i := range evs {
		if evs[i].Timestamp.IsZero() {
			evs[i].Timestamp = now // neither the event nor its entry said when
		}
	}
	if len(evs) > 1 {
		// Events that arrive together are handled in timestamp order (per user, the queue keeps
		// that order; sorting here keeps a worker from starting on a later one first).
		slices.SortStableFunc(evs, func(a, b handover.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	}
	var total int64
	for i := range evs {
		total += eventSize(&evs[i])
	}
	if !r.disp.reserve(len(evs), total) {
		return false
	}
	if r.journal != nil {
		return r.acceptShared(evs, now)
	}
	for i := range evs {
		ev := &evs[i]
		size := eventSize(ev)
		if now.Sub(ev.Timestamp) > store.DedupWindow {
			r.disp.release(1, size)
			r.ignore(ignoreReplay, slog.String("kind", kindName(ev.Kind)), slog.String("page", ev.PageID))
			continue
		}
		if key := dedupKey(ev); key != "" && !r.store.FirstSeen(key, ev.Timestamp, now) {
			r.disp.release(1, size)
			r.ignore(ignoreDuplicate, slog.String("kind", kindName(ev.Kind)))
			continue
		}
		r.metrics.event(ev)
		r.disp.enqueue(work{ev: *ev, size: size})
	}
	return true
}

func (r *Runner) ignore(reason string, attrs ...slog.Attr) {
	r.metrics.inc(r.metrics.ignored, reason)
	if r.log.Enabled(context.Background(), slog.LevelDebug) {
		r.log.LogAttrs(context.Background(), slog.LevelDebug, "event ignored", append(attrs, slog.String("reason", reason))...)
	}
}

// acceptShared drops the replays, then records the rest in the shared journal.
func (r *Runner) acceptShared(evs []handover.Event, now time.Time) bool {
	kept := evs[:0:0]
	var sizes []int64
	for i := range evs {
		size := eventSize(&evs[i])
		if now.Sub(evs[i].Timestamp) > store.DedupWindow {
			r.disp.release(1, size)
			r.ignore(ignoreReplay, slog.String("kind", kindName(evs[i].Kind)), slog.String("page", evs[i].PageID))
			continue
		}
		kept = append(kept, evs[i])
		sizes = append(sizes, size)
	}
	if len(kept) == 0 {
		return true
	}
	return r.acceptJournaled(kept, sizes, now)
}

// dedupKey is the key of an event in the dedup set: the mid of messages, echoes and postbacks,
// a composite for handover events (which have no id); empty for idempotent kinds (reads,
// deliveries).
func dedupKey(ev *handover.Event) string {
	switch ev.Kind {
	case handover.KindMessage, handover.KindEcho, handover.KindPostback:
		if ev.MID != "" {
			return ev.MID
		}
	case handover.KindOther:
		return ""
	}
	ts := strconv.FormatInt(ev.Timestamp.UnixMilli(), 10)
	return "k|" + ev.PageID + "|" + ev.PSID + "|" + strconv.Itoa(int(ev.Kind)) + "|" + ts + "|" +
		ev.NewOwnerAppID + "|" + ev.PreviousOwnerAppID + "|" + ev.RequestedOwnerAppID
}

// kindName and channelName label metrics and logs.
func kindName(k handover.EventKind) string {
	switch k {
	case handover.KindMessage:
		return "message"
	case handover.KindEcho:
		return "echo"
	case handover.KindPostback:
		return "postback"
	case handover.KindPassThreadControl:
		return "pass_thread_control"
	case handover.KindTakeThreadControl:
		return "take_thread_control"
	case handover.KindRequestThreadControl:
		return "request_thread_control"
	}
	return "other"
}

func channelName(c handover.Channel) string {
	if c == handover.Standby {
		return "standby"
	}
	return "messaging"
}
