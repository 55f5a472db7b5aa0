package webhook

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/status"
)

// wiring is the mode-specific part of the process: the server, the loop that feeds it its
// configuration, and the one that writes status.
type wiring struct {
	srv  *Server
	mode string
	// source follows the configuration until ctx is done.
	source func(ctx context.Context)
	// status, when set, writes status until ctx is done, then makes its last writes.
	status func(ctx context.Context)
}

func (o *Options) wire(log *slog.Logger, reg *prometheus.Registry) (wiring, error) {
	cm := newConfigMetrics(reg)
	if o.ManifestsDir != "" && len(o.AuditKey) == 0 {
		// Directory mode: the audit key of the page's (or app's) Secret, when it has one.
		key, app := o.Page, false
		if o.App.Name != "" {
			key, app = o.App, true
		}
		k, err := config.AuditKey(o.ManifestsDir, key, app)
		if err != nil {
			return wiring{}, fmt.Errorf("audit key: %w", err)
		}
		o.AuditKey = k
	}
	if o.App.Name != "" {
		return o.wireApp(log, reg, cm)
	}
	return o.wirePage(log, reg, cm)
}

// wirePage serves one standalone page.
func (o *Options) wirePage(log *slog.Logger, reg *prometheus.Registry, cm *configMetrics) (wiring, error) {
	var (
		src interface {
			Run(ctx context.Context, update func(config.Snapshot)) error
		}
		reporter runner.Reporter
		writer   *status.Writer
		w        wiring
	)
	if o.ManifestsDir != "" {
		w.mode = "standalone"
		src = &config.DirSource{Dir: o.ManifestsDir, Page: o.Page, VerifyTokenSecret: o.VerifyTokenSecret, GraphAPIHosts: o.GraphAPIHosts,
			Interval: o.ReloadInterval, Logger: log, Rejected: func(error) { cm.valid.Set(0) }}
		reporter = status.Log{Logger: log}
	} else {
		w.mode = "cluster"
		cfg, dyn, err := o.clients()
		if err != nil {
			return w, err
		}
		writer = status.New(status.Options{Client: dyn, Page: o.Page, Logger: log, RetryBase: o.StatusRetryBase})
		reporter = writer
		cs, err := config.NewClusterSource(cfg, o.Page, o.VerifyTokenSecret, log)
		if err != nil {
			return w, err
		}
		cs.GraphAPIHosts, cs.Role, src = o.GraphAPIHosts, o.Role, cs
		w.status = writer.Run
	}
	ro := runner.Options{Logger: log, Reporter: reporter, Registry: reg, Clock: o.Clock, AuditKey: o.AuditKey}
	if err := o.sharedStore(&ro, log); err != nil {
		return w, err
	}
	w.srv = NewServer(ro)
	applier := &config.Applier{Target: w.srv, Logger: log, Applied: func(s config.Snapshot, cfg config.Page) {
		cm.applied.Inc()
		if writer != nil {
			writer.SetGeneration(s.Page.Generation)
			writer.VerifyToken(v1alpha1.VerifyTokenFingerprint(cfg.AppSecret, cfg.VerifyToken))
		}
	}}
	update := func(s config.Snapshot) {
		if writer != nil && s.Page != nil {
			writer.Seed(s.Page) // before the first Apply lets the server report
		}
		cm.observe(applier, s)
	}
	w.source = func(ctx context.Context) { _ = src.Run(ctx, update) }
	return w, nil
}

// wireApp serves the pages of an app: each page joins and leaves with its spec.appRef, with a
// reporter of its own (its status in a cluster, the log with --manifests).
func (o *Options) wireApp(log *slog.Logger, reg *prometheus.Registry, cm *configMetrics) (wiring, error) {
	var (
		run    func(ctx context.Context, update func(config.AppSnapshot)) error
		events = &appEvents{log: log}
		w      wiring
		event  func(string)
	)
	pages := &appPages{loadingGrace: appLoadingGrace}
	if o.ManifestsDir != "" {
		w.mode = "standalone"
		run = (&config.DirSource{Dir: o.ManifestsDir, App: o.App, VerifyTokenSecret: o.VerifyTokenSecret, GraphAPIHosts: o.GraphAPIHosts,
			Interval: o.ReloadInterval, Logger: log, Rejected: func(error) { cm.valid.Set(0) }}).RunApp
		pages.newReporter = func(p *v1alpha1.MessengerPage) (pageReporter, func()) {
			return status.Log{Logger: log.With("messengerPage", p.Name)}, func() {}
		}
	} else {
		w.mode = "cluster"
		cfg, dyn, err := o.clients()
		if err != nil {
			return w, err
		}
		if events.client, err = kubernetes.NewForConfig(cfg); err != nil {
			return w, err
		}
		event = events.unknownPage
		src, err := config.NewClusterSource(cfg, o.App, o.VerifyTokenSecret, log)
		if err != nil {
			return w, err
		}
		src.GraphAPIHosts, src.Role = o.GraphAPIHosts, o.Role
		run = src.RunApp
		pages.newReporter = func(p *v1alpha1.MessengerPage) (pageReporter, func()) {
			wr := status.New(status.Options{Client: dyn, Page: types.NamespacedName{Namespace: p.Namespace, Name: p.Name},
				Logger: log.With("messengerPage", p.Name), RetryBase: o.StatusRetryBase, Served: true})
			wr.Seed(p)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { wr.Run(ctx); close(done) }()
			return wr, func() { cancel(); <-done }
		}
		appWriter := status.New(status.Options{Client: dyn, App: o.App, Logger: log, RetryBase: o.StatusRetryBase})
		pages.verifyToken = appWriter.VerifyToken
		w.status = func(ctx context.Context) {
			appWriter.Run(ctx)
			pages.stopAll()
		}
	}
	u := newUnserved(reg, log, event)
	ro := runner.Options{Logger: log, Registry: reg, Clock: o.Clock, AuditKey: o.AuditKey}
	if err := o.sharedStore(&ro, log); err != nil {
		return w, err
	}
	w.srv = NewAppServer(ro, u.entry)
	applier := &config.AppApplier{Target: appTarget{w.srv, pages, cm}, Logger: log, Report: func(states []config.PageState) {
		valid := 1.0
		for _, st := range states {
			if st.Err != nil {
				valid = 0
			}
		}
		cm.valid.Set(valid)
		pages.report(states)
	}}
	update := func(s config.AppSnapshot) {
		events.setApp(s.App)
		pages.join(s.Pages) // before the Apply lets the server report
		applier.Update(s)
	}
	w.source = func(ctx context.Context) { _ = run(ctx, update) }
	return w, nil
}

// clients are the connection to the cluster and its dynamic client (for status writes).
func (o *Options) clients() (*rest.Config, dynamic.Interface, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, dyn, nil
}

// appTarget applies an app's configuration to the server with the pages' reporters.
type appTarget struct {
	srv   *Server
	pages *appPages
	cm    *configMetrics
}

func (t appTarget) ApplyApp(a config.App) {
	t.srv.ApplyApp(a, t.pages.reporterOf)
	t.cm.applied.Inc()
	if t.pages.verifyToken != nil {
		t.pages.verifyToken(v1alpha1.VerifyTokenFingerprint(a.AppSecret, a.VerifyToken))
	}
}
