package simulator

import (
	"sync"
	"time"
)

// Webhook delivery (reference §2): signed POSTs per app, one worker per app so an app's events
// leave in order, several Pages' entries in one POST (§2.1), the same body redelivered when the
// callback does not answer 200 in time (§2.3), on the simulator clock so tests can move time.

// Delivery is one POST attempt to an app's callback.
type Delivery struct {
	App     string
	Pages   []string // the Page ids of the body's entries, in order of first appearance
	Attempt int      // 1 for the first POST of a body, 2.. for redeliveries of the same body
	Status  int      // HTTP status; 0 when the callback did not answer in time or could not be reached
	Err     string
	OK      bool // answered 200 in time
	// Final: no further attempt for this body (acknowledged, or given up: see Options.RetryBackoff).
	Final bool
	// NextAttempt is when a failed body is tried again (simulator clock); zero when Final or when
	// the next attempt follows at once (immediate retries).
	NextAttempt time.Time
	// Duplicate marks a second POST of a body already acknowledged (Options.DuplicateEvery).
	Duplicate bool
	Events    int
	Body      []byte
	Signature string    // the X-Hub-Signature-256 header sent
	At        time.Time // simulator clock: when Meta made the attempt
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

// PendingRetries counts an app's bodies that failed and wait for a later attempt.
func (s *Simulator) PendingRetries(appRef string) int {
	s.mu.Lock()
	a := s.appByRef(appRef)
	s.mu.Unlock()
	if a == nil {
		return 0
	}
	s.dq.mu.Lock()
	defer s.dq.mu.Unlock()
	return len(s.dq.retries[a.id])
}

// queued is one event waiting for an app's callback.
type queued struct {
	appID, pageID, channel string
	psid                   string // the thread's person ("" for Page events such as app_roles)
	ev                     *event
	group                  uint64 // Hold group; 0 when not held
	done                   chan struct{}
}

type deliverer struct {
	s         *Simulator
	mu        sync.Mutex
	queues    map[string][]*queued
	retries   map[string][]*post // app id -> bodies waiting for a late attempt
	wake      map[string]chan struct{}
	holding   bool
	holdGroup uint64
	busy      int // events queued (not held) or in flight
	retrying  int // late attempts in flight
	held      int
	stopped   bool
	wg        sync.WaitGroup
}

func newDeliverer(s *Simulator) *deliverer {
	return &deliverer{s: s, queues: map[string][]*queued{}, retries: map[string][]*post{}, wake: map[string]chan struct{}{}}
}

// enqueueLocked is called with s.mu held (lock order: s.mu, then d.mu).
func (d *deliverer) enqueueLocked(appID, pageID, channel, psid string, ev *event) *queued {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := &queued{appID: appID, pageID: pageID, channel: channel, psid: psid, ev: ev, done: make(chan struct{})}
	if d.holding {
		q.group = d.holdGroup
		d.held++
	} else {
		d.busy++
	}
	d.queues[appID] = append(d.queues[appID], q)
	d.ensureWorkerLocked(appID)
	return q
}

// ensureWorkerLocked starts the app's worker on first use and wakes it (d.mu held).
func (d *deliverer) ensureWorkerLocked(appID string) {
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
}

func (d *deliverer) isHeld(q *queued) bool {
	return q.group != 0 && d.holding && q.group == d.holdGroup
}

// work is what a worker does next: a batch of new events or one late attempt of a failed body.
type work struct {
	batch []*queued
	retry *post
}

// next blocks until work for appID is ready; the zero work when stopping.
func (d *deliverer) next(appID string, wake chan struct{}) work {
	d.mu.Lock()
	for {
		if d.stopped {
			d.mu.Unlock()
			return work{}
		}
		// The clock's move signal is taken before the clock is read: a move in between wakes
		// this wait instead of being missed (a retry due then would wait for wall time).
		var moved <-chan struct{}
		if mw, ok := d.s.clock.(moveWatcher); ok {
			moved = mw.moved()
		}
		now := d.s.clock.Now()
		if r := d.popDueLocked(appID, now); r != nil {
			d.retrying++
			d.mu.Unlock()
			return work{retry: r}
		}
		if items := d.queues[appID]; len(items) > 0 && !d.isHeld(items[0]) {
			break
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if due, ok := d.earliestLocked(appID); ok {
			// Wall time moves the real and offset clocks; a manual clock wakes us through moved.
			timer = time.NewTimer(max(due.Sub(now), time.Millisecond))
			fire = timer.C
		}
		d.mu.Unlock()
		select {
		case <-wake:
		case <-fire:
		case <-moved:
		case <-d.s.closing:
		}
		if timer != nil {
			timer.Stop()
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
		for n < len(items) && n < d.s.opts.MaxBatchEvents && items[n].group == first {
			n++
		}
	}
	batch := items[:n:n]
	d.queues[appID] = items[n:]
	d.mu.Unlock()
	return work{batch: batch}
}

func (d *deliverer) worker(appID string, wake chan struct{}) {
	defer d.wg.Done()
	for {
		w := d.next(appID, wake)
		switch {
		case w.retry != nil:
			d.s.retryPost(w.retry)
			d.mu.Lock()
			d.retrying--
			d.mu.Unlock()
		case w.batch != nil:
			d.s.deliverBatch(appID, w.batch)
			d.mu.Lock()
			d.busy -= len(w.batch)
			d.mu.Unlock()
			for _, q := range w.batch {
				close(q.done)
			}
		default:
			return
		}
		d.s.changes.notify()
	}
}

// schedule keeps a failed body for a later attempt.
func (d *deliverer) schedule(p *post) {
	d.mu.Lock()
	d.retries[p.appID] = append(d.retries[p.appID], p)
	d.ensureWorkerLocked(p.appID)
	d.mu.Unlock()
}

// popDueLocked removes and returns the app's body due earliest, if it is due at now.
func (d *deliverer) popDueLocked(appID string, now time.Time) *post {
	rs := d.retries[appID]
	best := -1
	for i, r := range rs {
		if !r.due.After(now) && (best < 0 || r.due.Before(rs[best].due)) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	r := rs[best]
	d.retries[appID] = append(rs[:best:best], rs[best+1:]...)
	return r
}

func (d *deliverer) earliestLocked(appID string) (time.Time, bool) {
	var out time.Time
	for _, r := range d.retries[appID] {
		if out.IsZero() || r.due.Before(out) {
			out = r.due
		}
	}
	return out, !out.IsZero()
}

// dropRetries forgets the bodies of an app that only carry entries of the given Page, as Meta
// does when it unsubscribes the app from the Page (reference §2.3).
func (d *deliverer) dropRetries(appID, pageID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keep []*post
	for _, r := range d.retries[appID] {
		if len(r.pages) == 1 && r.pages[0] == pageID {
			continue
		}
		keep = append(keep, r)
	}
	d.retries[appID] = keep
}

// kick wakes every worker (the clock moved).
func (d *deliverer) kick() {
	d.mu.Lock()
	for _, w := range d.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	d.mu.Unlock()
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
	d.mu.Unlock()
	d.kick()
}

// idle: nothing queued (held events aside), nothing in flight, no late attempt due.
func (d *deliverer) idle() bool {
	now := d.s.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy != 0 || d.retrying != 0 {
		return false
	}
	for _, rs := range d.retries {
		for _, r := range rs {
			if !r.due.After(now) {
				return false
			}
		}
	}
	return true
}

func (d *deliverer) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.wg.Wait()
}

// Hold collects every event from now on instead of sending it; Flush then sends each app's
// collected events in one POST (an explicit batch, reference §2.1), entries of several Pages
// included.
func (s *Simulator) Hold() { s.dq.hold() }

// Flush sends what Hold collected, one POST per app (MaxBatchEvents at most). Use WaitIdle to
// wait for the deliveries.
func (s *Simulator) Flush() { s.dq.flush() }
