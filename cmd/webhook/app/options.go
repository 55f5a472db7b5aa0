// Package app is the webhook binary: flags, the page's configuration source (cluster or
// manifests directory), the webhook server, probes, metrics and graceful shutdown. cmd/webhook
// calls Run; tests call it in-process.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// Options are the webhook's settings, from flags (ParseFlags) or set by a test.
type Options struct {
	// Page is the MessengerPage served.
	Page types.NamespacedName
	// ManifestsDir, when set, selects standalone mode: the page, its policy and its Secret are
	// read from the YAML files of this directory instead of the API server.
	ManifestsDir string
	// ReloadInterval is how often ManifestsDir is read for changes. Default 1s.
	ReloadInterval time.Duration

	// Listen is the webhook's address (default :1337), ProbeAddr the one of /healthz, /readyz
	// and /metrics (default :8081).
	Listen, ProbeAddr string
	// Listener and ProbeListener, when set, are used instead of listening on Listen and
	// ProbeAddr (tests listen on port 0 and read the address).
	Listener, ProbeListener net.Listener
	// DrainTimeout bounds the graceful shutdown. Default 20s.
	DrainTimeout time.Duration

	// Kubeconfig and Context select the cluster; empty means in-cluster configuration or the
	// default kubeconfig loading rules. RESTConfig, when set, is used instead.
	Kubeconfig, Context string
	RESTConfig          *rest.Config

	LogLevel  slog.Level
	LogFormat string // json (default) or text
	// Logger, when set, is used instead of NewLogger(Options).
	Logger *slog.Logger
	// LogOutput is where the built logger writes. Default os.Stderr.
	LogOutput io.Writer

	// StatusRetryBase is the first backoff of a failed status write. Default 1s.
	StatusRetryBase time.Duration
}

// Defaults of the flags: the runtime contract with the operator's Deployment.
var (
	DefaultListen    = contract.Addr(contract.WebhookPort)
	DefaultProbeAddr = contract.Addr(contract.ProbePort)
)

// DefaultDrainTimeout is the default of --drain-timeout.
const DefaultDrainTimeout = contract.DrainTimeout

// ParseFlags reads the command line. --page may instead come from the PAGE environment variable,
// and a page given without a namespace is looked up in --namespace, POD_NAMESPACE, or "default".
func ParseFlags(args []string, getenv func(string) string, output io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(output)
	page := fs.String(contract.FlagPage, getenv(contract.EnvPage), "the MessengerPage to serve, as NAMESPACE/NAME (or NAME with --namespace); env PAGE")
	namespace := fs.String(contract.FlagNamespace, getenv(contract.EnvPodNamespace), "namespace of the page when --page has none; env POD_NAMESPACE")
	fs.StringVar(&o.ManifestsDir, contract.FlagManifests, "", "standalone mode: read the MessengerPage, HandoverPolicy and Secret from the YAML files of this directory (reloaded on change) instead of the API server")
	fs.StringVar(&o.Listen, contract.FlagListen, DefaultListen, "address of the webhook")
	fs.StringVar(&o.ProbeAddr, contract.FlagProbeAddr, DefaultProbeAddr, "address of /healthz, /readyz and /metrics")
	fs.DurationVar(&o.DrainTimeout, contract.FlagDrainTimeout, DefaultDrainTimeout, "on SIGTERM, how long to finish the events already accepted")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.LogFormat, "log-format", "json", "json or text")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration, then $KUBECONFIG and ~/.kube/config)")
	fs.StringVar(&o.Context, "context", "", "kubeconfig context")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if o.Page, err = parsePage(*page, *namespace); err != nil {
		return Options{}, err
	}
	if err := o.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return Options{}, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", *level)
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		return Options{}, fmt.Errorf("--log-format: %q is not json or text", o.LogFormat)
	}
	if o.DrainTimeout <= 0 {
		return Options{}, errors.New("--drain-timeout must be positive")
	}
	return o, nil
}

func parsePage(page, namespace string) (types.NamespacedName, error) {
	if page == "" {
		return types.NamespacedName{}, errors.New("--page (or PAGE) is required: NAMESPACE/NAME of the MessengerPage")
	}
	ns, name, found := strings.Cut(page, "/")
	if !found {
		ns, name = namespace, page
		if ns == "" {
			ns = "default"
		}
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return types.NamespacedName{}, fmt.Errorf("--page %q: invalid namespace: %s", page, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return types.NamespacedName{}, fmt.Errorf("--page %q: invalid name: %s", page, strings.Join(errs, "; "))
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}
