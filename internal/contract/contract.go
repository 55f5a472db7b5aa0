// Package contract is the runtime contract between the operator and the webhook binary: the ports,
// flags, environment variables and probe paths that the Deployment the operator builds
// (internal/specs) uses and the webhook (cmd/webhook) serves and parses. Both sides import it, so
// neither can change one alone.
package contract

import (
	"strconv"
	"time"
)

// Ports of the webhook container.
const (
	// WebhookPort serves Meta's calls (FlagListen).
	WebhookPort = 1337
	// ProbePort serves HealthzPath, ReadyzPath and MetricsPath (FlagProbeAddr).
	ProbePort = 8081
)

// Probe and metrics paths, on ProbePort.
const (
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
	MetricsPath = "/metrics"
)

// DrainTimeout is how long the webhook finishes accepted events on SIGTERM (FlagDrainTimeout);
// the pod's termination grace period must be longer.
const DrainTimeout = 20 * time.Second

// Flags of the webhook binary.
const (
	// FlagPage names the MessengerPage served, NAMESPACE/NAME (or NAME with FlagNamespace).
	FlagPage = "page"
	// FlagApp names the MessengerApp served, NAMESPACE/NAME (or NAME with FlagNamespace): the
	// webhook serves every page whose spec.appRef names it. Exactly one of FlagPage and FlagApp.
	FlagApp = "app"
	// FlagNamespace is the page's (or app's) namespace when FlagPage (FlagApp) has none.
	FlagNamespace = "namespace"
	// FlagManifests selects directory mode: the page, its policy and Secrets are read from the
	// YAML files of this directory instead of the API server.
	FlagManifests = "manifests"
	// FlagListen is the address of the webhook, FlagProbeAddr the one of the probes and metrics.
	FlagListen    = "listen"
	FlagProbeAddr = "probe-addr"
	// FlagDrainTimeout bounds the graceful shutdown.
	FlagDrainTimeout = "drain-timeout"
	// FlagVerifyTokenSecret names the Secret, in the page's namespace, holding the verify token the
	// operator generated (key v1alpha1.GeneratedVerifyTokenKey), when the user's Secret has none.
	FlagVerifyTokenSecret = "verify-token-secret"
	// FlagGraphAPIHosts lists the Graph API hosts a page's baseURL may name (comma-separated,
	// the manager's own --graph-api-hosts); empty: any.
	FlagGraphAPIHosts = "graph-api-hosts"
	// FlagRole names the webhook's own Role, in its namespace: a Secret is watched once that
	// Role grants it (a watch started before would be refused and retried on a backoff that
	// doubles from 0.8 s). Empty: every Secret is watched at once.
	FlagRole = "role"
	// FlagRedisKeyPrefix starts every key the webhook writes in its Redis store.
	FlagRedisKeyPrefix = "redis-key-prefix"
	// FlagReplicaName names the replica in the Redis store (its journal consumer and lease
	// holder); default the host name (the pod's name). Replicas must have distinct names.
	FlagReplicaName = "replica-name"
	// FlagClaimIdle is how long an event another replica accepted must stay untouched before
	// this one takes it over.
	FlagClaimIdle = "claim-idle"
)

// Environment variables of the webhook container, each the default of a flag.
const (
	// EnvPage is the default of FlagPage.
	EnvPage = "PAGE"
	// EnvApp is the default of FlagApp.
	EnvApp = "APP"
	// EnvPodNamespace is the default of FlagNamespace: the pod's namespace, from the downward API.
	EnvPodNamespace = "POD_NAMESPACE"
	// EnvVerifyTokenSecret is the default of FlagVerifyTokenSecret; the operator sets it only
	// while the generated Secret is in use.
	EnvVerifyTokenSecret = "VERIFY_TOKEN_SECRET"
	// EnvMemoryLimit is the container's memory limit in bytes (downward API resourceFieldRef);
	// the webhook sets its soft heap limit to MemoryLimitFraction of it.
	EnvMemoryLimit = "MEMORY_LIMIT"
	// EnvRole is the default of FlagRole.
	EnvRole = "ROLE"
	// EnvGraphAPIHosts is the default of FlagGraphAPIHosts.
	EnvGraphAPIHosts = "GRAPH_API_HOSTS"
	// EnvRedisURL is the Redis store's URL (redis:// or rediss://, from the Secret named by
	// spec.webhook.store.redis.urlSecretRef); absent means the memory store. Never a flag: it
	// may hold a password.
	EnvRedisURL = "REDIS_URL"
	// EnvAuditKey is the key of the HMAC that names users in the handover audit log, from the
	// Secret the operator generates for the page or app (key v1alpha1.GeneratedAuditKeyKey), so
	// that every replica names a user alike. Never a flag: it is a secret.
	EnvAuditKey = "AUDIT_KEY"
	// EnvRedisKeyPrefix starts every key the webhook writes in Redis.
	EnvRedisKeyPrefix = "REDIS_KEY_PREFIX"
)

// MemoryLimitFraction of the container's memory limit is the webhook's soft heap limit
// (GOMEMLIMIT): high enough that the collector is not pushed at the usual 60-70 MiB under a
// 256 MiB limit, low enough that it collects harder before the kernel kills the pod.
const MemoryLimitFraction = 0.75

// Arg is the command-line form of a flag: --name=value.
func Arg(flag, value string) string { return "--" + flag + "=" + value }

// Addr is the listen address of a port on every interface: ":1337".
func Addr(port int) string { return ":" + strconv.Itoa(port) }

// EnvRef is an environment variable as Kubernetes expands it in a container's args: $(NAME).
func EnvRef(name string) string { return "$(" + name + ")" }
