package callback

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// DefaultPath is the webhook path when Config.Path is empty: the API's default.
const DefaultPath = v1alpha1.DefaultWebhookPath

// Config is what the callback checks requests against. Apply swaps it atomically.
type Config struct {
	// PageIDs are the pages served: one for a standalone page, those of an app. Entries of other
	// pages are counted and dropped.
	PageIDs []string
	// AppID names the app in logs when the webhook serves an app; empty for a standalone page.
	AppID string
	// Path is the page's ingress path; DefaultPath when empty.
	Path string
	// VerifyToken answers Meta's verification GET; AppSecret signs every POST. They never
	// appear in logs, errors or metrics.
	VerifyToken, AppSecret []byte
}

// Queue takes what the callback accepted; the runner is one.
type Queue interface {
	// Accept queues the events of one POST (it may reorder evs, and must not keep the slice), or
	// returns false, keeping nothing, when it is full: the POST then gets 503 and Meta delivers it
	// again.
	Accept(evs []handover.Event) bool
	// Ignore counts an event not handed over, by reason (a closed set of labels).
	Ignore(reason string, attrs ...slog.Attr)
}

// Options are the dependencies of a Handler.
type Options struct {
	// Queue receives the accepted events. Required.
	Queue Queue
	// Logger for structured logs (no secrets, no message text). Default: slog.Default().
	Logger *slog.Logger
	// Registry to register the metrics with. Default: a private registry (metrics not exported).
	Registry prometheus.Registerer
	// Unserved, when set, is told of each entry of a page not served, instead of its events
	// being counted as other_page: the webhook of an app reports those (Meta delivers every page
	// subscribed to the app). Called on the request's goroutine; it must not block.
	Unserved func(pageID string)
	// Now is the clock of the verify token's rotation grace. Default time.Now.
	Now func() time.Time
}

// VerifyTokenGrace is how long the previous verify token is still accepted after a new one was
// applied: while the token rotates, Meta's verification GET may carry either (the app's callback
// is registered with the new token only once the webhooks have it, and Meta checks at once).
const VerifyTokenGrace = 10 * time.Minute

// Handler is the Messenger Platform's side of the webhook: the verification GET and the signed
// POSTs of one page. Create it with New, give it a Config with Apply, and call Close to stop
// accepting events.
type Handler struct {
	queue    Queue
	log      *slog.Logger
	metrics  *metrics
	unserved func(pageID string)
	now      func() time.Time

	live     atomic.Pointer[liveConfig]
	ingress  ingressGate
	refusals logLimiter
	budget   byteBudget
}

// liveConfig is a Config with what is derived from it, swapped as one pointer.
type liveConfig struct {
	cfg      Config
	path     string
	verifier *verifier
	pages    map[string]struct{}
	who      slog.Attr // names the page or the app in logs
	// previousToken is the verify token before the last change, accepted until previousUntil.
	previousToken []byte
	previousUntil time.Time
}

// New builds a Handler. It answers 503 until the first Apply.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{queue: o.Queue, log: o.Logger, unserved: o.Unserved, now: o.Now}
	h.metrics = newMetrics(o.Registry, func() float64 { return float64(h.budget.inFlight.Load()) })
	h.refusals.now = o.Now
	return h
}

// Apply swaps the configuration atomically: the next request is judged with it. Safe
// concurrently with requests.
func (h *Handler) Apply(cfg Config) {
	cfg.VerifyToken = clone(cfg.VerifyToken)
	cfg.AppSecret = clone(cfg.AppSecret)
	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	live := &liveConfig{cfg: cfg, path: path, verifier: newVerifier(cfg.AppSecret), pages: make(map[string]struct{}, len(cfg.PageIDs))}
	for _, id := range cfg.PageIDs {
		live.pages[id] = struct{}{}
	}
	switch {
	case cfg.AppID != "":
		live.who = slog.String("app", cfg.AppID)
	case len(cfg.PageIDs) == 1:
		live.who = slog.String("page", cfg.PageIDs[0])
	default:
		live.who = slog.Any("pages", cfg.PageIDs)
	}
	if old := h.live.Load(); old != nil {
		switch {
		case !bytes.Equal(old.cfg.VerifyToken, cfg.VerifyToken) && len(old.cfg.VerifyToken) > 0:
			live.previousToken, live.previousUntil = old.cfg.VerifyToken, h.now().Add(VerifyTokenGrace)
		default: // unchanged: the grace of an earlier rotation runs on
			live.previousToken, live.previousUntil = old.previousToken, old.previousUntil
		}
	}
	h.live.Store(live)
}

// Ready reports whether a configuration was applied and Close has not begun.
func (h *Handler) Ready() bool {
	return h.live.Load() != nil && !h.ingress.closed()
}

// ServeHTTP serves the webhook path (GET verifies the callback, POST takes events) and 404
// elsewhere; 503 before the first Apply and once Close has begun.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serveHTTP(w, r)
}

// Close stops accepting events (new POSTs and GETs get 503), then waits until the POSTs already
// inside have handed their events to the queue, or until ctx is done.
func (h *Handler) Close(ctx context.Context) error {
	h.ingress.shut.Store(true)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for h.ingress.n.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
