package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/status"
)

// UserAgent names the webhook in the API server's logs and audit.
const UserAgent = "messenger-webhook"

var _ runner.Reporter = (*status.Writer)(nil)
var _ runner.Reporter = status.Log{}

// source is where the page's configuration comes from: the cluster or a manifests directory.
type source interface {
	Run(ctx context.Context, update func(config.Snapshot)) error
}

// Run serves the page's webhook until ctx is done (SIGTERM, SIGINT), then drains: new events get
// 503 (Meta retries them), the events already accepted are handled within DrainTimeout. It
// returns an error only when it cannot start or a listener fails.
func Run(ctx context.Context, o Options) error {
	o.setDefaults()
	log := o.Logger
	if log == nil {
		log = NewLogger(o)
	}
	log = log.With("messengerPage", o.Page.String())

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var (
		src      source
		reporter runner.Reporter
		writer   *status.Writer
		mode     string
	)
	cm := newConfigMetrics(reg)
	if o.ManifestsDir != "" {
		mode = "standalone"
		src = &config.DirSource{Dir: o.ManifestsDir, Page: o.Page, VerifyTokenSecret: o.VerifyTokenSecret,
			Interval: o.ReloadInterval, Logger: log, Rejected: func(error) { cm.valid.Set(0) }}
		reporter = status.Log{Logger: log}
	} else {
		mode = "cluster"
		cfg, err := o.restConfig()
		if err != nil {
			return fmt.Errorf("kubernetes client configuration: %w", err)
		}
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return err
		}
		writer = status.New(status.Options{Client: dyn, Page: o.Page, Logger: log, RetryBase: o.StatusRetryBase})
		reporter = writer
		if src, err = config.NewClusterSource(cfg, o.Page, o.VerifyTokenSecret, log); err != nil {
			return err
		}
	}

	// Nothing runs yet: a failure to listen leaves nothing behind.
	ln, err := listen(o.Listener, o.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	probeLn, err := listen(o.ProbeListener, o.ProbeAddr)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("--probe-addr: %w", err)
	}

	srv := NewServer(runner.Options{Logger: log, Reporter: reporter, Registry: reg, Clock: o.Clock})
	applier := &config.Applier{Target: srv, Logger: log, Applied: func(s config.Snapshot) {
		cm.applied.Inc()
		if writer != nil {
			writer.SetGeneration(s.Page.Generation)
		}
	}}
	update := func(s config.Snapshot) {
		if writer != nil && s.Page != nil {
			writer.Seed(s.Page) // before the first Apply lets the server report
		}
		cm.observe(applier, s)
	}

	web := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	probe := &http.Server{Handler: probes(srv, reg), ReadHeaderTimeout: 5 * time.Second}

	var wg sync.WaitGroup
	srcCtx, stopSource := context.WithCancel(context.Background())
	wg.Go(func() {
		_ = src.Run(srcCtx, update)
	})
	statusCtx, stopStatus := context.WithCancel(context.Background())
	var statusDone sync.WaitGroup
	if writer != nil {
		statusDone.Go(func() { writer.Run(statusCtx) })
	}
	serveErr := make(chan error, 2)
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{web, ln}, {probe, probeLn}} {
		go func() {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	log.Info("webhook started", "mode", mode, "listen", ln.Addr().String(), "probeAddr", probeLn.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: draining accepted events", "timeout", o.DrainTimeout.String())
	case runErr = <-serveErr:
		log.Error("listener failed; stopping", "error", runErr.Error())
	}

	// The configuration stays as it is while draining.
	stopSource()
	wg.Wait()
	drain, cancel := context.WithTimeout(context.Background(), o.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		log.Error("drain deadline passed with events left", "error", err.Error())
	}
	if err := web.Shutdown(drain); err != nil {
		_ = web.Close()
	}
	// The server has handed its last condition change to the reporter: write it, then stop.
	stopStatus()
	statusDone.Wait()
	pctx, pcancel := context.WithTimeout(context.Background(), time.Second)
	defer pcancel()
	if err := probe.Shutdown(pctx); err != nil {
		_ = probe.Close()
	}
	log.Info("webhook stopped")
	return runErr
}

func listen(ln net.Listener, addr string) (net.Listener, error) {
	if ln != nil {
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

func (o *Options) setDefaults() {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.ProbeAddr == "" {
		o.ProbeAddr = DefaultProbeAddr
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
}

// NewLogger builds the logger of LogLevel and LogFormat, writing to LogOutput.
func NewLogger(o Options) *slog.Logger {
	out := o.LogOutput
	if out == nil {
		out = os.Stderr
	}
	hopts := &slog.HandlerOptions{Level: o.LogLevel}
	if o.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(out, hopts))
	}
	return slog.New(slog.NewJSONHandler(out, hopts))
}

// restConfig is RESTConfig, else the kubeconfig flags, else the in-cluster configuration.
func (o *Options) restConfig() (*rest.Config, error) {
	var cfg *rest.Config
	if o.RESTConfig != nil {
		cfg = rest.CopyConfig(o.RESTConfig)
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
			&clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	cfg.UserAgent = UserAgent
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 20, 40
	}
	return cfg, nil
}
