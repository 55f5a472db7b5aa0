package v1alpha1

import (
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"
)

// Default fills the fields the CRD defaults when they are absent (zero), in place, and marks a
// status never written as not yet observed, as the API server does on create.
func (a *MessengerApp) Default() {
	a.Spec.Default()
	if reflect.DeepEqual(a.Status, MessengerAppStatus{}) {
		a.Status.ObservedGeneration = -1
	}
}

// Default fills the spec's absent (zero) fields with the CRD defaults, in place. On an object
// read from the API server it changes nothing.
func (s *MessengerAppSpec) Default() {
	ref := &s.SecretRef
	ref.AppSecretKey = ref.GetAppSecretKey()
	ref.VerifyTokenKey = ref.GetVerifyTokenKey()
	ref.AppAccessTokenKey = ref.GetAppAccessTokenKey()
	s.GraphAPI.BaseURL = s.GraphAPI.GetBaseURL()
	s.GraphAPI.Version = s.GraphAPI.GetVersion()
	s.Webhook.Default()
	if in := s.Ingress; in != nil {
		in.Default()
	}
	if sub := s.Subscription; sub != nil {
		if sub.RegisterCallback == nil {
			v := DefaultRegisterCallback
			sub.RegisterCallback = &v
		}
		sub.Fields = sub.GetFields()
	}
}

// WebhookPath is the path Meta calls and the app's webhook serves: spec.ingress.path, else
// /webhook.
func (s *MessengerAppSpec) WebhookPath() string {
	if in := s.Ingress; in != nil && in.Path != "" {
		return in.Path
	}
	return DefaultWebhookPath
}

// GetAppSecretKey is the key of the app secret, defaulted.
func (r *AppSecretReference) GetAppSecretKey() string {
	return orDefault(r.AppSecretKey, DefaultAppSecretKey)
}

// GetVerifyTokenKey is the key of the verify token in the app's Secret, defaulted.
func (r *AppSecretReference) GetVerifyTokenKey() string {
	return orDefault(r.VerifyTokenKey, DefaultVerifyTokenKey)
}

// GetAppAccessTokenKey is the key of an app access token in the app's Secret, defaulted.
func (r *AppSecretReference) GetAppAccessTokenKey() string {
	return orDefault(r.AppAccessTokenKey, DefaultAppAccessTokenKey)
}

// GetBaseURL is the Graph API's base URL, defaulted.
func (g *AppGraphAPISpec) GetBaseURL() string { return orDefault(g.BaseURL, DefaultGraphBaseURL) }

// GetVersion is the Graph API version, defaulted.
func (g *AppGraphAPISpec) GetVersion() string { return orDefault(g.Version, DefaultGraphVersion) }

// RegistersCallback says whether the operator registers the app's callback URL (default true).
func (s *AppSubscriptionSpec) RegistersCallback() bool {
	if s.RegisterCallback == nil {
		return DefaultRegisterCallback
	}
	return *s.RegisterCallback
}

// GetFields are the app-level webhook fields, defaulted (a new slice when defaulted).
func (s *AppSubscriptionSpec) GetFields() []string {
	if len(s.Fields) == 0 {
		return DefaultSubscriptionFields()
	}
	return s.Fields
}

// GetRecheckInterval is how often Meta's side is checked: spec.subscription.recheckInterval,
// else fallback (the manager's setting) when positive, else DefaultSubscriptionRecheckInterval.
func (s *AppSubscriptionSpec) GetRecheckInterval(fallback time.Duration) time.Duration {
	return recheckInterval(s.RecheckInterval, fallback)
}

// PageSubscriptionFields are the fields a page of the app subscribes at Page level: the page's
// own spec.subscription.fields, else the app's.
func (s *AppSubscriptionSpec) PageSubscriptionFields(page *MessengerPageSpec) []string {
	if sub := page.Subscription; sub != nil && len(sub.Fields) > 0 {
		return sub.Fields
	}
	return s.GetFields()
}

// Validate checks what the webhook relies on in an app's spec (defaults applied first, on a
// copy): what the API server's schema checks in a cluster, for apps read from a directory. It
// returns the first problem found.
func (s *MessengerAppSpec) Validate() error {
	d := s.DeepCopy()
	d.Default()
	field := func(name, detail string) error { return FieldError{Field: name, Detail: detail} }
	ref, g := &d.SecretRef, &d.GraphAPI
	if err := d.Webhook.validate(); err != nil {
		return err
	}
	switch {
	case !idPattern.MatchString(d.AppID):
		return field("spec.appID", "must be 1 to 32 digits")
	case ref.Name == "":
		return field("spec.secretRef.name", "required")
	case !objectName.MatchString(ref.Name) || len(ref.Name) > 253:
		return field("spec.secretRef.name", fmt.Sprintf("%q is not a Secret name", ref.Name))
	case !baseURLPattern.MatchString(g.BaseURL) || utf8.RuneCountInString(g.BaseURL) > 2048:
		return field("spec.graphAPI.baseURL", "must be an http(s) URL without query or fragment")
	case versionedBaseURL.MatchString(g.BaseURL):
		return field("spec.graphAPI.baseURL", versionedBaseURLMessage)
	case !versionPattern.MatchString(g.Version):
		return field("spec.graphAPI.version", "must look like v25.0")
	case !pathPattern.MatchString(d.WebhookPath()) || len(d.WebhookPath()) > 256:
		return field("spec.ingress.path", "must start with / and hold only -._~/ letters and digits")
	}
	for _, k := range []struct{ field, key string }{
		{"spec.secretRef.appSecretKey", ref.AppSecretKey},
		{"spec.secretRef.verifyTokenKey", ref.VerifyTokenKey},
		{"spec.secretRef.appAccessTokenKey", ref.AppAccessTokenKey},
	} {
		if !secretKeyPattern.MatchString(k.key) {
			return field(k.field, fmt.Sprintf("%q is not a Secret key", k.key))
		}
	}
	return nil
}
