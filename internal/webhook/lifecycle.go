package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/graph"
)

func newServer(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Store == nil {
		o.Store = NewMemoryStore(MemoryStoreOptions{})
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
	s := &Server{
		opts:   o,
		log:    o.Logger,
		clock:  o.Clock,
		store:  o.Store,
		engine: o.Engine,
		status: newStatusPump(o.Reporter),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.disp = newDispatcher(o.MaxQueued, o.MaxQueuedBytes, o.Workers, s.runQueue)
	s.timers = newTickTimers(o.Clock, s.disp.enqueueTick)
	s.metrics = newMetrics(o.Registry, func() float64 { return float64(s.disp.depth()) })
	return s
}

func (s *Server) apply(cfg Config) {
	cfg.VerifyToken = clone(cfg.VerifyToken)
	cfg.AppSecret = clone(cfg.AppSecret)
	cfg.PageAccessToken = clone(cfg.PageAccessToken)
	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	old := s.live.Load()
	key := graphKey(&cfg)
	next := &liveConfig{cfg: cfg, path: path, graphKey: key, verifier: newVerifier(cfg.AppSecret)}
	if old != nil && old.graphKey == key {
		next.graph = old.graph
	} else {
		g, err := graph.New(graph.Config{
			BaseURL:           cfg.GraphBaseURL,
			Version:           cfg.GraphVersion,
			PageID:            cfg.PageID,
			Token:             cfg.PageAccessToken,
			AppSecret:         cfg.AppSecret,
			MaxSendsPerSecond: cfg.MaxSendsPerSecond,
			Timeout:           s.opts.GraphTimeout,
			Transport:         s.opts.GraphTransport,
			Observer:          s.metrics.graphObserver(),
			Now:               s.clock.Now,
		})
		if err != nil {
			// Events are still acknowledged (and counted); their actions fail until a valid
			// configuration comes.
			s.log.Error("invalid Graph configuration; actions will fail until it is fixed", "page", cfg.PageID, "error", err.Error())
		}
		next.graph = g
	}
	s.live.Store(next)
	if old != nil && old.graph != nil && old.graph != next.graph {
		old.graph.CloseIdleConnections()
	}
	s.log.Info("configuration applied", "page", cfg.PageID, "app", cfg.AppID, "path", path,
		"generation", cfg.Generation, "graphVersion", cfg.GraphVersion, "maxSendsPerSecond", cfg.MaxSendsPerSecond,
		"policy", cfg.Page != nil)
}

// graphKey identifies what the Graph client is built from; the secrets only as a hash.
func graphKey(cfg *Config) string {
	h := sha256.New()
	h.Write(cfg.PageAccessToken)
	h.Write([]byte{0})
	h.Write(cfg.AppSecret)
	return cfg.GraphBaseURL + "|" + cfg.GraphVersion + "|" + cfg.PageID + "|" +
		strconv.Itoa(int(cfg.MaxSendsPerSecond)) + "|" + hex.EncodeToString(h.Sum(nil)[:8])
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (s *Server) shutdown(ctx context.Context) error {
	s.ingress.shut.Store(true)
	s.shutMu.Lock() // one Shutdown at a time; a second one after a drain returns at once
	defer s.shutMu.Unlock()
	if s.drained {
		return nil
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	// Requests already inside receive finish enqueueing, then the queue drains.
	for s.ingress.n.Load() > 0 || s.disp.depth() > 0 {
		select {
		case <-ctx.Done():
			s.cancel() // in-flight calls stop; what is left is dead-lettered and logged
			s.log.Error("shutdown deadline passed with work left", "queued", s.disp.depth())
			return ctx.Err()
		case <-tick.C:
		}
	}
	s.drained = true
	s.timers.stopAll()
	s.disp.shutdown()
	s.status.stop()
	s.cancel()
	s.log.Info("webhook drained")
	return nil
}
