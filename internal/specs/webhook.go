package specs

import (
	"strconv"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
)

const (
	// ServicePort is the Service's port in front of contract.WebhookPort.
	ServicePort = 80
	// TerminationGracePeriodSeconds leaves 10s after contract.DrainTimeout for the process to exit.
	TerminationGracePeriodSeconds = 30

	containerName = "webhook"
	httpPortName  = "http"
	probePortName = "probes"
)

// Webhook is what the builders need to know about one page.
type Webhook struct {
	Page *v1alpha1.MessengerPage
	// DefaultImage is the manager's --webhook-image, used unless spec.webhook.image is set.
	DefaultImage string
	// VerifyTokenSecret names the Secret of the verify token the operator generated, when that
	// is the one in use (the user's Secret has none); the webhook learns it from its environment.
	VerifyTokenSecret string
}

// Image is the image the page's webhook runs.
func (w Webhook) Image() string {
	if img := w.Page.Spec.Webhook.Image; img != "" {
		return img
	}
	return w.DefaultImage
}

// Replicas of the webhook Deployment.
func (w Webhook) Replicas() int32 { return w.Page.Spec.Webhook.GetReplicas() }

// Args are the webhook's flags. The page's namespace comes from the downward API
// (contract.EnvPodNamespace), its name literally.
func (w Webhook) Args() []string {
	return []string{
		contract.Arg(contract.FlagPage, contract.EnvRef(contract.EnvPodNamespace)+"/"+w.Page.Name),
		contract.Arg(contract.FlagListen, contract.Addr(contract.WebhookPort)),
		contract.Arg(contract.FlagProbeAddr, contract.Addr(contract.ProbePort)),
		contract.Arg(contract.FlagDrainTimeout, contract.DrainTimeout.String()),
	}
}

// WebhookURL is where Meta should call the page: https on the Ingress host, else on the first
// single-host name of spec.httpRoute, else the Service's in-cluster URL.
func WebhookURL(page *v1alpha1.MessengerPage) string {
	if in := page.Spec.Ingress; in != nil {
		return "https://" + in.Host + page.Spec.WebhookPath()
	}
	if h := routeHost(page); h != "" {
		return "https://" + h + page.Spec.WebhookPath()
	}
	return "http://" + ServiceHost(page) + ":" + strconv.Itoa(ServicePort) + page.Spec.WebhookPath()
}
