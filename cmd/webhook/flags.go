package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

// parseFlags reads the command line. Exactly one of --page (a standalone page) and --app (an
// app's pages) is set; they may instead come from the PAGE and APP environment variables, and a
// name given without a namespace is looked up in --namespace, POD_NAMESPACE, or "default".
func parseFlags(args []string, getenv func(string) string, output io.Writer) (webhook.Options, error) {
	var o webhook.Options
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(output)
	page := fs.String(contract.FlagPage, getenv(contract.EnvPage), "the MessengerPage to serve, as NAMESPACE/NAME (or NAME with --namespace); env PAGE")
	app := fs.String(contract.FlagApp, getenv(contract.EnvApp), "the MessengerApp whose pages to serve, as NAMESPACE/NAME (or NAME with --namespace); env APP")
	namespace := fs.String(contract.FlagNamespace, getenv(contract.EnvPodNamespace), "namespace of the page when --page has none; env POD_NAMESPACE")
	fs.StringVar(&o.ManifestsDir, contract.FlagManifests, "", "standalone mode: read the MessengerPage (or the MessengerApp and its pages), HandoverPolicies and Secrets from the YAML files of this directory (reloaded on change) instead of the API server")
	fs.StringVar(&o.VerifyTokenSecret, contract.FlagVerifyTokenSecret, getenv(contract.EnvVerifyTokenSecret), "the Secret the operator generates the verify token into when the page's (or app's) Secret has none (key verifyToken); env VERIFY_TOKEN_SECRET")
	hosts := fs.String(contract.FlagGraphAPIHosts, getenv(contract.EnvGraphAPIHosts), "the only Graph API hosts (host or host:port, comma-separated) a page's graphAPI.baseURL may name; empty: any; env GRAPH_API_HOSTS (the operator sets its own list)")
	fs.StringVar(&o.Role, contract.FlagRole, getenv(contract.EnvRole), "cluster mode: the webhook's own Role, whose grants it waits for before watching a Secret (the operator adds a page's Secret to it as the page joins); empty: every Secret is watched at once; env ROLE")
	fs.StringVar(&o.RedisKeyPrefix, contract.FlagRedisKeyPrefix, getenv(contract.EnvRedisKeyPrefix), "prefix of every key in the Redis store; env REDIS_KEY_PREFIX (the store's URL is read from env REDIS_URL only)")
	o.RedisURL = getenv(contract.EnvRedisURL)
	if k := getenv(contract.EnvAuditKey); k != "" {
		o.AuditKey = []byte(k)
	}
	fs.StringVar(&o.ReplicaName, contract.FlagReplicaName, "", "with Redis: this replica's name in the store, distinct per replica (default: the host name, that is the pod's name)")
	fs.DurationVar(&o.ClaimIdle, contract.FlagClaimIdle, 30*time.Second, "with Redis: how long an event another replica accepted stays untouched before this one takes it over (that replica died)")
	fs.StringVar(&o.Listen, contract.FlagListen, webhook.DefaultListen, "address of the webhook")
	fs.StringVar(&o.ProbeAddr, contract.FlagProbeAddr, webhook.DefaultProbeAddr, "address of /healthz, /readyz and /metrics")
	fs.DurationVar(&o.DrainTimeout, contract.FlagDrainTimeout, webhook.DefaultDrainTimeout, "on SIGTERM, how long to finish the events already accepted")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.LogFormat, "log-format", "json", "json or text")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration, then $KUBECONFIG and ~/.kube/config)")
	fs.StringVar(&o.Context, "context", "", "kubeconfig context")
	if err := fs.Parse(args); err != nil {
		return webhook.Options{}, err
	}
	if fs.NArg() > 0 {
		return webhook.Options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	switch {
	case *page != "" && *app != "":
		return webhook.Options{}, errors.New("--page and --app (or PAGE and APP) exclude each other: serve one standalone MessengerPage or one MessengerApp's pages")
	case *app != "":
		if o.App, err = parseName("--app", *app, *namespace); err != nil {
			return webhook.Options{}, err
		}
	case *page != "":
		if o.Page, err = parseName("--page", *page, *namespace); err != nil {
			return webhook.Options{}, err
		}
	default:
		return webhook.Options{}, errors.New("--page or --app (or PAGE or APP) is required: NAMESPACE/NAME of the MessengerPage, or of the MessengerApp whose pages to serve")
	}
	if n := o.VerifyTokenSecret; n != "" {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			return webhook.Options{}, fmt.Errorf("--verify-token-secret %q: invalid name: %s", n, strings.Join(errs, "; "))
		}
	}
	if strings.TrimSpace(*hosts) != "" {
		if o.GraphAPIHosts, err = v1alpha1.ParseGraphAPIHosts(*hosts); err != nil {
			return webhook.Options{}, fmt.Errorf("--graph-api-hosts: %w", err)
		}
	}
	if err := o.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return webhook.Options{}, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", *level)
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		return webhook.Options{}, fmt.Errorf("--log-format: %q is not json or text", o.LogFormat)
	}
	if o.DrainTimeout <= 0 {
		return webhook.Options{}, errors.New("--drain-timeout must be positive")
	}
	return o, nil
}

func parseName(flag, value, namespace string) (types.NamespacedName, error) {
	ns, name, found := strings.Cut(value, "/")
	if !found {
		ns, name = namespace, value
		if ns == "" {
			ns = "default"
		}
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return types.NamespacedName{}, fmt.Errorf("%s %q: invalid namespace: %s", flag, value, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return types.NamespacedName{}, fmt.Errorf("%s %q: invalid name: %s", flag, value, strings.Join(errs, "; "))
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}
