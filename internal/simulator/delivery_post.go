package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// post is one signed body for one app and its retry state: a redelivery sends the same bytes with
// the same signature (reference §2.3: "your server must de-duplicate").
type post struct {
	appID        string
	raw          []byte
	sig256, sig1 string
	pages        []string
	events       int
	attempts     int
	firstFail    time.Time // simulator clock; zero until the first failure
	due          time.Time // the next late attempt
	lateRetries  int
}

const (
	// failureAlertAfter: Meta alerts the developer after 15 minutes of failing deliveries (§2.3).
	failureAlertAfter = 15 * time.Minute
	// retryForWithoutDisable: with DisableAfter < 0 a body is still given up after 36 h, as generic
	// Graph webhooks do (§2.3).
	retryForWithoutDisable = 36 * time.Hour
)

// deliverBatch signs a batch and POSTs it: the first attempt and the immediate retries (§2.3:
// Meta "immediately" retries "a few more times"), then a late attempt is scheduled.
func (s *Simulator) deliverBatch(appID string, batch []*queued) {
	s.mu.Lock()
	a := s.apps[appID]
	if a.sub == nil {
		// The subscription was deleted after the events were queued: they are lost, as on Meta.
		s.mu.Unlock()
		return
	}
	secret := a.secret
	body, pages := s.buildBody(s.reorder(appID, batch))
	s.mu.Unlock()

	raw, err := metaJSON(body, !s.opts.Behaviour.NoSlashEscaping)
	if err != nil {
		return
	}
	p := &post{appID: appID, raw: raw, pages: pages, events: len(batch)}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(raw)
	p.sig256 = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !s.opts.Behaviour.NoSHA1Signature {
		m1 := hmac.New(sha1.New, []byte(secret))
		m1.Write(raw)
		p.sig1 = "sha1=" + hex.EncodeToString(m1.Sum(nil))
	}
	for i := 0; i < s.opts.MaxDeliveryAttempts; i++ {
		if i > 0 {
			select {
			case <-time.After(s.opts.RetryDelay):
			case <-s.closing:
				return
			}
		}
		last := i == s.opts.MaxDeliveryAttempts-1
		if done := s.attempt(p, s.clock.Now(), last); done {
			return
		}
	}
}

// retryPost is a late attempt of a body, made at its due time on the simulator clock (which may
// lie in the past when a test jumped the clock: each attempt then happens at the instant Meta
// would have made it).
func (s *Simulator) retryPost(p *post) {
	s.attempt(p, p.due, true)
}

// attempt POSTs the body once and records it; done reports that no immediate retry follows
// (acknowledged, dropped, or scheduled for later when scheduleIfFailed).
func (s *Simulator) attempt(p *post, at time.Time, scheduleIfFailed bool) (done bool) {
	s.mu.Lock()
	a := s.apps[p.appID]
	if a.sub == nil || !s.anySubscribedLocked(a.id, p.pages) {
		// Unsubscribed meanwhile (webhooks disabled, or removed): the events are lost.
		s.mu.Unlock()
		return true
	}
	url, name := a.sub.callbackURL, a.name
	s.mu.Unlock()

	status, errText := s.post(url, p.raw, p.sig256, p.sig1)
	ok := status == http.StatusOK
	p.attempts++
	d := Delivery{App: name, Pages: p.pages, Attempt: p.attempts, Status: status, Err: errText, OK: ok,
		Events: p.events, Body: p.raw, Signature: p.sig256, At: at}

	s.mu.Lock()
	s.trackFailuresLocked(a, p.pages, ok, at)
	switch {
	case ok:
		d.Final = true
	case !scheduleIfFailed:
		// an immediate retry follows
	default:
		if p.firstFail.IsZero() {
			p.firstFail = at
		}
		if next, retry := s.nextAttemptLocked(p, at); retry {
			p.due = next
			d.NextAttempt = next
			s.dq.schedule(p)
		} else {
			d.Final = true
		}
	}
	s.recordDeliveryLocked(d)
	dup := ok && s.duplicateLocked(p.appID)
	s.mu.Unlock()
	if !ok {
		s.logf("delivery to %s failed (attempt %d): status %d %s", name, p.attempts, status, errText)
	}
	s.changes.notify()
	if dup {
		s.duplicate(p, url, name, at)
	}
	return ok || scheduleIfFailed
}

// nextAttemptLocked: growing gaps (Options.RetryBackoff, the last one repeating) over the hour
// after which Meta disables the webhook (§2.3); a body that failed for DisableAfter is given up
// (its Page is unsubscribed by then unless other bodies got through meanwhile).
func (s *Simulator) nextAttemptLocked(p *post, at time.Time) (time.Time, bool) {
	if s.opts.Behaviour.GiveUpAfterImmediateRetries || !s.anySubscribedLocked(p.appID, p.pages) {
		return time.Time{}, false
	}
	gaps := s.opts.RetryBackoff
	gap := gaps[min(p.lateRetries, len(gaps)-1)]
	limit := s.opts.DisableAfter
	if limit < 0 {
		limit = retryForWithoutDisable
	}
	if at.Sub(p.firstFail) >= limit {
		return time.Time{}, false
	}
	p.lateRetries++
	return at.Add(gap), true
}

func (s *Simulator) anySubscribedLocked(appID string, pages []string) bool {
	for _, id := range pages {
		if s.pages[id].subscribed[appID] != nil {
			return true
		}
	}
	return false
}

// duplicate sends an acknowledged body once more (a duplicate delivery after a 200, §2.3:
// "Duplicates are expected").
func (s *Simulator) duplicate(p *post, url, name string, at time.Time) {
	status, errText := s.post(url, p.raw, p.sig256, p.sig1)
	p.attempts++
	s.mu.Lock()
	s.recordDeliveryLocked(Delivery{App: name, Pages: p.pages, Attempt: p.attempts, Status: status, Err: errText,
		OK: status == http.StatusOK, Final: true, Duplicate: true, Events: p.events, Body: p.raw, Signature: p.sig256, At: at})
	s.mu.Unlock()
	s.changes.notify()
}

func (s *Simulator) recordDeliveryLocked(d Delivery) {
	s.deliveries = append(s.deliveries, d)
	next := d.NextAttempt
	s.timelineLocked(TimelineEvent{Kind: TimelineDelivery, Time: d.At, App: d.App, Pages: d.Pages, Attempt: d.Attempt,
		Status: d.Status, OK: d.OK, Final: d.Final, Duplicate: d.Duplicate, Events: d.Events, Err: d.Err, NextAttempt: &next})
}

func (s *Simulator) post(url string, raw []byte, sig256, sig1 string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DeliveryTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", sig256)
	if sig1 != "" {
		req.Header.Set("X-Hub-Signature", sig1)
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, "no answer: " + err.Error()
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if err != nil {
		// The status came in time but the body did not: Meta waits for the whole answer.
		return 0, "answer incomplete: " + err.Error()
	}
	return resp.StatusCode, ""
}

// trackFailuresLocked keeps each (app, Page) failure streak on the simulator clock: the developer
// is alerted after 15 minutes and the app is unsubscribed from the Page after DisableAfter
// (reference §2.3: "Webhooks Disabled" after 1 h, the Page subscription is gone).
func (s *Simulator) trackFailuresLocked(a *app, pages []string, ok bool, at time.Time) {
	for _, id := range pages {
		p := s.pages[id]
		if ok {
			delete(p.failingSince, a.id)
			delete(p.alerted, a.id)
			continue
		}
		since, failing := p.failingSince[a.id]
		if !failing || at.Before(since) {
			p.failingSince[a.id] = at
			continue
		}
		streak := at.Sub(since)
		if streak >= failureAlertAfter && !p.alerted[a.id] {
			p.alerted[a.id] = true
			s.stepLocked(p, nil, Step{Time: at, Actor: "platform", Kind: StepDeliveryAlert,
				Text: fmt.Sprintf("developer alerted: deliveries to %s failing for %s", a.name, streak)})
		}
		if s.opts.DisableAfter > 0 && streak >= s.opts.DisableAfter && p.subscribed[a.id] != nil {
			p.unsubscribe(a.id)
			delete(p.failingSince, a.id)
			delete(p.alerted, a.id)
			s.dq.dropRetries(a.id, p.id)
			s.stepLocked(p, nil, Step{Time: at, Actor: "platform", Kind: StepDisabled,
				Text: "webhooks disabled for " + a.name + ": deliveries failed for " + streak.String() + "; app unsubscribed from the Page"})
		}
	}
}
