// Command manager is the messenger-operator: it runs one webhook per MessengerPage and reports
// on HandoverPolicies. See the README for its flags.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/controllers"
)

// The secure metrics endpoint asks the API server who calls and whether they may.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

func main() {
	opts, err := parseOptions(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts.zap)))
	log := ctrl.Log.WithName("setup")
	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "no cluster configuration")
		os.Exit(1)
	}
	if err := run(ctrl.SetupSignalHandler(), cfg, opts); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

// run wires the manager and runs it until ctx is done.
func run(ctx context.Context, cfg *rest.Config, opts options) error {
	log := ctrl.Log.WithName("setup")
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := messengerv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}

	var tlsOpts []func(*tls.Config)
	if !opts.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metrics := metricsserver.Options{BindAddress: opts.metricsAddr, SecureServing: opts.metricsSecure, TLSOpts: tlsOpts}
	if opts.metricsSecure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metrics,
		HealthProbeBindAddress:        opts.probeAddr,
		LeaderElection:                opts.leaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionNamespace:       opts.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// managedFields stripped; owned kinds (Secrets first) cached only when the operator's.
		Cache: controllers.CacheOptions(opts.namespaces),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := controllers.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering the field indexes: %w", err)
	}
	pages := &controllers.MessengerPageReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("messenger-operator"),
		WebhookImage:            opts.webhookImage,
		MaxConcurrentReconciles: opts.maxConcurrentReconciles,
		Namespaces:              opts.namespaces,
		ClaimBindings:           opts.claims,
		GraphAPIHosts:           opts.graphAPIHosts,
	}
	if err := pages.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the MessengerPage controller: %w", err)
	}
	// The app controller shares the page controller's clients and settings.
	apps := &controllers.MessengerAppReconciler{
		Client: pages.Client, Scheme: pages.Scheme, APIReader: pages.APIReader, Recorder: pages.Recorder,
		WebhookImage: pages.WebhookImage, MaxConcurrentReconciles: pages.MaxConcurrentReconciles,
		Namespaces: pages.Namespaces, ClaimBindings: pages.ClaimBindings, GraphAPIHosts: pages.GraphAPIHosts,
	}
	if err := apps.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the MessengerApp controller: %w", err)
	}
	policies := &controllers.HandoverPolicyReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme()}
	if err := policies.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the HandoverPolicy controller: %w", err)
	}
	// The objects' status as metrics, read from the cache at each scrape.
	if err := controllers.RegisterStatusMetrics(ctrlmetrics.Registry, mgr.GetCache()); err != nil {
		return fmt.Errorf("registering the status metrics: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting", "webhookImage", opts.webhookImage, "namespaces", opts.namespaces, "graphAPIHosts", opts.graphAPIHosts, "leaderElection", opts.leaderElect)
	return mgr.Start(ctx)
}
