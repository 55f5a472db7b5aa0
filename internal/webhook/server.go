package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// Server is the webhook of a page or of an app's pages in the process: the callback in front of the runner, configured
// together from one config.Page. Run builds one; tests build their own.
type Server struct {
	log      *slog.Logger
	callback *callback.Handler
	runner   *runner.Runner
}

// NewServer builds the Server of a standalone page; the callback shares the runner's logger and
// registry. It answers 503 until the first Apply.
func NewServer(o runner.Options) *Server { return NewAppServer(o, nil) }

// NewAppServer builds the Server of an app's webhook (configured with ApplyApp): unserved is told
// of each entry of a page the app does not serve (nil: they count as other_page events).
func NewAppServer(o runner.Options, unserved func(pageID string)) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	o.IgnoreReasons = append(o.IgnoreReasons, callback.IgnoreReasons...)
	var now func() time.Time // the verify token's grace follows the runner's clock
	if o.Clock != nil {
		now = o.Clock.Now
	}
	r := runner.New(o)
	return &Server{
		log:      o.Logger,
		runner:   r,
		callback: callback.New(callback.Options{Queue: r, Logger: o.Logger, Registry: o.Registry, Unserved: unserved, Now: now}),
	}
}

// Apply swaps the configuration of a standalone page: the runner's first, so that the callback
// never accepts an event for a page the runner does not have yet. Events in flight finish with
// the one they started with. Safe concurrently with requests.
func (s *Server) Apply(p config.Page) {
	s.apply(config.App{Path: p.Path, VerifyToken: p.VerifyToken, AppSecret: p.AppSecret, Pages: []config.Page{p}}, nil)
	s.log.Info("configuration applied", "page", p.PageID, "app", p.AppID, "path", pathOr(p.Path),
		"generation", p.Generation, "graphVersion", p.GraphVersion, "maxSendsPerSecond", p.MaxSendsPerSecond,
		"policy", p.Handover != nil)
}

// ApplyApp swaps the configuration of an app's webhook: exactly a's pages are served from now on,
// each entry routed by its page id. reporterOf gives each page's Reporter by the MessengerPage's
// name (nil: the runner's). Safe concurrently with requests.
func (s *Server) ApplyApp(a config.App, reporterOf func(name string) runner.Reporter) {
	s.apply(a, reporterOf)
}

func (s *Server) apply(a config.App, reporterOf func(name string) runner.Reporter) {
	pages := make([]runner.Page, len(a.Pages))
	ids := make([]string, len(a.Pages))
	for i, p := range a.Pages {
		pages[i] = runner.Page{
			PageID:            p.PageID,
			AppID:             p.AppID,
			PageAccessToken:   p.PageAccessToken,
			AppSecret:         p.AppSecret,
			GraphBaseURL:      p.GraphBaseURL,
			GraphVersion:      p.GraphVersion,
			MaxSendsPerSecond: p.MaxSendsPerSecond,
			Handover:          p.Handover,
		}
		if reporterOf != nil {
			pages[i].Reporter = reporterOf(p.Name)
		}
		ids[i] = p.PageID
	}
	s.runner.Apply(pages...)
	s.callback.Apply(callback.Config{PageIDs: ids, AppID: a.AppID, Path: a.Path, VerifyToken: a.VerifyToken, AppSecret: a.AppSecret})
}

func pathOr(path string) string {
	if path == "" {
		return callback.DefaultPath
	}
	return path
}

// Ready reports whether a configuration was applied, Shutdown has not begun and the shared
// store, when there is one, answers.
func (s *Server) Ready() bool { return s.callback.Ready() && s.runner.StoreReady() }

// Handler serves Meta's calls (callback.Handler).
func (s *Server) Handler() http.Handler { return s.callback }

// Pending counts the events accepted and not yet fully handled.
func (s *Server) Pending() int64 { return s.runner.Pending() }

// Shutdown stops accepting events (new POSTs get 503), then waits until every accepted event and
// its actions are handled, or until ctx is done; it returns ctx's error when work was left.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.callback.Close(ctx); err != nil {
		_ = s.runner.Drain(ctx) // ctx is done: this cancels the calls in flight
		return err
	}
	return s.runner.Drain(ctx)
}
