package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The timeline over HTTP: GET /_sim/timeline?since=N[&wait=25s] answers the events after N as
// JSON (waiting up to wait for the first one: a long poll); GET /_sim/timeline/stream?since=N is
// a server-sent event stream (event: the kind, id: the seq, data: the event), resumable with
// Last-Event-ID.

const maxLongPoll = 5 * time.Minute

func sinceParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("since")
	if v == "" {
		v = r.Header.Get("Last-Event-ID")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("since must be a sequence number (0 or more)")
	}
	return n, nil
}

func (s *Simulator) controlTimeline(r *http.Request) (any, error) {
	since, err := sinceParam(r)
	if err != nil {
		return nil, err
	}
	evs := s.Timeline(since)
	if w := r.URL.Query().Get("wait"); w != "" && len(evs) == 0 {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || d > maxLongPoll {
			return nil, fmt.Errorf("wait must be a Go duration up to %s", maxLongPoll)
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		evs, _ = s.WaitTimeline(ctx, since) // nothing new within wait: an empty answer
	}
	next := since
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	if evs == nil {
		evs = []TimelineEvent{}
	}
	return map[string]any{"events": evs, "next": next}, nil
}

func (s *Simulator) timelineStream(w http.ResponseWriter, r *http.Request) {
	since, err := sinceParam(r)
	if err != nil {
		controlError(w, err)
		return
	}
	flusher, canFlush := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if canFlush {
		flusher.Flush()
	}
	for ev := range s.SubscribeTimeline(r.Context(), since) {
		data, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, data); err != nil {
			return
		}
		if canFlush {
			flusher.Flush()
		}
	}
}
