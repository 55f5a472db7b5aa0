package simulator

import (
	"context"
	"time"
)

// The timeline is the platform's side of everything, in the order it happened: transcript steps,
// webhook deliveries (with status and attempt), Graph calls with their answer (never a token) and
// ownership changes. The playground follows it live (SubscribeTimeline, or the control API's
// /_sim/timeline long poll and /_sim/timeline/stream server-sent events).

// Timeline event kinds.
const (
	TimelineStep     = "step"     // a transcript step (Step)
	TimelineDelivery = "delivery" // a POST to an app's callback
	TimelineGraph    = "graph"    // a Graph API call and its answer
	TimelineOwner    = "owner"    // a thread changed owner
)

// TimelineEvent is one entry of the timeline; the fields used depend on Kind.
type TimelineEvent struct {
	Seq  int64     `json:"seq"`
	Kind string    `json:"kind"`
	Time time.Time `json:"time"` // simulator clock
	Page string    `json:"page,omitempty"`
	PSID string    `json:"psid,omitempty"`
	// App: the receiving app of a delivery, the calling app of a Graph call.
	App string `json:"app,omitempty"`

	Step *Step `json:"step,omitempty"`

	Pages       []string   `json:"pages,omitempty"`
	Attempt     int        `json:"attempt,omitempty"`
	OK          bool       `json:"ok,omitempty"`
	Final       bool       `json:"final,omitempty"`
	Duplicate   bool       `json:"duplicate,omitempty"`
	Events      int        `json:"events,omitempty"`
	Err         string     `json:"error,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`

	Endpoint string `json:"endpoint,omitempty"`
	Method   string `json:"method,omitempty"`
	Path     string `json:"path,omitempty"` // the URL path only: tokens never travel in it
	Status   int    `json:"status,omitempty"`
	Code     int    `json:"code,omitempty"`
	Subcode  int    `json:"subcode,omitempty"`
	Fault    bool   `json:"fault,omitempty"`

	From  string `json:"from,omitempty"` // previous owner ("none" when idle)
	To    string `json:"to,omitempty"`   // new owner ("none" when idle)
	Cause string `json:"cause,omitempty"`
}

// timelineLocked appends an event (s.mu held).
func (s *Simulator) timelineLocked(ev TimelineEvent) {
	ev.Seq = int64(len(s.timeline) + 1)
	if ev.Time.IsZero() {
		ev.Time = s.clock.Now()
	}
	if ev.NextAttempt != nil && ev.NextAttempt.IsZero() {
		ev.NextAttempt = nil
	}
	s.timeline = append(s.timeline, ev)
}

// Timeline returns the events after seq (0 for all), oldest first.
func (s *Simulator) Timeline(since int64) []TimelineEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since < 0 {
		since = 0
	}
	if since >= int64(len(s.timeline)) {
		return nil
	}
	return append([]TimelineEvent(nil), s.timeline[since:]...)
}

// WaitTimeline returns the events after seq, waiting until there is at least one (a long poll).
func (s *Simulator) WaitTimeline(ctx context.Context, since int64) ([]TimelineEvent, error) {
	var out []TimelineEvent
	err := s.Await(ctx, func() bool {
		out = s.Timeline(since)
		return len(out) > 0
	})
	return out, err
}

// SubscribeTimeline streams the events after seq until ctx ends or the simulator closes; the
// channel is then closed. A slow reader holds up only its own stream.
func (s *Simulator) SubscribeTimeline(ctx context.Context, since int64) <-chan TimelineEvent {
	ch := make(chan TimelineEvent, 64)
	go func() {
		defer close(ch)
		for {
			evs, err := s.WaitTimeline(ctx, since)
			if err != nil {
				return
			}
			for _, ev := range evs {
				select {
				case ch <- ev:
					since = ev.Seq
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

// ownerChangedLocked records an ownership change on the timeline.
func (s *Simulator) ownerChangedLocked(p *page, t *thread, prev, cause string, at time.Time) {
	if prev == t.owner {
		return
	}
	s.timelineLocked(TimelineEvent{Kind: TimelineOwner, Time: at, Page: p.id, PSID: t.psid,
		From: s.appName(prev), To: s.appName(t.owner), Cause: cause})
}
