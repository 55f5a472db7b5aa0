package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/controllers"
)

// options are the manager's settings, kubebuilder's flags plus the operator's own.
type options struct {
	metricsAddr   string
	metricsSecure bool
	enableHTTP2   bool
	probeAddr     string
	leaderElect   bool
	// leaderElectionNamespace holds the Lease; empty means the pod's namespace (read from the
	// ServiceAccount mount), which a process outside a pod does not have.
	leaderElectionNamespace string
	// webhookImage runs every page's webhook pods unless the page sets spec.webhook.image.
	webhookImage            string
	maxConcurrentReconciles int
	// namespaces limits the operator to these namespaces (WATCH_NAMESPACE, comma-separated);
	// empty means the whole cluster.
	namespaces []string
	// claims binds pageIDs and appIDs to the namespaces allowed to claim them.
	claims controllers.ClaimBindings
	// graphAPIHosts are the hosts a page's or app's spec.graphAPI.baseURL may name.
	graphAPIHosts []string
	zap           zap.Options
}

// leaderElectionID names the Lease the managers' replicas compete for.
const leaderElectionID = "messenger-operator.messenger.handover.dev"

// parseOptions reads the command line and the environment (WEBHOOK_IMAGE, WATCH_NAMESPACE,
// POD_NAMESPACE).
func parseOptions(args []string, getenv func(string) string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", "0",
		`address of the metrics endpoint: ":8443" for HTTPS (":8080" with --metrics-secure=false), "0" for none`)
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true,
		"serve metrics over HTTPS, to callers authenticated and authorized by the API server")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"allow HTTP/2 on the metrics server (off: HTTP/2 Rapid Reset and Stream Cancellation CVEs)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader among the manager's replicas (Lease "+leaderElectionID+")")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", getenv("POD_NAMESPACE"),
		"namespace of the leader election Lease; env POD_NAMESPACE; default: the pod's own namespace (in a cluster only)")
	fs.StringVar(&o.webhookImage, "webhook-image", cmp.Or(getenv("WEBHOOK_IMAGE"), defaultWebhookImage()),
		"image of the webhook pods (it runs /webhook), usually the operator's own; env WEBHOOK_IMAGE; default: the released image of this manager's version")
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 16, "pages reconciled in parallel (each mostly waits on the API server)")
	bindings := fs.String("claim-bindings", "",
		"pageIDs and appIDs bound to the namespaces allowed to claim them, ID=ns1;ns2,ID2=ns3; an ID not listed goes to its oldest claim")
	hosts := fs.String("graph-api-hosts", messengerv1alpha1.DefaultGraphAPIHost,
		"Graph API hosts a page's or app's spec.graphAPI.baseURL may name, host or host:port, comma-separated; a page or app elsewhere is Stalled (its tokens would go there)")
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.webhookImage = strings.TrimSpace(o.webhookImage)
	switch {
	case o.webhookImage == "":
		return options{}, errors.New("--webhook-image is empty: give the image with /webhook that each page's pods run, or leave the flag out for " + defaultWebhookImage())
	case strings.ContainsAny(o.webhookImage, " \t\n"):
		return options{}, fmt.Errorf("--webhook-image %q: an image reference has no spaces", o.webhookImage)
	case o.maxConcurrentReconciles < 1:
		return options{}, fmt.Errorf("--max-concurrent-reconciles must be at least 1, not %d", o.maxConcurrentReconciles)
	}
	var err error
	if o.claims, err = controllers.ParseClaimBindings(*bindings); err != nil {
		return options{}, fmt.Errorf("--claim-bindings: %w", err)
	}
	if o.graphAPIHosts, err = messengerv1alpha1.ParseGraphAPIHosts(*hosts); err != nil {
		return options{}, fmt.Errorf("--graph-api-hosts: %w", err)
	}
	for _, ns := range strings.Split(getenv("WATCH_NAMESPACE"), ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.namespaces = append(o.namespaces, ns)
		}
	}
	return o, nil
}
