package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"time"
)

// Webhook delivery (reference §2): signed POSTs per app, one worker per app so an app's events
// arrive in order, redelivery of the same body when the callback does not answer 200 in time.

// maxBatchEvents: Graph webhooks batch up to 1000 updates per POST (§2.1).
const maxBatchEvents = 1000

// Delivery is one POST attempt to an app's callback.
type Delivery struct {
	App       string
	Attempt   int // 1 for the first POST of a body, 2.. for redeliveries of the same body
	Status    int // HTTP status; 0 when the callback did not answer in time or could not be reached
	Err       string
	OK        bool // answered 200 in time
	Final     bool // no further attempt for this body
	Events    int
	Body      []byte
	Signature string // the X-Hub-Signature-256 header sent
	At        time.Time
}

// Deliveries returns every POST attempt to an app's callback (by id or name).
func (s *Simulator) Deliveries(appRef string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByRef(appRef)
	var out []Delivery
	for _, d := range s.deliveries {
		if a != nil && d.App == a.name {
			out = append(out, d)
		}
	}
	return out
}

// queued is one event waiting for an app's callback.
type queued struct {
	appID, pageID, channel string
	ev                     *event
	group                  uint64 // Hold group; 0 when not held
	done                   chan struct{}
}

type deliverer struct {
	s         *Simulator
	mu        sync.Mutex
	queues    map[string][]*queued
	wake      map[string]chan struct{}
	holding   bool
	holdGroup uint64
	busy      int // queued (not held) or in flight
	held      int
	stopped   bool
	wg        sync.WaitGroup
}

func newDeliverer(s *Simulator) *deliverer {
	return &deliverer{s: s, queues: map[string][]*queued{}, wake: map[string]chan struct{}{}}
}

// enqueueLocked is called with s.mu held (lock order: s.mu, then d.mu).
func (d *deliverer) enqueueLocked(appID, pageID, channel string, ev *event) *queued {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := &queued{appID: appID, pageID: pageID, channel: channel, ev: ev, done: make(chan struct{})}
	if d.holding {
		q.group = d.holdGroup
		d.held++
	} else {
		d.busy++
	}
	d.queues[appID] = append(d.queues[appID], q)
	w, ok := d.wake[appID]
	if !ok {
		w = make(chan struct{}, 1)
		d.wake[appID] = w
		if !d.stopped {
			d.wg.Add(1)
			go d.worker(appID, w)
		}
	}
	select {
	case w <- struct{}{}:
	default:
	}
	return q
}

func (d *deliverer) isHeld(q *queued) bool {
	return q.group != 0 && d.holding && q.group == d.holdGroup
}

// next blocks until a batch for appID can go out; nil when stopping.
func (d *deliverer) next(appID string, wake chan struct{}) []*queued {
	d.mu.Lock()
	for {
		if d.stopped {
			d.mu.Unlock()
			return nil
		}
		if items := d.queues[appID]; len(items) > 0 && !d.isHeld(items[0]) {
			break
		}
		d.mu.Unlock()
		select {
		case <-wake:
		case <-d.s.closing:
		}
		d.mu.Lock()
	}
	window := d.s.opts.BatchWindow
	if window > 0 && d.queues[appID][0].group == 0 {
		d.mu.Unlock()
		select {
		case <-time.After(window):
		case <-d.s.closing:
		}
		d.mu.Lock()
	}
	items := d.queues[appID]
	n := 1
	first := items[0].group
	if first != 0 || window > 0 {
		for n < len(items) && n < maxBatchEvents && items[n].group == first {
			n++
		}
	}
	batch := items[:n:n]
	d.queues[appID] = items[n:]
	d.mu.Unlock()
	return batch
}

func (d *deliverer) worker(appID string, wake chan struct{}) {
	defer d.wg.Done()
	for {
		batch := d.next(appID, wake)
		if batch == nil {
			return
		}
		d.s.deliverBatch(appID, batch)
		d.mu.Lock()
		d.busy -= len(batch)
		d.mu.Unlock()
		for _, q := range batch {
			close(q.done)
		}
		d.s.changes.notify()
	}
}

func (d *deliverer) hold() {
	d.mu.Lock()
	if !d.holding {
		d.holding = true
		d.holdGroup++
	}
	d.mu.Unlock()
}

func (d *deliverer) flush() {
	d.mu.Lock()
	d.holding = false
	d.busy += d.held
	d.held = 0
	for _, w := range d.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	d.mu.Unlock()
}

func (d *deliverer) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.busy == 0
}

func (d *deliverer) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.wg.Wait()
}

// Hold collects every event from now on instead of sending it; Flush then sends each app's
// collected events in one POST (an explicit batch, reference §2.1).
func (s *Simulator) Hold() { s.dq.hold() }

// Flush sends what Hold collected, one POST per app. Use WaitIdle to wait for the deliveries.
func (s *Simulator) Flush() { s.dq.flush() }

// buildBody groups a batch into entries: consecutive events of the same Page and channel share an
// entry (an entry carries either messaging or standby, §2.1).
func (s *Simulator) buildBody(batch []*queued) *webhookBody {
	body := &webhookBody{Object: "page"}
	var last *entry
	var lastPage, lastChannel string
	for _, q := range batch {
		if last == nil || q.pageID != lastPage || q.channel != lastChannel {
			last = &entry{ID: s.id(q.pageID, idPlain)}
			body.Entry = append(body.Entry, last)
			lastPage, lastChannel = q.pageID, q.channel
		}
		if q.channel == ChannelStandby {
			last.Standby = append(last.Standby, q.ev)
		} else {
			last.Messaging = append(last.Messaging, q.ev)
		}
		if q.ev.Timestamp > last.Time {
			last.Time = q.ev.Timestamp
		}
	}
	return body
}

// deliverBatch POSTs one body to the app's callback until it answers 200 or attempts run out.
func (s *Simulator) deliverBatch(appID string, batch []*queued) {
	s.mu.Lock()
	a := s.apps[appID]
	if a.sub == nil {
		// The subscription was deleted after the events were queued: they are lost, as on Meta.
		s.mu.Unlock()
		return
	}
	url, secret, name := a.sub.callbackURL, a.secret, a.name
	s.mu.Unlock()

	raw, err := metaJSON(s.buildBody(batch), !s.opts.Behaviour.NoSlashEscaping)
	if err != nil {
		return
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(raw)
	sig256 := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var sig1 string
	if !s.opts.Behaviour.NoSHA1Signature {
		m1 := hmac.New(sha1.New, []byte(secret))
		m1.Write(raw)
		sig1 = "sha1=" + hex.EncodeToString(m1.Sum(nil))
	}

	ok := false
	for attempt := 1; attempt <= s.opts.MaxDeliveryAttempts && !ok; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(s.opts.RetryDelay):
			case <-s.closing:
				return
			}
		}
		status, errText := s.post(url, raw, sig256, sig1)
		ok = status == http.StatusOK
		final := ok || attempt == s.opts.MaxDeliveryAttempts
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{App: name, Attempt: attempt, Status: status, Err: errText, OK: ok,
			Final: final, Events: len(batch), Body: raw, Signature: sig256, At: time.Now()})
		s.mu.Unlock()
		if !ok {
			s.logf("delivery to %s failed (attempt %d): status %d %s", name, attempt, status, errText)
		}
		s.changes.notify()
	}
	s.mu.Lock()
	s.trackFailuresLocked(a, batch, ok)
	s.mu.Unlock()
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
	resp.Body.Close()
	if err != nil {
		// The status came in time but the body did not: Meta waits for the whole answer.
		return 0, "answer incomplete: " + err.Error()
	}
	return resp.StatusCode, ""
}

// trackFailuresLocked unsubscribes an app from a Page after DisableAfter of failing deliveries
// (reference §2.3: "Webhooks Disabled" after 1 h, the Page subscription is gone).
func (s *Simulator) trackFailuresLocked(a *app, batch []*queued, ok bool) {
	now := s.clock.Now()
	seen := map[string]bool{}
	for _, q := range batch {
		if seen[q.pageID] {
			continue
		}
		seen[q.pageID] = true
		p := s.pages[q.pageID]
		if ok {
			delete(p.failingSince, a.id)
			continue
		}
		since, failing := p.failingSince[a.id]
		if !failing {
			p.failingSince[a.id] = now
			continue
		}
		if s.opts.DisableAfter > 0 && now.Sub(since) >= s.opts.DisableAfter && p.subscribed[a.id] != nil {
			p.unsubscribe(a.id)
			delete(p.failingSince, a.id)
			s.stepLocked(p, nil, Step{Actor: "platform", Kind: StepDisabled,
				Text: "webhooks disabled for " + a.name + ": deliveries failed for " + now.Sub(since).String() + "; app unsubscribed from the Page"})
		}
	}
}
