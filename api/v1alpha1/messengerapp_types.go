package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MessengerAppSpec declares one Meta app, its webhook and its callback. Meta keeps one callback
// URL per app and delivers every subscribed Page's events to it, several Pages' entries often in
// one POST: one webhook per app serves all the MessengerPages whose spec.appRef names it.
type MessengerAppSpec struct {
	// AppID is the Meta app's id; echoes carrying it are our own messages.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,32}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[0-9]{1,32}$')`,message=`must be a Meta id: 1 to 32 digits, such as "1234567890" (quoted in YAML)`
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="appID is immutable: create a new MessengerApp for another Meta app"
	AppID string `json:"appID"`

	// SecretRef names an existing Secret in the app's namespace holding the app secret (which
	// signs every webhook request), optionally the verify token and an app access token. The
	// operator reads it and never writes it; a missing verify token is generated into a Secret
	// the operator owns.
	SecretRef AppSecretReference `json:"secretRef"`

	// GraphAPI says where the app's webhook calls the Graph API, for every page of the app.
	// +kubebuilder:default={}
	// +optional
	GraphAPI AppGraphAPISpec `json:"graphAPI,omitzero"`

	// Ingress exposes the app's webhook; without it no Ingress is created. Meta only calls HTTPS
	// endpoints with a valid certificate.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// HTTPRoute exposes the app's webhook through a Gateway API HTTPRoute, besides or instead of
	// the Ingress. It is made only when the Gateway API CRDs are installed; the HTTPRoute
	// condition says when they are not.
	// +optional
	HTTPRoute *HTTPRouteSpec `json:"httpRoute,omitempty"`

	// Webhook shapes the app's webhook pods.
	// +kubebuilder:default={}
	// +optional
	Webhook WebhookSpec `json:"webhook,omitzero"`

	// Monitoring says how the app's webhook metrics are collected (a PodMonitor).
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`

	// Subscription makes the operator set up Meta's side: the app's callback URL and verify token,
	// and the subscription of each of the app's Pages. Without it the subscription is done by hand
	// in the App Dashboard.
	// +optional
	Subscription *AppSubscriptionSpec `json:"subscription,omitempty"`
}

// AppSecretReference names the app's Secret and the keys to read from it.
type AppSecretReference struct {
	// Name of the Secret in the app's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')`,message=`must be an object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`
	Name string `json:"name"`

	// AppSecretKey is the key of the app secret that signs webhook requests.
	// +kubebuilder:default=appSecret
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AppSecretKey string `json:"appSecretKey,omitempty"`

	// VerifyTokenKey is the key of the verify token. When the Secret lacks it, the operator
	// generates one into a Secret it owns, named in status.verifyTokenSecret.
	// +kubebuilder:default=verifyToken
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	VerifyTokenKey string `json:"verifyTokenKey,omitempty"`

	// AppAccessTokenKey is the key of an app access token, used to register the callback. When
	// the Secret lacks it, the operator uses Meta's app token form "{appID}|{appSecret}".
	// +kubebuilder:default=appAccessToken
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]{1,253}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[-._a-zA-Z0-9]{1,253}$')`,message=`must be a Secret key: 1 to 253 letters, digits, '-', '_' or '.'`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AppAccessTokenKey string `json:"appAccessTokenKey,omitempty"`
}

// AppGraphAPISpec says where the Graph API is, for every page of the app. How fast each page
// sends is the page's own spec.graphAPI.maxSendsPerSecond.
type AppGraphAPISpec struct {
	// BaseURL of the Graph API, without a version: the version is spec.graphAPI.version.
	// +kubebuilder:default="https://graph.facebook.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches('/v[0-9]+([.][0-9]+)?/*$')",message="baseURL ends in a Graph API version: give the URL without it (such as https://graph.facebook.com) and set graphAPI.version"
	// +kubebuilder:validation:Pattern=`^https?://[^\s/?#]+(/[^\s?#]*)?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^https?://[^\s/?#]+(/[^\s?#]*)?$')`,message=`must be an http(s) URL without query or fragment, such as https://graph.facebook.com`
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	BaseURL string `json:"baseURL,omitempty"`

	// Version of the Graph API, such as v25.0.
	// +kubebuilder:default="v25.0"
	// +kubebuilder:validation:Pattern=`^v[0-9]{1,3}\.[0-9]{1,3}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^v[0-9]{1,3}\.[0-9]{1,3}$')`,message=`must be a Graph API version such as v25.0`
	// +kubebuilder:validation:MaxLength=7
	// +optional
	Version string `json:"version,omitempty"`
}

// AppSubscriptionSpec says how the operator sets up the app's side at Meta (reference §7): the
// callback URL and verify token (POST /{app-id}/subscriptions) and, for every page of the app,
// the Page's subscription (POST /{page-id}/subscribed_apps). The operator never unsubscribes.
type AppSubscriptionSpec struct {
	// RegisterCallback sets the app's callback URL and verify token. False leaves the callback
	// alone (set by hand) and only subscribes the Pages.
	// +kubebuilder:default=true
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

	// Fields are the webhook fields subscribed at app level, and at Page level for pages that do
	// not name their own; an event is delivered only for a field subscribed at both levels. The
	// default is what the handover needs.
	// +kubebuilder:default={messages,messaging_postbacks,messaging_handovers,standby,message_echoes,messaging_referrals}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Enum=messages;message_echoes;message_deliveries;message_reads;message_edits;message_reactions;messaging_postbacks;messaging_referrals;messaging_optins;messaging_handovers;standby;messaging_policy_enforcement;messaging_account_linking;response_feedback;messaging_feedback;send_cart;messenger_template_status_update
	// +listType=set
	// +optional
	Fields []string `json:"fields,omitempty"`

	// RecheckInterval is how often the operator checks Meta's side (Meta unsubscribes a Page
	// whose deliveries failed for an hour). Default 10m; at least 1m.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="recheckInterval must be at least 1m: each check makes Graph API calls"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Format=duration
	// +optional
	RecheckInterval *metav1.Duration `json:"recheckInterval,omitempty"`
}

// MessengerAppStatus tells what the operator and the webhook know of the app.
type MessengerAppStatus struct {
	// Conditions: Ready, Reconciling, Stalled, CallbackRegistered, and the informational ones
	// (IngressTLS, HTTPRoute, Monitoring).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation last reconciled; -1 until then.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// WebhookURL is where Meta should call the app's webhook.
	// +optional
	WebhookURL string `json:"webhookURL,omitempty"`

	// Pages is how many pages the app's webhook serves.
	// +optional
	Pages int32 `json:"pages"`

	// VerifyTokenSecret names the Secret holding the verify token the webhook uses: the user's,
	// or one the operator generated.
	// +optional
	VerifyTokenSecret string `json:"verifyTokenSecret,omitempty"`

	// ReadyReplicas of the webhook Deployment.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Callback is the app's callback at Meta, as last checked.
	// +optional
	Callback *CallbackStatus `json:"callback,omitempty"`

	// WebhookVerifyToken is the fingerprint (VerifyTokenFingerprint, a keyed hash, never the
	// token) of the verify token the app's webhook pods have loaded, written by the webhook. A
	// rotated token is registered at Meta only once it shows here, since Meta checks it at once.
	// +optional
	WebhookVerifyToken string `json:"webhookVerifyToken,omitempty"`
}

// CallbackStatus is the app's webhook subscription as Meta reported it.
type CallbackStatus struct {
	// URL is the callback URL registered at Meta for object page.
	// +optional
	URL string `json:"url,omitempty"`

	// Fields subscribed at app level.
	// +listType=set
	// +optional
	Fields []string `json:"fields,omitempty"`

	// VerifiedTime is when Meta last verified the callback (its GET with the verify token
	// answered with the challenge), when the operator registered it.
	// +optional
	VerifiedTime *metav1.Time `json:"verifiedTime,omitempty"`

	// VerifyToken is the fingerprint of the verify token registered with the callback; when the
	// token in use differs, the callback is registered again once the webhook has loaded it.
	// +optional
	VerifyToken string `json:"verifyToken,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mapp;mapps,categories=messenger
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.webhookURL`
// +kubebuilder:printcolumn:name="Pages",type=integer,JSONPath=`.status.pages`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// MessengerApp is one Meta app: the webhook (one callback URL) that serves every MessengerPage of
// the app.
type MessengerApp struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec MessengerAppSpec `json:"spec"`
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status MessengerAppStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// MessengerAppList is a list of MessengerApps.
type MessengerAppList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MessengerApp `json:"items"`
}
