package pagesource

import (
	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The MessengerPage defaults of the CRD (kubebuilder markers in api/v1alpha1). The API server
// applies them in a cluster; manifests read from a directory never met one, so Build applies them
// too (a no-op on objects that came from the API server).
const (
	DefaultPageAccessTokenKey = "pageAccessToken"
	DefaultAppSecretKey       = "appSecret"
	DefaultVerifyTokenKey     = "verifyToken"
	DefaultGraphBaseURL       = "https://graph.facebook.com"
	DefaultGraphVersion       = "v25.0"
	DefaultMaxSendsPerSecond  = int32(250)
	DefaultPath               = "/webhook"

	// GeneratedVerifyTokenKey is the key of the verify token in the Secret the operator generates
	// (named in status.verifyTokenSecret) when the user's Secret has none.
	GeneratedVerifyTokenKey = "verifyToken"
)

// DefaultPageSpec fills the fields the CRD defaults when they are empty. It changes spec in place.
func DefaultPageSpec(spec *v1alpha1.MessengerPageSpec) {
	ref := &spec.SecretRef
	setIfEmpty(&ref.PageAccessTokenKey, DefaultPageAccessTokenKey)
	setIfEmpty(&ref.AppSecretKey, DefaultAppSecretKey)
	setIfEmpty(&ref.VerifyTokenKey, DefaultVerifyTokenKey)
	g := &spec.GraphAPI
	setIfEmpty(&g.BaseURL, DefaultGraphBaseURL)
	setIfEmpty(&g.Version, DefaultGraphVersion)
	if g.MaxSendsPerSecond == nil {
		// 0 is a meaningful value (no limit): only an absent field gets the default.
		v := DefaultMaxSendsPerSecond
		g.MaxSendsPerSecond = &v
	}
	if spec.Ingress != nil {
		setIfEmpty(&spec.Ingress.Path, DefaultPath)
	}
}

// WebhookPath is the path the webhook serves: the ingress path, /webhook without an ingress.
func WebhookPath(spec *v1alpha1.MessengerPageSpec) string {
	if spec.Ingress != nil && spec.Ingress.Path != "" {
		return spec.Ingress.Path
	}
	return DefaultPath
}

func setIfEmpty(s *string, v string) {
	if *s == "" {
		*s = v
	}
}
