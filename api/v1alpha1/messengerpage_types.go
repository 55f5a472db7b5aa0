package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MessengerPageSpec declares one Facebook Page and the webhook that serves it: its own (a
// standalone page, spec.appID) or its MessengerApp's (spec.appRef). A page with appRef keeps only
// what is the Page's own; the app-level fields are the MessengerApp's.
//
// The app-level fields carry no schema defaults (CEL runs after defaulting, so a default would
// make them present on every page); the operator and the webhook apply their defaults where a
// standalone page is read (api/v1alpha1 DefaultPageSpec).
// +kubebuilder:validation:XValidation:rule="has(self.appID) != has(self.appRef)",message="set exactly one of spec.appID (the page is served by its own webhook) and spec.appRef (the page is served by its MessengerApp's webhook)"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.ingress)",message="spec.ingress belongs to the MessengerApp when spec.appRef is set: move it to the MessengerApp's spec.ingress"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.httpRoute)",message="spec.httpRoute belongs to the MessengerApp when spec.appRef is set: move it to the MessengerApp's spec.httpRoute"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.monitoring)",message="spec.monitoring belongs to the MessengerApp when spec.appRef is set: move it to the MessengerApp's spec.monitoring"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.webhook)",message="spec.webhook belongs to the MessengerApp when spec.appRef is set: move it to the MessengerApp's spec.webhook"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.graphAPI) || (!has(self.graphAPI.baseURL) && !has(self.graphAPI.version))",message="spec.graphAPI.baseURL and spec.graphAPI.version belong to the MessengerApp when spec.appRef is set: move them to the MessengerApp's spec.graphAPI (a page keeps only maxSendsPerSecond)"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || (!has(self.secretRef.appSecretKey) && !has(self.secretRef.verifyTokenKey))",message="spec.secretRef.appSecretKey and spec.secretRef.verifyTokenKey belong to the MessengerApp when spec.appRef is set: the app secret and verify token are the MessengerApp's (its spec.secretRef); a page's Secret holds only its page access token"
// +kubebuilder:validation:XValidation:rule="!has(self.appRef) || !has(self.subscription) || (!has(self.subscription.registerCallback) && !has(self.subscription.callbackURL) && !has(self.subscription.appAccessTokenKey) && !has(self.subscription.recheckInterval))",message="spec.subscription.registerCallback, callbackURL, appAccessTokenKey and recheckInterval belong to the MessengerApp when spec.appRef is set: move them to the MessengerApp's spec.subscription (a page keeps only its fields)"
type MessengerPageSpec struct {
	// PageID is the Facebook Page id (digits, kept as a string: ids can exceed 2^53).
	// +kubebuilder:validation:Pattern=`^[0-9]{1,32}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[0-9]{1,32}$')`,message=`must be a Meta id: 1 to 32 digits, such as "1234567890" (quoted in YAML)`
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="pageID is immutable: create a new MessengerPage for another Page"
	PageID string `json:"pageID"`

	// AppID is our Meta app's id, for a standalone page (served by its own webhook); echoes
	// carrying it are our own messages. Exactly one of appID and appRef is set.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,32}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[0-9]{1,32}$')`,message=`must be a Meta id: 1 to 32 digits, such as "1234567890" (quoted in YAML)`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	AppID string `json:"appID,omitempty"`

	// AppRef names the MessengerApp, in the same namespace, whose webhook serves the page. Exactly
	// one of appID and appRef is set.
	// +optional
	AppRef *LocalReference `json:"appRef,omitempty"`

	// SecretRef names an existing Secret in the page's namespace holding the page access token and,
	// for a standalone page, the app secret and optionally the verify token. The operator reads it
	// and never writes it.
	SecretRef SecretReference `json:"secretRef"`

	// PolicyRef names the HandoverPolicy, in the same namespace, that drives the conversation.
	PolicyRef LocalReference `json:"policyRef"`

	// GraphAPI says where and how fast the webhook calls the Graph API.
	// +kubebuilder:default={}
	// +optional
	GraphAPI GraphAPISpec `json:"graphAPI,omitzero"`

	// BusinessName fills the {{business_name}} placeholder of the policy's messages.
	// +kubebuilder:validation:MaxLength=100
	// +optional
	BusinessName string `json:"businessName,omitempty"`

	// Ingress exposes the webhook; without it no Ingress is created. Meta only calls HTTPS
	// endpoints with a valid certificate.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// Webhook shapes the webhook's pods of a standalone page.
	// +optional
	Webhook WebhookSpec `json:"webhook,omitzero"`

	// HTTPRoute exposes the webhook through a Gateway API HTTPRoute, besides or instead of the
	// Ingress. It is made only when the Gateway API CRDs are installed; the HTTPRoute condition
	// says when they are not.
	// +optional
	HTTPRoute *HTTPRouteSpec `json:"httpRoute,omitempty"`

	// Subscription makes the operator subscribe the Page on Meta's side (Conversation Routing
	// set-up): the app's callback URL and verify token, and the Page's webhook fields. Without it
	// the subscription is done by hand in the App Dashboard.
	// +optional
	Subscription *SubscriptionSpec `json:"subscription,omitempty"`

	// Monitoring says how the webhook's metrics are collected (a PodMonitor), for a standalone
	// page; a page with appRef is monitored through its MessengerApp.
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`

	// Profile is the Page's welcome screen and menu (Messenger Profile: Get Started, greetings,
	// ice breakers, persistent menu, whitelisted domains), kept equal at Meta by the operator with
	// the page token. Without it the operator leaves the Page's profile alone.
	// +optional
	Profile *MessengerProfile `json:"profile,omitempty"`
}

// HTTPRouteSpec attaches the webhook to Gateways. The route matches the webhook path
// (spec.ingress.path, else /webhook) and sends it to the webhook's Service.
type HTTPRouteSpec struct {
	// ParentRefs are the Gateways (or listeners of them) the route attaches to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	ParentRefs []ParentReference `json:"parentRefs"`

	// Hostnames the route answers; without an Ingress, the first one without a wildcard is the
	// host of status.webhookURL.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Hostnames []Hostname `json:"hostnames,omitempty"`

	// Annotations added to the HTTPRoute.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Hostname is a DNS name, as in the Gateway API (a leading "*." wildcard is allowed).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')`,message=`must be a lower-case DNS name such as messenger.example.com, optionally starting with the wildcard *.`
type Hostname string

// ParentReference names a Gateway (or another parent) as the Gateway API's ParentReference does.
type ParentReference struct {
	// Group of the parent; default gateway.networking.k8s.io.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')`,message=`must be empty or an API group such as gateway.networking.k8s.io: lower-case letters, digits, '-' and '.'`
	// +optional
	Group *string `json:"group,omitempty"`

	// Kind of the parent; default Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$')`,message=`must be a kind such as Gateway: letters, digits and '-', starting with a letter`
	// +optional
	Kind *string `json:"kind,omitempty"`

	// Namespace of the parent; default the page's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')`,message=`must be a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit`
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// Name of the parent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// SectionName is the listener of the Gateway to attach to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')`,message=`must be a listener name: lower-case letters, digits, '-' and '.'`
	// +optional
	SectionName *string `json:"sectionName,omitempty"`

	// Port of the Gateway to attach to.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// SubscriptionSpec says how the operator subscribes the Page (reference §7). The app token comes
// from the Secret's appAccessTokenKey when present, else it is Meta's app access token form
// "{appID}|{appSecret}" built from spec.appID and the app secret; the page token subscribes the
// Page. The operator never unsubscribes: removing this field or the page leaves Meta as it is.
type SubscriptionSpec struct {
	// RegisterCallback sets the app's callback URL and verify token (POST /{app-id}/subscriptions).
	// Meta keeps one callback URL per app: among the pages of one app that register, only the
	// oldest does; status.subscription.callbackPage names the page whose URL is registered. False
	// leaves the app's callback alone and only subscribes the Page.
	// Default true.
	// +optional
	RegisterCallback *bool `json:"registerCallback,omitempty"`

	// CallbackURL is the URL registered instead of status.webhookURL, for a webhook reached
	// through a proxy the operator does not manage. Meta only calls HTTPS URLs with a valid
	// certificate.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/?#]+(/[^\s#]*)?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^https?://[^\s/?#]+(/[^\s#]*)?$')`,message=`must be an http(s) URL without spaces or fragment, such as https://messenger.example.com/webhook`
	// +optional
	CallbackURL string `json:"callbackURL,omitempty"`

	// Fields are the webhook fields subscribed at app and Page level; an event is delivered only
	// for a field subscribed at both. The default is what the handover needs.
	// +kubebuilder:default={messages,messaging_postbacks,messaging_handovers,standby,message_echoes,messaging_referrals}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Enum=messages;message_echoes;message_deliveries;message_reads;message_edits;message_reactions;messaging_postbacks;messaging_referrals;messaging_optins;messaging_handovers;standby;messaging_policy_enforcement;messaging_account_linking;response_feedback;messaging_feedback;send_cart;messenger_template_status_update
	// +listType=set
	// +optional
	Fields []string `json:"fields,omitempty"`

	// AppAccessTokenKey is the Secret key of an app access token (default appAccessToken). When
	// the Secret lacks it, the operator uses "{appID}|{appSecret}".
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AppAccessTokenKey string `json:"appAccessTokenKey,omitempty"`

	// RecheckInterval is how often the operator checks that Meta still has the Page subscribed
	// (Meta unsubscribes a Page whose deliveries failed for an hour). Default 10m; at least 1m.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="recheckInterval must be at least 1m: each check is two Graph API calls"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Format=duration
	// +optional
	RecheckInterval *metav1.Duration `json:"recheckInterval,omitempty"`
}

// SecretReference names a Secret and the keys to read from it.
type SecretReference struct {
	// Name of the Secret in the page's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')`,message=`must be an object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`
	Name string `json:"name"`

	// PageAccessTokenKey is the key of the page access token.
	// +kubebuilder:default=pageAccessToken
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PageAccessTokenKey string `json:"pageAccessTokenKey,omitempty"`

	// AppSecretKey is the key of the app secret that signs webhook requests (standalone pages;
	// default appSecret).
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AppSecretKey string `json:"appSecretKey,omitempty"`

	// VerifyTokenKey is the key of the verify token (standalone pages; default verifyToken). When
	// the Secret lacks it, the operator generates one into a Secret it owns, named in
	// status.verifyTokenSecret.
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	VerifyTokenKey string `json:"verifyTokenKey,omitempty"`
}

// LocalReference names an object in the same namespace.
type LocalReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')`,message=`must be an object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`
	Name string `json:"name"`
}

// GraphAPISpec says where and how fast to call the Graph API.
type GraphAPISpec struct {
	// BaseURL of the Graph API (standalone pages; default https://graph.facebook.com).
	// +kubebuilder:validation:Pattern=`^https?://[^\s/?#]+(/[^\s?#]*)?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^https?://[^\s/?#]+(/[^\s?#]*)?$')`,message=`must be an http(s) URL without query or fragment, such as https://graph.facebook.com`
	// +kubebuilder:validation:XValidation:rule="!self.matches('/v[0-9]+([.][0-9]+)?/*$')",message="baseURL ends in a Graph API version: give the URL without it (such as https://graph.facebook.com) and set graphAPI.version"
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	BaseURL string `json:"baseURL,omitempty"`

	// Version of the Graph API, such as v25.0 (standalone pages; default v25.0).
	// +kubebuilder:validation:Pattern=`^v[0-9]{1,3}\.[0-9]{1,3}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^v[0-9]{1,3}\.[0-9]{1,3}$')`,message=`must be a Graph API version such as v25.0`
	// +kubebuilder:validation:MaxLength=7
	// +optional
	Version string `json:"version,omitempty"`

	// MaxSendsPerSecond limits Send API calls for this page, under Meta's 300 calls/s per Page.
	// 0 means no limit (for benchmarks against a fake Graph API).
	// +kubebuilder:default=250
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=300
	// +optional
	MaxSendsPerSecond *int32 `json:"maxSendsPerSecond,omitempty"`
}

// IngressSpec exposes the webhook through an Ingress.
type IngressSpec struct {
	// Host is the public DNS name Meta calls.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$')`,message=`must be a fully qualified lower-case DNS name such as messenger.example.com (no wildcard, port or scheme)`
	Host string `json:"host"`

	// Path of the webhook, also used by the webhook itself when there is no Ingress.
	// +kubebuilder:default="/webhook"
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[-._~/a-zA-Z0-9]*$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^/[-._~/a-zA-Z0-9]*$')`,message=`must be a URL path starting with / of letters, digits and - . _ ~ /, such as /webhook`
	// +optional
	Path string `json:"path,omitempty"`

	// ClassName is the IngressClass to use.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClassName *string `json:"className,omitempty"`

	// TLS terminates HTTPS at the Ingress, from a Secret or a cert-manager issuer.
	// +optional
	TLS *IngressTLS `json:"tls,omitempty"`

	// Annotations added to the Ingress.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// IngressTLS names the certificate Secret and, optionally, the cert-manager issuer that fills it.
type IngressTLS struct {
	// SecretName holds (or, with an issuer, will hold) the certificate.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')`,message=`must be an object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`
	SecretName string `json:"secretName"`

	// Issuer asks cert-manager's ingress-shim for the certificate.
	// +optional
	Issuer *IssuerReference `json:"issuer,omitempty"`
}

// IssuerReference names a cert-manager Issuer or ClusterIssuer.
type IssuerReference struct {
	// Name of the Issuer or ClusterIssuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Kind of the issuer: Issuer (in the page's namespace) or ClusterIssuer.
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	// +kubebuilder:default=ClusterIssuer
	// +optional
	Kind string `json:"kind,omitempty"`
}

// WebhookSpec shapes the webhook's pods.
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas <= 1 || (has(self.store) && has(self.store.redis))",fieldPath=".replicas",message="replicas > 1 needs spec.webhook.store.redis: with the memory store each process keeps its own dedup keys, thread states and timers, so two replicas would answer a redelivery twice"
type WebhookSpec struct {
	// Replicas of the webhook: 0 or 1 with the memory store; more with spec.webhook.store.redis.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Store is where the webhook keeps what it remembers between events (accepted events, dedup
	// keys, thread states, timers). Absent: in the process's memory (one replica, replaced with
	// the Recreate strategy, so two pods never serve at once).
	// +optional
	Store *WebhookStoreSpec `json:"store,omitempty"`

	// Image overrides the operator's webhook image for this page.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// Resources of the webhook container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// PodAnnotations are added to the webhook pods.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// PodLabels are added to the webhook pods.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// NodeSelector of the webhook pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the webhook pods.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// NetworkPolicy around the webhook's pods; none unless enabled.
	// +optional
	NetworkPolicy *WebhookNetworkPolicy `json:"networkPolicy,omitempty"`
}

// WebhookStoreSpec names the store shared by the webhook's replicas.
type WebhookStoreSpec struct {
	// Redis (or a server speaking its protocol: Valkey, managed services) shared by the replicas.
	// +optional
	Redis *RedisStoreSpec `json:"redis,omitempty"`
}

// RedisStoreSpec says where the Redis store is and which keys are the webhook's.
type RedisStoreSpec struct {
	// URLSecretRef names the key of a Secret, in the owner's namespace, holding a redis:// or
	// rediss:// URL (password and database inside it). The pods read it from their environment;
	// a changed URL rolls them (never switched live, so two replicas never use two stores).
	URLSecretRef SecretKeySelector `json:"urlSecretRef"`

	// KeyPrefix starts every key the webhook writes. Default: "mo:" + namespace + ":" + "app:" or
	// "page:" + name + ":"; two webhooks must never share one.
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[-._:/{}a-zA-Z0-9]*$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._:/{}a-zA-Z0-9]*$')`,message=`may hold only letters, digits and - . _ : / { }`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty"`
}

// SecretKeySelector names one key of a Secret in the same namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')`,message=`must be an object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`
	Name string `json:"name"`

	// Key in the Secret's data.
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// MessengerPageStatus tells what the operator and the webhook know of the page.
type MessengerPageStatus struct {
	// Conditions: Ready, Reconciling, Stalled, and GraphAuthorized, HandoverPermitted, CanAct,
	// Served (a page of an app), IngressTLS, SharedApp, HTTPRoute, Subscribed, ProfileSynced,
	// ProfilePayloadUnhandled, TokenValid, TokenExpiring, Monitoring.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation last reconciled; -1 until then.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// WebhookURL is where Meta should call the webhook.
	// +optional
	WebhookURL string `json:"webhookURL,omitempty"`

	// Policy is the HandoverPolicy resolved at the last reconcile.
	// +optional
	Policy *ResolvedPolicy `json:"policy,omitempty"`

	// VerifyTokenSecret names the Secret holding the verify token the webhook uses: the user's, or
	// one the operator generated.
	// +optional
	VerifyTokenSecret string `json:"verifyTokenSecret,omitempty"`

	// ReadyReplicas of the webhook Deployment.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Subscription is what Meta said at the last check of spec.subscription.
	// +optional
	Subscription *SubscriptionStatus `json:"subscription,omitempty"`

	// WebhookVerifyToken is the fingerprint (VerifyTokenFingerprint, a keyed hash, never the
	// token) of the verify token the page's webhook pods have loaded, written by the webhook. A
	// rotated token is registered at Meta only once it shows here, since Meta checks it at once.
	// +optional
	WebhookVerifyToken string `json:"webhookVerifyToken,omitempty"`

	// Token is what Meta's debug_token said of the page access token at the last check (every
	// recheck interval, and when the Secret changes): valid, expiry, scopes.
	// +optional
	Token *TokenStatus `json:"token,omitempty"`
}

// SubscriptionStatus is the Page's subscription as Meta reported it.
type SubscriptionStatus struct {
	// CallbackURL is the app's callback URL at Meta (one per app).
	// +optional
	CallbackURL string `json:"callbackURL,omitempty"`

	// CallbackPage is the MessengerPage (namespace/name) whose webhook URL is the app's callback
	// URL; empty when it is no page of this cluster.
	// +optional
	CallbackPage string `json:"callbackPage,omitempty"`

	// PageSubscribed says whether the app is subscribed to the Page.
	// +optional
	PageSubscribed bool `json:"pageSubscribed,omitempty"`

	// Fields subscribed at Page level for the app.
	// +listType=set
	// +optional
	Fields []string `json:"fields,omitempty"`

	// LastUnsubscribedTime is when a check last found that Meta had unsubscribed the app from the
	// Page (after an hour of failed deliveries, or by hand); the operator subscribed it again.
	// +optional
	LastUnsubscribedTime *metav1.Time `json:"lastUnsubscribedTime,omitempty"`

	// VerifyToken is the fingerprint of the verify token this page registered with the app's
	// callback; when the token in use differs, the callback is registered again once the
	// webhook has loaded it.
	// +optional
	VerifyToken string `json:"verifyToken,omitempty"`
}

// ResolvedPolicy names the HandoverPolicy in use and the generation seen.
type ResolvedPolicy struct {
	// Name of the HandoverPolicy.
	Name string `json:"name"`
	// Generation of the HandoverPolicy seen at that reconcile.
	Generation int64 `json:"generation,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mpage;mpages,categories=messenger
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.webhookURL`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.status.policy.name`
// +kubebuilder:printcolumn:name="App",type=string,JSONPath=`.spec.appRef.name`
// +kubebuilder:printcolumn:name="Token Expires",type=string,priority=1,JSONPath=`.status.token.expiresAt`
// +kubebuilder:selectablefield:JSONPath=`.spec.appRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// MessengerPage is one Facebook Page served by one webhook.
type MessengerPage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec MessengerPageSpec `json:"spec"`
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status MessengerPageStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// MessengerPageList is a list of MessengerPages.
type MessengerPageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MessengerPage `json:"items"`
}
