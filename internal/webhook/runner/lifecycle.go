package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

func newRunner(o Options) *Runner {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Store == nil {
		o.Store = store.NewMemory(store.MemoryOptions{})
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Engine == nil {
		o.Engine = HandoverEngine{}
	}
	if o.RetryWindow <= 0 {
		o.RetryWindow = 2 * time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 250 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 15 * time.Second
	}
	o.RetryMax = max(o.RetryMax, o.RetryBase)
	if o.GraphTimeout <= 0 {
		o.GraphTimeout = 10 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 128
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 10000
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = 16 << 20
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 2 * time.Second
	}
	if o.ClaimInterval <= 0 {
		o.ClaimInterval = 5 * time.Second
	}
	if o.ClaimIdle <= 0 {
		o.ClaimIdle = 30 * time.Second
	}
	r := &Runner{
		opts:   o,
		log:    o.Logger,
		clock:  o.Clock,
		store:  o.Store,
		engine: o.Engine,
	}
	r.pages.Store(&map[string]*livePage{})
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.disp = newDispatcher(o.MaxQueued, o.MaxQueuedBytes, crashWorkers(o.Workers), r.runQueue)
	r.timers = newTickTimers(o.Clock, r.disp.enqueueTick)
	r.metrics = newMetrics(o.Registry, func() float64 { return float64(r.disp.depth()) },
		func() float64 { return float64(r.disp.bytes.Load()) }, o.IgnoreReasons)
	registerStoreMetrics(o.Registry, o.Store)
	registerThreadsMetric(o.Registry, o.Store)
	r.audit = newAuditor(o.Logger, o.AuditKey)
	r.startJournal()
	return r
}

func (r *Runner) apply(pages []Page) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	old := *r.pages.Load()
	next := make(map[string]*livePage, len(pages))
	for _, p := range pages {
		next[p.PageID] = r.livePage(p, old[p.PageID])
	}
	r.pages.Store(&next)
	for id, o := range old {
		n := next[id]
		if o.graph != nil && (n == nil || o.graph != n.graph) {
			o.graph.CloseIdleConnections()
		}
		if n == nil {
			o.status.stop()
		}
	}
}

// livePage builds what serves p, reusing from old (the same page as served until now, or nil)
// its status pump and routing watch and, unless its Graph settings changed, its Graph client.
func (r *Runner) livePage(p Page, old *livePage) *livePage {
	p.PageAccessToken = clone(p.PageAccessToken)
	p.AppSecret = clone(p.AppSecret)
	key := graphKey(&p)
	next := &livePage{page: p, graphKey: key}
	if old != nil {
		next.status, next.routing = old.status, old.routing
	} else {
		rep := p.Reporter
		if rep == nil {
			rep = r.opts.Reporter
		}
		next.status, next.routing = newStatusPump(rep), &routingWatch{}
	}
	if old != nil && old.graphKey == key {
		next.graph = old.graph
		return next
	}
	g, err := graph.New(graph.Config{
		BaseURL:           p.GraphBaseURL,
		Version:           p.GraphVersion,
		PageID:            p.PageID,
		Token:             p.PageAccessToken,
		AppSecret:         p.AppSecret,
		MaxSendsPerSecond: p.MaxSendsPerSecond,
		Timeout:           r.opts.GraphTimeout,
		Transport:         r.opts.GraphTransport,
		Observer:          r.metrics.graphObserver(),
		Now:               r.clock.Now,
	})
	if err != nil {
		// Events are still acknowledged (and counted); their actions fail until a valid
		// configuration comes.
		r.log.Error("invalid Graph configuration; actions will fail until it is fixed", "page", p.PageID, "error", err.Error())
	}
	next.graph = g
	return next
}

// pageOf is what serves the page id; a page not served has no compiled page (no Handover).
func (r *Runner) pageOf(id string) *livePage {
	if p := (*r.pages.Load())[id]; p != nil {
		return p
	}
	return &livePage{page: Page{PageID: id}}
}

// graphKey identifies what the Graph client is built from; the secrets only as a hash.
func graphKey(p *Page) string {
	h := sha256.New()
	h.Write(p.PageAccessToken)
	h.Write([]byte{0})
	h.Write(p.AppSecret)
	return p.GraphBaseURL + "|" + p.GraphVersion + "|" + p.PageID + "|" +
		strconv.Itoa(int(p.MaxSendsPerSecond)) + "|" + hex.EncodeToString(h.Sum(nil)[:8])
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (r *Runner) drain(ctx context.Context) error {
	r.drainMu.Lock() // one Drain at a time; a second one after a drain returns at once
	defer r.drainMu.Unlock()
	if r.drained {
		return nil
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.disp.depth() > 0 {
		select {
		case <-ctx.Done():
			r.cancel() // in-flight calls stop; what is left is dead-lettered and logged
			r.log.Error("shutdown deadline passed with work left", "queued", r.disp.depth())
			return ctx.Err()
		case <-tick.C:
		}
	}
	r.drained = true
	r.stopJournal()
	r.timers.stopAll()
	r.disp.shutdown()
	for _, p := range *r.pages.Load() {
		p.status.stop()
	}
	r.cancel()
	r.log.Info("webhook drained")
	return nil
}
