package v1alpha1

import (
	"fmt"
	"reflect"
	"regexp"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The defaults of a MessengerPage, as its +kubebuilder:default markers give them (a test holds
// both equal). The API server applies the markers; Default applies these to objects that never
// met one (manifests read from a directory, objects built in Go).
const (
	DefaultPageAccessTokenKey       = "pageAccessToken"
	DefaultAppSecretKey             = "appSecret"
	DefaultVerifyTokenKey           = "verifyToken"
	DefaultAppAccessTokenKey        = "appAccessToken"
	DefaultGraphBaseURL             = "https://graph.facebook.com"
	DefaultGraphVersion             = "v25.0"
	DefaultMaxSendsPerSecond  int32 = 250
	DefaultWebhookPath              = "/webhook"
	DefaultWebhookReplicas    int32 = 1
	DefaultIssuerKind               = "ClusterIssuer"
	DefaultRegisterCallback         = true
)

// Defaults and limits that are no CRD marker.
const (
	// GeneratedVerifyTokenKey is the key of the verify token in the Secret the operator generates
	// when the user's Secret has none.
	GeneratedVerifyTokenKey = "verifyToken"
	// GeneratedAuditKeyKey is the key of the audit key (the HMAC key that names users in the
	// webhook's handover audit) in the Secret the operator generates for every page and app; in
	// directory mode the webhook reads it from the page's (or app's) Secret.
	GeneratedAuditKeyKey = "auditKey"

	// DefaultSubscriptionRecheckInterval is how often Meta's side of spec.subscription is checked
	// when neither the page nor the manager says.
	DefaultSubscriptionRecheckInterval = 10 * time.Minute
	// MinSubscriptionRecheckInterval is the least recheckInterval (the CRD's CEL rule).
	MinSubscriptionRecheckInterval = time.Minute

	// MaxSendsPerSecondLimit is Meta's Send API limit per Page.
	MaxSendsPerSecondLimit int32 = 300
)

// DefaultSubscriptionFields are the webhook fields the handover needs (the Conversation Routing
// set-up): the default of spec.subscription.fields. A new slice on each call.
func DefaultSubscriptionFields() []string {
	return []string{"messages", "messaging_postbacks", "messaging_handovers", "standby", "message_echoes", "messaging_referrals"}
}

// Default fills the fields the CRD defaults when they are absent (zero), in place, and marks a
// status never written as not yet observed, as the API server does on create.
func (p *MessengerPage) Default() {
	p.Spec.Default()
	if reflect.DeepEqual(p.Status, MessengerPageStatus{}) {
		p.Status.ObservedGeneration = -1
	}
}

// Default fills the spec's absent (zero) fields with their defaults, in place: the CRD's
// markers and, on a standalone page (no appRef), the defaults of the app-level fields, which
// carry no marker (CEL runs after defaulting and rejects app-level fields on a page with appRef,
// so the schema cannot default them). On an object read from the API server it changes only
// those app-level fields; every reader of a standalone page calls it.
func (s *MessengerPageSpec) Default() {
	s.SecretRef.PageAccessTokenKey = s.SecretRef.GetPageAccessTokenKey()
	g := &s.GraphAPI
	if g.MaxSendsPerSecond == nil {
		// 0 is a meaningful value (no limit): only an absent field gets the default.
		v := DefaultMaxSendsPerSecond
		g.MaxSendsPerSecond = &v
	}
	if s.Subscription != nil {
		s.Subscription.Fields = s.Subscription.GetFields()
	}
	if s.AppRef != nil {
		return
	}
	s.SecretRef.AppSecretKey = s.SecretRef.GetAppSecretKey()
	s.SecretRef.VerifyTokenKey = s.SecretRef.GetVerifyTokenKey()
	g.BaseURL = g.GetBaseURL()
	g.Version = g.GetVersion()
	s.Webhook.Default()
	if in := s.Ingress; in != nil {
		in.Default()
	}
	if sub := s.Subscription; sub != nil {
		if sub.RegisterCallback == nil {
			v := DefaultRegisterCallback
			sub.RegisterCallback = &v
		}
		sub.AppAccessTokenKey = sub.GetAppAccessTokenKey()
	}
}

// StandaloneDefaultPaths are the fields of a standalone page that Default fills without a CRD
// marker (see Default).
var StandaloneDefaultPaths = []string{
	"spec.secretRef.appSecretKey", "spec.secretRef.verifyTokenKey", "spec.graphAPI.baseURL",
	"spec.graphAPI.version", "spec.webhook", "spec.subscription.registerCallback",
	"spec.subscription.appAccessTokenKey",
}

// Default fills the webhook's absent fields, in place.
func (w *WebhookSpec) Default() {
	if w.Replicas == nil {
		v := DefaultWebhookReplicas
		w.Replicas = &v
	}
}

// Default fills the Ingress's absent fields, in place.
func (in *IngressSpec) Default() {
	if in.Path == "" {
		in.Path = DefaultWebhookPath
	}
	if in.TLS != nil && in.TLS.Issuer != nil {
		in.TLS.Issuer.Kind = in.TLS.Issuer.GetKind()
	}
}

// Standalone says whether the page is served by its own webhook (spec.appID) rather than by its
// MessengerApp's (spec.appRef).
func (s *MessengerPageSpec) Standalone() bool { return s.AppRef == nil }

// WebhookPath is the path Meta calls and the webhook serves: spec.ingress.path, else /webhook.
func (s *MessengerPageSpec) WebhookPath() string {
	if in := s.Ingress; in != nil && in.Path != "" {
		return in.Path
	}
	return DefaultWebhookPath
}

// GetPageAccessTokenKey is the key of the page access token, defaulted.
func (r *SecretReference) GetPageAccessTokenKey() string {
	return orDefault(r.PageAccessTokenKey, DefaultPageAccessTokenKey)
}

// GetAppSecretKey is the key of the app secret, defaulted.
func (r *SecretReference) GetAppSecretKey() string {
	return orDefault(r.AppSecretKey, DefaultAppSecretKey)
}

// GetVerifyTokenKey is the key of the verify token in the user's Secret, defaulted.
func (r *SecretReference) GetVerifyTokenKey() string {
	return orDefault(r.VerifyTokenKey, DefaultVerifyTokenKey)
}

// GetBaseURL is the Graph API's base URL, defaulted.
func (g *GraphAPISpec) GetBaseURL() string { return orDefault(g.BaseURL, DefaultGraphBaseURL) }

// GetVersion is the Graph API version, defaulted.
func (g *GraphAPISpec) GetVersion() string { return orDefault(g.Version, DefaultGraphVersion) }

// GetMaxSendsPerSecond is the page's Send API limit, defaulted; 0 means no limit.
func (g *GraphAPISpec) GetMaxSendsPerSecond() int32 {
	if g.MaxSendsPerSecond == nil {
		return DefaultMaxSendsPerSecond
	}
	return *g.MaxSendsPerSecond
}

// GetReplicas is the webhook's replicas, defaulted.
func (w *WebhookSpec) GetReplicas() int32 {
	if w.Replicas == nil {
		return DefaultWebhookReplicas
	}
	return *w.Replicas
}

// GetKind is the kind of the cert-manager issuer, defaulted.
func (i *IssuerReference) GetKind() string { return orDefault(i.Kind, DefaultIssuerKind) }

// RegistersCallback says whether the page registers the app's callback URL (default true).
func (s *SubscriptionSpec) RegistersCallback() bool {
	if s.RegisterCallback == nil {
		return DefaultRegisterCallback
	}
	return *s.RegisterCallback
}

// GetFields are the webhook fields to subscribe, defaulted (a new slice when defaulted).
func (s *SubscriptionSpec) GetFields() []string {
	if len(s.Fields) == 0 {
		return DefaultSubscriptionFields()
	}
	return s.Fields
}

// GetAppAccessTokenKey is the Secret key of an app access token, defaulted.
func (s *SubscriptionSpec) GetAppAccessTokenKey() string {
	return orDefault(s.AppAccessTokenKey, DefaultAppAccessTokenKey)
}

// GetRecheckInterval is how often Meta's side is checked: spec.subscription.recheckInterval,
// else fallback (the manager's setting) when positive, else DefaultSubscriptionRecheckInterval.
func (s *SubscriptionSpec) GetRecheckInterval(fallback time.Duration) time.Duration {
	return recheckInterval(s.RecheckInterval, fallback)
}

func recheckInterval(set *metav1.Duration, fallback time.Duration) time.Duration {
	switch {
	case set != nil && set.Duration > 0:
		return set.Duration
	case fallback > 0:
		return fallback
	}
	return DefaultSubscriptionRecheckInterval
}

// The schema's patterns (the markers of messengerpage_types.go), checked again by Validate for
// objects that never met an API server.
var (
	idPattern        = regexp.MustCompile(`^[0-9]{1,32}$`)
	objectName       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	secretKeyPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,253}$`)
	pathPattern      = regexp.MustCompile(`^/[-._~/a-zA-Z0-9]*$`)
	baseURLPattern   = regexp.MustCompile(`^https?://[^\s/?#]+(/[^\s?#]*)?$`)
	versionPattern   = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,3}$`)
	// versionedBaseURL is a base URL that ends in a version, as some connectors write it
	// (https://graph.facebook.com/v4.0): the version is graphAPI.version (the CRDs' CEL).
	versionedBaseURL = regexp.MustCompile(`/v[0-9]+([.][0-9]+)?/*$`)
)

const versionedBaseURLMessage = "ends in a Graph API version: give the URL without it (such as https://graph.facebook.com) and set graphAPI.version"

// FieldError is a problem with one field of a spec, named by its path.
// +kubebuilder:object:generate=false
type FieldError struct {
	Field  string // e.g. spec.graphAPI.version
	Detail string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// Validate checks what the webhook relies on in a page's spec (defaults applied first, on a
// copy): what the API server's schema checks in a cluster, for pages read from a directory. It
// returns the first problem found.
func (s *MessengerPageSpec) Validate() error {
	d := s.DeepCopy()
	d.Default()
	field := func(name, detail string) error { return FieldError{Field: name, Detail: detail} }
	ref, g := &d.SecretRef, &d.GraphAPI
	if err := s.validateAppLink(); err != nil {
		return err
	}
	if err := d.Webhook.validate(); err != nil {
		return err
	}
	switch {
	case !idPattern.MatchString(d.PageID):
		return field("spec.pageID", "must be 1 to 32 digits")
	case d.AppRef == nil && !idPattern.MatchString(d.AppID):
		return field("spec.appID", "must be 1 to 32 digits")
	case d.AppRef != nil && (!objectName.MatchString(d.AppRef.Name) || len(d.AppRef.Name) > 253):
		return field("spec.appRef.name", fmt.Sprintf("%q is not an object name", d.AppRef.Name))
	case ref.Name == "":
		return field("spec.secretRef.name", "required")
	case !objectName.MatchString(ref.Name) || len(ref.Name) > 253:
		return field("spec.secretRef.name", fmt.Sprintf("%q is not a Secret name", ref.Name))
	case d.PolicyRef.Name == "":
		return field("spec.policyRef.name", "required")
	case !objectName.MatchString(d.PolicyRef.Name) || len(d.PolicyRef.Name) > 253:
		return field("spec.policyRef.name", fmt.Sprintf("%q is not an object name", d.PolicyRef.Name))
	case d.AppRef == nil && (!baseURLPattern.MatchString(g.BaseURL) || utf8.RuneCountInString(g.BaseURL) > 2048):
		return field("spec.graphAPI.baseURL", "must be an http(s) URL without query or fragment")
	case d.AppRef == nil && versionedBaseURL.MatchString(g.BaseURL):
		return field("spec.graphAPI.baseURL", versionedBaseURLMessage)
	case d.AppRef == nil && !versionPattern.MatchString(g.Version):
		return field("spec.graphAPI.version", "must look like v25.0")
	case *g.MaxSendsPerSecond < 0 || *g.MaxSendsPerSecond > MaxSendsPerSecondLimit:
		return field("spec.graphAPI.maxSendsPerSecond", fmt.Sprintf("must be between 0 and %d", MaxSendsPerSecondLimit))
	case !pathPattern.MatchString(d.WebhookPath()) || len(d.WebhookPath()) > 256:
		return field("spec.ingress.path", "must start with / and hold only -._~/ letters and digits")
	case utf8.RuneCountInString(d.BusinessName) > 100: // the schema counts characters
		return field("spec.businessName", "at most 100 characters")
	}
	for _, k := range []struct{ field, key string }{
		{"spec.secretRef.pageAccessTokenKey", ref.PageAccessTokenKey},
		{"spec.secretRef.appSecretKey", ref.AppSecretKey},
		{"spec.secretRef.verifyTokenKey", ref.VerifyTokenKey},
	} {
		if k.key == "" && d.AppRef != nil {
			continue // the app's, not the page's
		}
		if !secretKeyPattern.MatchString(k.key) {
			return field(k.field, fmt.Sprintf("%q is not a Secret key", k.key))
		}
	}
	return d.Profile.Validate()
}

// validateAppLink repeats the CEL rules of MessengerPageSpec: exactly one of appID and appRef,
// and no app-level field on a page with appRef (the messages are the schema's).
func (s *MessengerPageSpec) validateAppLink() error {
	field := func(name, detail string) error { return FieldError{Field: name, Detail: detail} }
	if (s.AppID != "") == (s.AppRef != nil) {
		return field("spec", "set exactly one of spec.appID (the page is served by its own webhook) and spec.appRef (the page is served by its MessengerApp's webhook)")
	}
	if s.AppRef == nil {
		return nil
	}
	moveTo := func(f, app string) error {
		return field(f, "belongs to the MessengerApp when spec.appRef is set: move it to the MessengerApp's "+app)
	}
	sub := s.Subscription
	switch {
	case s.Ingress != nil:
		return moveTo("spec.ingress", "spec.ingress")
	case s.HTTPRoute != nil:
		return moveTo("spec.httpRoute", "spec.httpRoute")
	case !reflect.DeepEqual(s.Webhook, WebhookSpec{}):
		return moveTo("spec.webhook", "spec.webhook")
	case s.GraphAPI.BaseURL != "" || s.GraphAPI.Version != "":
		return moveTo("spec.graphAPI.baseURL and spec.graphAPI.version", "spec.graphAPI")
	case s.SecretRef.AppSecretKey != "" || s.SecretRef.VerifyTokenKey != "":
		return moveTo("spec.secretRef.appSecretKey and spec.secretRef.verifyTokenKey", "spec.secretRef")
	case sub != nil && (sub.RegisterCallback != nil || sub.CallbackURL != "" || sub.AppAccessTokenKey != "" || sub.RecheckInterval != nil):
		return moveTo("spec.subscription.registerCallback, callbackURL, appAccessTokenKey and recheckInterval", "spec.subscription")
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
