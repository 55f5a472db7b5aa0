package simulator

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// Rate limits (reference §5.5), on the simulator clock: the Send API's calls per second per Page,
// and the Messenger API's business use case (BUC) budget of calls per rolling 24 h, reported in
// the X-Business-Use-Case-Usage header of every answer to a Page-token call.

// Limits are the rate limits; zero fields get Meta's figures, a negative field switches that
// limit off.
type Limits struct {
	// SendsPerSecond: Send API calls per second per (app, Page) for text, links, reactions and
	// stickers (§5.5: 300).
	SendsPerSecond int
	// MediaSendsPerSecond: the same for audio and video (§5.5: 10).
	MediaSendsPerSecond int
	// CallsPerEngagedUser: Page-token calls per rolling 24 h per (app, Page) = this x the number of
	// engaged users, the people the Page can message (§5.5: 200).
	CallsPerEngagedUser int
}

func (l *Limits) applyDefaults() {
	if l.SendsPerSecond == 0 {
		l.SendsPerSecond = 300
	}
	if l.MediaSendsPerSecond == 0 {
		l.MediaSendsPerSecond = 10
	}
	if l.CallsPerEngagedUser == 0 {
		l.CallsPerEngagedUser = 200
	}
}

// Unlimited switches every rate limit off (load tests measure our side, not Meta's budget).
var Unlimited = Limits{SendsPerSecond: -1, MediaSendsPerSecond: -1, CallsPerEngagedUser: -1}

const bucWindow = 24 * time.Hour

// usage is one (app, Page)'s recent calls.
type usage struct {
	sends, media, calls []time.Time
}

func (s *Simulator) usageLocked(a *app, p *page) *usage {
	k := a.id + "/" + p.id
	u := s.usage[k]
	if u == nil {
		u = &usage{}
		s.usage[k] = u
	}
	return u
}

// since drops the times before from (they are in order).
func since(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(from) {
		i++
	}
	return ts[i:]
}

// engagedUsersLocked counts the people who wrote to the Page in the last 24 h: the people the
// business can message (§5.2 window, §5.5 "Number of Engaged Users"). At least 1.
func (s *Simulator) engagedUsersLocked(p *page, now time.Time) int {
	n := 0
	for _, t := range p.threads {
		if !t.lastUser.IsZero() && now.Sub(t.lastUser) <= messagingWindow {
			n++
		}
	}
	return max(n, 1)
}

// bucLocked charges one Page-token call to the BUC budget (§5.5). It answers the usage header's
// value and, over the budget, the throttling error: code 80006, the BUC code of the Messenger use
// case (Graph API "Rate Limits" page, business use case error codes; the reference marks the
// exact code unsure, §4.3 "80001/80006-style").
func (s *Simulator) bucLocked(a *app, p *page) (string, *GraphError) {
	limit := s.opts.Limits.CallsPerEngagedUser
	if limit < 0 {
		return "", nil
	}
	now := s.clock.Now()
	u := s.usageLocked(a, p)
	u.calls = since(u.calls, now.Add(-bucWindow))
	budget := limit * s.engagedUsersLocked(p, now)
	var gerr *GraphError
	if len(u.calls) >= budget {
		gerr = errBUCThrottled()
	} else {
		u.calls = append(u.calls, now)
	}
	pct := int(math.Min(100, math.Ceil(float64(len(u.calls))*100/float64(budget))))
	regain := 0
	if len(u.calls) >= budget {
		// Access comes back when the oldest call charged leaves the rolling window.
		regain = int(math.Ceil(u.calls[len(u.calls)-budget].Add(bucWindow).Sub(now).Minutes()))
	}
	// The simulator charges every call alike: CPU and total time follow the call count.
	type bucEntry struct {
		Type          string `json:"type"`
		CallCount     int    `json:"call_count"`
		TotalCPUTime  int    `json:"total_cputime"`
		TotalTime     int    `json:"total_time"`
		EstimatedTime int    `json:"estimated_time_to_regain_access"`
	}
	h, _ := json.Marshal(map[string][]bucEntry{p.id: {{Type: "messenger", CallCount: pct, TotalCPUTime: pct, TotalTime: pct, EstimatedTime: regain}}})
	return string(h), gerr
}

// sendRateLocked applies the Send API's per-second limits (§5.5) with code 613, the reference's
// "calls exceeded rate limit" (§4.3).
func (s *Simulator) sendRateLocked(a *app, p *page, media bool) *GraphError {
	limit := s.opts.Limits.SendsPerSecond
	if media {
		limit = s.opts.Limits.MediaSendsPerSecond
	}
	if limit < 0 {
		return nil
	}
	now := s.clock.Now()
	u := s.usageLocked(a, p)
	ts := &u.sends
	if media {
		ts = &u.media
	}
	*ts = since(*ts, now.Add(-time.Second+1))
	if len(*ts) >= limit {
		return errSendRate()
	}
	*ts = append(*ts, now)
	return nil
}

func errBUCThrottled() *GraphError {
	return &GraphError{HTTPStatus: http.StatusBadRequest, Code: 80006, Type: oauth, Transient: true,
		Message: "(#80006) There have been too many Messenger API calls to this Page. Wait a bit and try again."}
}

func errSendRate() *GraphError {
	return &GraphError{HTTPStatus: http.StatusBadRequest, Code: 613, Type: oauth, Transient: true,
		Message: "(#613) Calls to this api have exceeded the rate limit."}
}
