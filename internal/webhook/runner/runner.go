package runner

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
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Page is what the runner needs of the page it serves, compiled from its MessengerPage, Secret
// and HandoverPolicy. Apply swaps it atomically.
type Page struct {
	PageID, AppID string
	// PageAccessToken authorises the Graph calls, each with the appsecret_proof of AppSecret.
	// They never appear in logs, errors or metrics.
	PageAccessToken, AppSecret []byte
	// GraphBaseURL (such as https://graph.facebook.com) and GraphVersion (such as v25.0).
	GraphBaseURL, GraphVersion string
	// MaxSendsPerSecond limits Send API calls; 0 means unlimited.
	MaxSendsPerSecond int32
	// Handover is the compiled page and policy (handover.Compile) the engine decides with.
	Handover *handover.Page
	// Reporter of this page's status changes; nil means Options.Reporter (a webhook of an app
	// has one per page).
	Reporter Reporter
}

// Reporter receives what only the webhook can see about the page; the status package writes it
// into the MessengerPage's conditions. Calls come from one goroutine, only on changes, and never
// carry secrets. They may block without slowing event handling.
type Reporter interface {
	// GraphAuthorized is false after an answer that refuses the token (invalid or expired) or the
	// app (appsecret_proof, permissions), and true again after a successful call.
	GraphAuthorized(ok bool, message string)
	// HandoverPermitted is false when Conversation Routing refuses a take (handover.TakeRefused)
	// and true again after a take succeeds.
	HandoverPermitted(ok bool, message string)
	// CanAct is false when the app cannot act on the page's new conversations: they reach it only
	// on standby (another app is the Page's default app) or its sends on threads nobody passed
	// away are refused with 2018300; true again once a user's message reaches it on messaging.
	CanAct(ok bool, message string)
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

// Options are the process-wide dependencies of a Runner. Zero values get sensible defaults.
type Options struct {
	// Logger for structured logs (no secrets, no message text). Default: slog.Default().
	Logger *slog.Logger
	// Reporter of page status changes. Default: none.
	Reporter Reporter
	// Clock for timers and backoff. Default: the wall clock.
	Clock Clock
	// Store keeps thread states and the dedup set. Default: store.NewMemory(store.MemoryOptions{}).
	Store store.Store
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
	// and estimated size); beyond them Accept refuses (the callback answers 503, so that Meta
	// retries later instead of the process outgrowing its memory). Defaults 10000 and 16 MiB.
	MaxQueued      int
	MaxQueuedBytes int64
	// GraphTransport, when set, makes the Graph calls. Default: a connection pool per page.
	GraphTransport http.RoundTripper
	// Journal, when set, records accepted events in the store the replicas share before Accept
	// returns true (dedup happens there too); Accept returns false when the store fails.
	Journal Journal
	// Leases, with Journal, makes one replica at a time act on a thread, and keeps thread
	// timers in the shared store; Holder names this replica there.
	Leases Leaser
	Holder string
	// StoreTimeout bounds one call to the shared store. Default 2s.
	StoreTimeout time.Duration
	// ClaimInterval is how often the journal is touched and searched for events other replicas
	// left; ClaimIdle how long an event must stay untouched to be claimed. Defaults 5s and 30s.
	ClaimInterval, ClaimIdle time.Duration
	// AuditKey is the key of the HMAC that names users in the handover audit (the app's, the
	// same in every replica). Default: a random key of this process.
	AuditKey []byte
	// IgnoreReasons are the reasons other parts give Ignore (the callback's): their counters are
	// registered up front with the engine's and the runner's, so that every reason shows from
	// the start at 0.
	IgnoreReasons []string
}

// Runner handles the accepted events of the pages it serves (one for a standalone page, those of
// an app). Create it with New, give it its Pages with Apply, hand it events with Accept, and stop
// it with Drain.
type Runner struct {
	opts    Options
	log     *slog.Logger
	clock   Clock
	store   store.Store
	engine  Engine
	metrics *metrics
	audit   *auditor

	// pages maps page ids to what serves them; Apply swaps the whole map.
	pages   atomic.Pointer[map[string]*livePage]
	applyMu sync.Mutex
	disp    *dispatcher
	timers  *tickTimers
	journal *journalState // nil without Options.Journal
	// released: the leases this replica gave back, against reusing one taken before.
	released releasedLeases

	ctx    context.Context // cancelled when Drain's deadline passes
	cancel context.CancelFunc

	drainMu sync.Mutex
	drained bool
}

// livePage is a Page with the Graph client built from it, swapped as one pointer.
type livePage struct {
	page  Page
	graph *graph.Client
	// graphKey says which Page fields the Graph client was built from, to reuse it (and its
	// connections and profile cache) when only the policy changed.
	graphKey string
	// status reports the page's conditions and routing watches whether the app receives the
	// page's new conversations; both live as long as the page is served (nil for a page not
	// served).
	status  *statusPump
	routing *routingWatch
}

// New builds a Runner and starts its workers.
func New(opts Options) *Runner {
	return newRunner(opts)
}

// Apply swaps the pages served atomically: exactly pages from now on. The next event handled
// uses them, an action in flight finishes with the one it started with; an event of a page no
// longer served is counted (no_policy) and dropped. Safe concurrently with Accept.
func (r *Runner) Apply(pages ...Page) {
	r.apply(pages)
}

// Accept queues the events of one delivery, each behind the earlier events of its user, and
// counts and drops those seen before (Meta redelivers what it thinks was not acknowledged). It
// returns false, queueing nothing and marking nothing seen, when the queue is full, so that
// Meta's retry finds the events new.
func (r *Runner) Accept(evs []handover.Event) bool {
	return r.accept(evs)
}

// Ignore counts an event that is not handled, by reason (a closed set of labels), and logs it at
// debug level with attrs.
func (r *Runner) Ignore(reason string, attrs ...slog.Attr) {
	r.ignore(reason, attrs...)
}

// Pending counts the events (and timer ticks) accepted and not yet fully handled.
func (r *Runner) Pending() int64 { return r.disp.depth() }

// Drain waits until every accepted event and its actions are handled, then stops the workers
// and the timers; when ctx is done first, in-flight calls are cancelled, what is left is
// dead-lettered, and ctx's error is returned. Stop accepting first: events accepted during
// Drain hold it up.
func (r *Runner) Drain(ctx context.Context) error {
	return r.drain(ctx)
}
