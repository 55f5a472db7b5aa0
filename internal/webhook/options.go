package webhook

import (
	"io"
	"log/slog"
	"net"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/internal/contract"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// Options are the webhook process's settings, from cmd/webhook's flags or set by a test.
type Options struct {
	// Page is the standalone MessengerPage served; App, instead, the MessengerApp whose pages
	// are served. Exactly one is set.
	Page, App types.NamespacedName
	// ManifestsDir, when set, selects standalone mode: the page (or the app and its pages), the
	// policies and the Secrets are read from the YAML files of this directory instead of the API
	// server.
	ManifestsDir string
	// VerifyTokenSecret names the Secret the operator generates the verify token into when the
	// page's (or app's) Secret has none; the operator sets it on the Deployment. Empty: none.
	VerifyTokenSecret string
	// GraphAPIHosts, when set, are the only Graph API hosts a page's (or app's) baseURL may
	// name; the operator sets its own list on the Deployment. Empty: any.
	GraphAPIHosts []string
	// Role names the webhook's own Role (in cluster mode): each Secret is watched once the Role
	// grants it. The operator sets it on the Deployment. Empty: every Secret at once.
	Role string
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

	// RedisURL, when set, selects the Redis store shared by the replicas (from the environment
	// only: it may hold a password); RedisKeyPrefix starts its keys. ReplicaName names this
	// replica in the store (default: the host name, the pod's name).
	RedisURL, RedisKeyPrefix, ReplicaName string
	// AuditKey names users in the handover audit (an HMAC of the PSID with it; from the
	// environment only). Empty: a random key of this process.
	AuditKey []byte
	// ClaimIdle and ClaimInterval tune when an event another replica left is taken over
	// (runner.Options); zero means the runner's defaults.
	ClaimIdle, ClaimInterval time.Duration

	// Clock, for tests only (no flag sets it, so a release never runs with it): the time the
	// engine decides with and its timers run on, such as test/webhookrig's clock that follows the
	// Messenger Platform simulator's, so that windows, expiry and idle timeouts move with it.
	// Default: the wall clock.
	Clock runner.Clock
}

// Defaults of the flags: the runtime contract with the operator's Deployment.
var (
	DefaultListen    = contract.Addr(contract.WebhookPort)
	DefaultProbeAddr = contract.Addr(contract.ProbePort)
)

// DefaultDrainTimeout is the default of --drain-timeout.
const DefaultDrainTimeout = contract.DrainTimeout
