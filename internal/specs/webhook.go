package specs

import (
	"strconv"

	"k8s.io/apimachinery/pkg/types"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

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

// Webhook is what the builders need to know about one webhook: a standalone page's (Page) or a
// MessengerApp's (App), exactly one of the two. The builders read the owner's fields through the
// accessors below, so pages and apps share every builder but the Role.
type Webhook struct {
	Page *v1alpha1.MessengerPage
	App  *v1alpha1.MessengerApp
	// DefaultImage is the manager's --webhook-image, used unless spec.webhook.image is set.
	DefaultImage string
	// VerifyTokenSecret names the Secret of the verify token the operator generated, when that
	// is the one in use (the user's Secret has none); the webhook learns it from its environment.
	VerifyTokenSecret string
	// GraphAPIHosts are the manager's --graph-api-hosts, passed on to the webhook (env
	// GRAPH_API_HOSTS) so that it, too, refuses a baseURL elsewhere; none set: none passed.
	GraphAPIHosts []string
	// StoreURLHash is a hash of the Redis store's URL (StoreURLHash), read from its Secret by
	// the operator: a changed URL rolls the pods. Empty with the memory store.
	StoreURLHash string
}

// Name of the webhook's Deployment, Service, Ingress, HTTPRoute, ServiceAccount, Role and
// RoleBinding.
func (w Webhook) Name() string {
	if w.App != nil {
		return AppWebhookName(w.App.Name)
	}
	return WebhookName(w.Page.Name)
}

// Namespace of the owner and of every object of its webhook.
func (w Webhook) Namespace() string {
	if w.App != nil {
		return w.App.Namespace
	}
	return w.Page.Namespace
}

// VerifyTokenSecretName names the Secret of a generated verify token of the owner.
func (w Webhook) VerifyTokenSecretName() string {
	if w.App != nil {
		return AppVerifyTokenSecretName(w.App.Name)
	}
	return VerifyTokenSecretName(w.Page.Name)
}

// AuditKeySecretName names the Secret of the owner's audit key (always generated).
func (w Webhook) AuditKeySecretName() string {
	if w.App != nil {
		return AppAuditKeySecretName(w.App.Name)
	}
	return AuditKeySecretName(w.Page.Name)
}

func (w Webhook) webhookSpec() *v1alpha1.WebhookSpec {
	if w.App != nil {
		return &w.App.Spec.Webhook
	}
	return &w.Page.Spec.Webhook
}

func (w Webhook) ingressSpec() *v1alpha1.IngressSpec {
	if w.App != nil {
		return w.App.Spec.Ingress
	}
	return w.Page.Spec.Ingress
}

func (w Webhook) httpRouteSpec() *v1alpha1.HTTPRouteSpec {
	if w.App != nil {
		return w.App.Spec.HTTPRoute
	}
	return w.Page.Spec.HTTPRoute
}

// Path is the path Meta calls and the webhook serves.
func (w Webhook) Path() string {
	if w.App != nil {
		return w.App.Spec.WebhookPath()
	}
	return w.Page.Spec.WebhookPath()
}

// owner is the object every built object belongs to: its kind, name and uid.
func (w Webhook) owner() (kind, name string, uid types.UID) {
	if w.App != nil {
		return "MessengerApp", w.App.Name, w.App.UID
	}
	return "MessengerPage", w.Page.Name, w.Page.UID
}

// SelectorLabels pick the webhook's pods; they never change for an owner (a Deployment's
// selector is immutable), and those of an app and of a page never select each other's pods.
func (w Webhook) SelectorLabels() map[string]string {
	if w.App != nil {
		return AppSelectorLabels(w.App)
	}
	return SelectorLabels(w.Page)
}

// Image is the image the webhook runs.
func (w Webhook) Image() string {
	if img := w.webhookSpec().Image; img != "" {
		return img
	}
	return w.DefaultImage
}

// RedisKeyPrefix starts every key of the webhook in its Redis store.
func (w Webhook) RedisKeyPrefix() string {
	if w.App != nil {
		return w.webhookSpec().RedisKeyPrefix("app", w.App.Namespace, w.App.Name)
	}
	return w.webhookSpec().RedisKeyPrefix("page", w.Page.Namespace, w.Page.Name)
}

// Replicas of the webhook Deployment.
func (w Webhook) Replicas() int32 { return w.webhookSpec().GetReplicas() }

// Args are the webhook's flags: --page=NAMESPACE/NAME for a standalone page, --app=$(APP) for an
// app (APP in the pod's environment). The namespace comes from the downward API
// (contract.EnvPodNamespace).
func (w Webhook) Args() []string {
	var target string
	if w.App != nil {
		target = contract.Arg(contract.FlagApp, contract.EnvRef(contract.EnvApp))
	} else {
		target = contract.Arg(contract.FlagPage, contract.EnvRef(contract.EnvPodNamespace)+"/"+w.Page.Name)
	}
	return []string{
		target,
		contract.Arg(contract.FlagListen, contract.Addr(contract.WebhookPort)),
		contract.Arg(contract.FlagProbeAddr, contract.Addr(contract.ProbePort)),
		contract.Arg(contract.FlagDrainTimeout, contract.DrainTimeout.String()),
	}
}

// URL is where Meta should call the webhook: https on the Ingress host, else on the first
// single-host name of spec.httpRoute, else the Service's in-cluster URL.
func (w Webhook) URL() string {
	if in := w.ingressSpec(); in != nil {
		return "https://" + in.Host + w.Path()
	}
	if h := routeHost(w.httpRouteSpec()); h != "" {
		return "https://" + h + w.Path()
	}
	return "http://" + w.Name() + "." + w.Namespace() + ".svc:" + strconv.Itoa(ServicePort) + w.Path()
}

// WebhookURL is where Meta should call a standalone page's webhook (Webhook.URL).
func WebhookURL(page *v1alpha1.MessengerPage) string { return Webhook{Page: page}.URL() }

// AppWebhookURL is where Meta should call an app's webhook (Webhook.URL).
func AppWebhookURL(app *v1alpha1.MessengerApp) string { return Webhook{App: app}.URL() }

// meta sets what every object of the webhook shares: its labels and its owner.
func (w Webhook) meta(meta *metav1ac.ObjectMetaApplyConfiguration) {
	meta.WithLabels(w.labels()).WithOwnerReferences(w.ownerReference())
}
