package webhook

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// Server is one page's webhook in the process: the callback in front of the runner, configured
// together from one config.Page. Run builds one; tests build their own.
type Server struct {
	log      *slog.Logger
	callback *callback.Handler
	runner   *runner.Runner
}

// NewServer builds a Server; the callback shares the runner's logger and registry. It answers
// 503 until the first Apply.
func NewServer(o runner.Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	o.IgnoreReasons = append(o.IgnoreReasons, callback.IgnoreReasons...)
	r := runner.New(o)
	return &Server{
		log:      o.Logger,
		runner:   r,
		callback: callback.New(callback.Options{Queue: r, Logger: o.Logger, Registry: o.Registry}),
	}
}

// Apply swaps the configuration: the runner's first, so that the callback never accepts an event
// for a page the runner does not have yet. Events in flight finish with the one they started
// with. Safe concurrently with requests.
func (s *Server) Apply(p config.Page) {
	s.runner.Apply(runner.Page{
		PageID:            p.PageID,
		AppID:             p.AppID,
		PageAccessToken:   p.PageAccessToken,
		AppSecret:         p.AppSecret,
		GraphBaseURL:      p.GraphBaseURL,
		GraphVersion:      p.GraphVersion,
		MaxSendsPerSecond: p.MaxSendsPerSecond,
		Handover:          p.Handover,
	})
	s.callback.Apply(callback.Config{PageID: p.PageID, Path: p.Path, VerifyToken: p.VerifyToken, AppSecret: p.AppSecret})
	path := p.Path
	if path == "" {
		path = callback.DefaultPath
	}
	s.log.Info("configuration applied", "page", p.PageID, "app", p.AppID, "path", path,
		"generation", p.Generation, "graphVersion", p.GraphVersion, "maxSendsPerSecond", p.MaxSendsPerSecond,
		"policy", p.Handover != nil)
}

// Ready reports whether a configuration was applied and Shutdown has not begun.
func (s *Server) Ready() bool { return s.callback.Ready() }

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
