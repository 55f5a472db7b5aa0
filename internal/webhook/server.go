package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// DefaultPath is the webhook path when Config.Path is empty.
const DefaultPath = "/webhook"

// Config is the live configuration of the page's webhook, built by the config source (cluster
// informers or a manifests directory) from the MessengerPage, its Secret and its HandoverPolicy.
// Apply swaps it atomically.
type Config struct {
	PageID, AppID string
	// Path is the page's ingress path; DefaultPath when empty.
	Path string
	// Secrets. They never appear in logs, errors or metrics.
	VerifyToken, AppSecret, PageAccessToken []byte
	// GraphBaseURL (such as https://graph.facebook.com) and GraphVersion (such as v25.0).
	GraphBaseURL, GraphVersion string
	// MaxSendsPerSecond limits Send API calls; 0 means unlimited.
	MaxSendsPerSecond int32
	// Page is the compiled page and policy (handover.Compile).
	Page *handover.Page
	// Generation names the page/policy generations, for logs only.
	Generation string
}

// Reporter receives what only the webhook can see about the page; the cmd implements it by
// patching the MessengerPage's status conditions. Calls come from one goroutine, only on
// changes, and never carry secrets. They may block without slowing event handling.
type Reporter interface {
	// GraphAuthorized is false after an answer that refuses the token (invalid or expired) or the
	// app (appsecret_proof, permissions), and true again after a successful call.
	GraphAuthorized(ok bool, message string)
	// HandoverPermitted is false when Conversation Routing refuses a take (handover.TakeRefused)
	// and true again after a take succeeds.
	HandoverPermitted(ok bool, message string)
}

// Clock is the time source of timers and retry backoff; tests use a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not started; it reports whether it did.
	Stop() bool
}

// Options are the process-wide dependencies of a Server. Zero values get sensible defaults.
type Options struct {
	// Logger for structured logs (no secrets, no message text). Default: slog.Default().
	Logger *slog.Logger
	// Reporter of page status changes. Default: none.
	Reporter Reporter
	// Clock for timers and backoff. Default: the wall clock.
	Clock Clock
	// Store keeps thread states and the dedup set. Default: NewMemoryStore(MemoryStoreOptions{}).
	Store Store
	// Registry to register the metrics with. Default: a private registry (metrics not exported).
	Registry prometheus.Registerer
	// Engine decides. Default: the handover package (HandoverEngine).
	Engine Engine

	// RetryWindow is how long a call that certainly did not take effect is retried before it is
	// dead-lettered. Default 2 minutes.
	RetryWindow time.Duration
	// RetryBase and RetryMax bound the exponential backoff (with jitter). Defaults 250ms and 15s.
	RetryBase, RetryMax time.Duration
	// GraphTimeout bounds one Graph call. Default 10s.
	GraphTimeout time.Duration
	// Workers run actions concurrently (one user at a time each). Default 128.
	Workers int
	// MaxQueued and MaxQueuedBytes bound the events accepted but not yet handled (their count
	// and estimated size); beyond them POSTs get 503 so that Meta retries later instead of the
	// process outgrowing its memory. Defaults 10000 and 16 MiB.
	MaxQueued      int
	MaxQueuedBytes int64
	// GraphTransport, when set, makes the Graph calls. Default: a connection pool per page.
	GraphTransport http.RoundTripper
}

// Server is one page's webhook. Create it with New, give it a Config with Apply, serve
// Handler, and stop it with Shutdown.
type Server struct {
	opts    Options
	log     *slog.Logger
	clock   Clock
	store   Store
	engine  Engine
	metrics *metrics
	status  *statusPump

	live    atomic.Pointer[liveConfig]
	disp    *dispatcher
	timers  *tickTimers
	ingress ingressGate

	ctx    context.Context // cancelled when Shutdown's deadline passes
	cancel context.CancelFunc

	shutMu  sync.Mutex
	drained bool
}

// liveConfig is a Config with what is derived from it, swapped as one pointer.
type liveConfig struct {
	cfg      Config
	path     string
	verifier *verifier
	graph    *graph.Client
	// graphKey says which Config fields the Graph client was built from, to reuse it (and its
	// connections and profile cache) when only the policy changed.
	graphKey string
}

// New builds a Server. It serves 503 until the first Apply.
func New(opts Options) *Server {
	return newServer(opts)
}

// Apply swaps the live configuration atomically: the next event uses it, events in flight
// finish with the one they started with. Safe concurrently with requests.
func (s *Server) Apply(cfg Config) {
	s.apply(cfg)
}

// Ready reports whether a configuration was applied (and Shutdown has not begun).
func (s *Server) Ready() bool {
	return s.live.Load() != nil && !s.ingress.closed()
}

// Handler serves the webhook path (GET verifies the callback, POST takes events) and 404
// elsewhere; 503 before the first Apply and once Shutdown has begun.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// Shutdown stops accepting events (new POSTs get 503), then waits until every accepted event
// and its actions are handled, or until ctx is done; it returns ctx's error when work was left.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx)
}
