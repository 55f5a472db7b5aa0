package specs

import (
	"strconv"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The runtime contract of the webhook binary (cmd/webhook).
const (
	// HTTPPort is where the webhook serves Meta's calls (--listen).
	HTTPPort = 1337
	// ProbePort serves /healthz, /readyz and /metrics (--probe-addr).
	ProbePort = 8081
	// ServicePort is the Service's port in front of HTTPPort.
	ServicePort = 80
	// DrainTimeout is how long the webhook finishes accepted events on SIGTERM; the pod's grace
	// period must be longer.
	DrainTimeout = 20 * time.Second
	// TerminationGracePeriodSeconds leaves 10s after the drain for the process to exit.
	TerminationGracePeriodSeconds = 30
	// DefaultPath is the webhook's path without an Ingress (and the CRD default of
	// spec.ingress.path).
	DefaultPath = "/webhook"

	containerName   = "webhook"
	httpPortName    = "http"
	probePortName   = "probes"
	podNamespaceEnv = "POD_NAMESPACE"
)

// Webhook is what the builders need to know about one page.
type Webhook struct {
	Page *v1alpha1.MessengerPage
	// DefaultImage is the manager's --webhook-image, used unless spec.webhook.image is set.
	DefaultImage string
}

// Image is the image the page's webhook runs.
func (w Webhook) Image() string {
	if img := w.Page.Spec.Webhook.Image; img != "" {
		return img
	}
	return w.DefaultImage
}

// Replicas of the webhook Deployment (the CRD defaults spec.webhook.replicas to 1).
func (w Webhook) Replicas() int32 {
	if r := w.Page.Spec.Webhook.Replicas; r != nil {
		return *r
	}
	return 1
}

// Args are the webhook's flags. The page's namespace comes from the downward API
// (POD_NAMESPACE), its name literally.
func (w Webhook) Args() []string {
	return []string{
		"--page=$(" + podNamespaceEnv + ")/" + w.Page.Name,
		"--listen=:" + strconv.Itoa(HTTPPort),
		"--probe-addr=:" + strconv.Itoa(ProbePort),
		"--drain-timeout=" + DrainTimeout.String(),
	}
}

// Path is the path Meta calls: spec.ingress.path, or DefaultPath.
func Path(page *v1alpha1.MessengerPage) string {
	if in := page.Spec.Ingress; in != nil && in.Path != "" {
		return in.Path
	}
	return DefaultPath
}

// WebhookURL is where Meta should call the page: https on the Ingress host, else on the first
// single-host name of spec.httpRoute, else the Service's in-cluster URL.
func WebhookURL(page *v1alpha1.MessengerPage) string {
	if in := page.Spec.Ingress; in != nil {
		return "https://" + in.Host + Path(page)
	}
	if h := routeHost(page); h != "" {
		return "https://" + h + Path(page)
	}
	return "http://" + ServiceHost(page) + ":" + strconv.Itoa(ServicePort) + Path(page)
}
