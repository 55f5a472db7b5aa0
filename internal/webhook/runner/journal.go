package runner

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Journal records accepted events in a store shared by the replicas (store.Journal): an event
// is acknowledged only once recorded there, and one its replica never finished is claimed by
// another.
type Journal interface {
	// Record records the events that are new by their dedup keys ("" for none) and returns the
	// journal id of each, "" for a duplicate, with the lease of its thread when it could be
	// taken. An error: nothing may be acknowledged.
	Record(ctx context.Context, evs []handover.Event, keys []string, now time.Time) ([]store.Recorded, error)
	// Done forgets handled events.
	Done(ctx context.Context, ids ...string) error
	// Touch says this replica still works on ids.
	Touch(ctx context.Context, ids ...string) error
	// Claim takes over events idle longer than minIdle.
	Claim(ctx context.Context, minIdle time.Duration, n int) ([]store.JournalEntry, error)
}

// journalState is the runner's side of the journal: the ids in work here (touched so that no
// other replica claims them) and whether the store answered last time.
type journalState struct {
	j        Journal
	inWork   sync.Map // id -> struct{}
	undone   sync.Map // handled ids whose Done failed: retried each round
	down     atomic.Bool
	failures prometheus.Counter
	claimed  prometheus.Counter
	// forwarded counts the events recorded here for a thread another replica held (handed to
	// it), taken the events handed to this one.
	forwarded, taken prometheus.Counter
	stop             chan struct{}
	done             sync.WaitGroup
}

func (r *Runner) startJournal() {
	if r.opts.Journal == nil {
		return
	}
	js := &journalState{j: r.opts.Journal, stop: make(chan struct{}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "messenger_webhook_store_failures_total",
			Help: "Calls to the shared store that failed (the delivery then got 503, or the claim waits for the next round).",
		}),
		claimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "messenger_webhook_journal_claimed_total",
			Help: "Accepted events another replica left unfinished, taken over by this one.",
		}),
	}
	js.forwarded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "messenger_webhook_journal_forwarded_total",
		Help: "Accepted events whose thread another replica was handling, handed to that replica.",
	})
	js.taken = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "messenger_webhook_journal_taken_total",
		Help: "Events other replicas accepted for a thread this one was handling, taken over by it.",
	})
	register(r.opts.Registry, js.failures)
	register(r.opts.Registry, js.claimed)
	register(r.opts.Registry, js.forwarded)
	register(r.opts.Registry, js.taken)
	r.journal = js
	js.done.Go(func() { r.journalLoop(js) })
}

// storeCtx bounds one call to the store.
func (r *Runner) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.opts.StoreTimeout)
}

func (js *journalState) failed(err error) bool {
	if err != nil {
		js.failures.Inc()
		js.down.Store(true)
		return true
	}
	js.down.Store(false)
	return false
}

// acceptJournaled records the events (deduplicated in the store) before queueing them; false,
// with nothing queued, when the store cannot record them.
func (r *Runner) acceptJournaled(evs []handover.Event, sizes []int64, now time.Time) bool {
	js := r.journal
	keys := make([]string, len(evs))
	for i := range evs {
		keys[i] = dedupKey(&evs[i])
	}
	at := time.Now()
	ctx, cancel := r.storeCtx()
	recs, err := js.j.Record(ctx, evs, keys, now)
	cancel()
	if js.failed(err) {
		var total int64
		for _, s := range sizes {
			total += s
		}
		r.disp.release(len(evs), total)
		r.log.Warn("the shared store cannot record a delivery: answered 503 so that Meta retries", "events", len(evs), "error", err.Error())
		return false
	}
	for i := range evs {
		rec := &recs[i]
		if rec.ID == "" {
			r.disp.release(1, sizes[i])
			r.ignore(ignoreDuplicate, slog.String("kind", kindName(evs[i].Kind)))
			continue
		}
		r.metrics.event(&evs[i])
		if rec.Forwarded {
			// The thread's holder handles it in its turn (it takes it with its next commit, release
			// or lease renewal).
			r.disp.release(1, sizes[i])
			js.forwarded.Inc()
			continue
		}
		js.inWork.Store(rec.ID, struct{}{})
		w := work{ev: evs[i], size: sizes[i], jid: rec.ID}
		if rec.Lease.Token > 0 && r.opts.Leases != nil {
			w.acq = &acquired{lease: rec.Lease, th: rec.Thread, at: at}
		}
		r.disp.enqueue(w)
	}
	crashAt("accepted", "")
	return true
}

// handled forgets an event of the journal once its actions are done. A failure leaves it in
// the journal: another replica may claim and handle it again (at-least-once).
func (r *Runner) handled(jid string) {
	js := r.journal
	if js == nil || jid == "" {
		return
	}
	ctx, cancel := r.storeCtx()
	err := js.j.Done(ctx, jid)
	cancel()
	if js.failed(err) {
		r.undone(jid)
		return
	}
	js.inWork.Delete(jid)
}

// undone keeps a handled event whose acknowledgement failed in work (touched, so that no
// replica claims it), to be acknowledged at the next round.
func (r *Runner) undone(jid string) {
	if r.journal != nil && jid != "" {
		r.journal.undone.Store(jid, struct{}{})
	}
}

// leftToOthers stops touching an event whose thread another replica took over: it stays in
// the journal, to be claimed once idle.
func (r *Runner) leftToOthers(jid string) {
	if r.journal != nil && jid != "" {
		r.journal.inWork.Delete(jid)
	}
}

// journalLoop touches the events in work here, claims those other replicas left and the
// shared timers due.
func (r *Runner) journalLoop(js *journalState) {
	t := time.NewTicker(r.opts.ClaimInterval)
	defer t.Stop()
	for {
		select {
		case <-js.stop:
			return
		case <-t.C:
		}
		js.undone.Range(func(k, _ any) bool {
			ctx, cancel := r.storeCtx()
			err := js.j.Done(ctx, k.(string))
			cancel()
			if err == nil {
				js.undone.Delete(k)
				js.inWork.Delete(k)
			}
			return err == nil
		})
		var ids []string
		js.inWork.Range(func(k, _ any) bool {
			ids = append(ids, k.(string))
			return true
		})
		ctx, cancel := r.storeCtx()
		err := js.j.Touch(ctx, ids...)
		var got []store.JournalEntry
		if err == nil {
			got, err = js.j.Claim(ctx, r.opts.ClaimIdle, 256)
		}
		if err == nil {
			err = r.claimTimers(ctx)
		}
		cancel()
		if js.failed(err) {
			continue
		}
		for _, e := range got {
			// Another replica may have acted on it before it died: claimed marks a possible repeat.
			if r.adopt(e, true) {
				js.claimed.Inc()
				r.metrics.event(&e.Event)
			}
		}
	}
}

// takeForwarded queues the events other replicas forwarded to this one, the holder of their
// thread's lease.
func (r *Runner) takeForwarded(es []store.JournalEntry) {
	if r.journal == nil {
		return
	}
	for _, e := range es {
		if r.adopt(e, false) {
			r.journal.taken.Inc()
		}
	}
}

// adopt queues an event of the journal that this replica takes over (claimed or forwarded),
// outside the queue bound: it was acknowledged already and must not be lost. False when it is
// in work here already.
func (r *Runner) adopt(e store.JournalEntry, claimed bool) bool {
	if _, mine := r.journal.inWork.LoadOrStore(e.ID, struct{}{}); mine {
		return false
	}
	size := eventSize(&e.Event)
	r.disp.pending.Add(1)
	r.disp.bytes.Add(size)
	r.disp.enqueue(work{ev: e.Event, size: size, jid: e.ID, claimed: claimed})
	return true
}

func (r *Runner) stopJournal() {
	if r.journal != nil {
		close(r.journal.stop)
		r.journal.done.Wait()
	}
}

// StoreReady is false while the shared store does not answer (readiness fails, deliveries get
// 503); always true without one.
func (r *Runner) StoreReady() bool { return r.journal == nil || !r.journal.down.Load() }
