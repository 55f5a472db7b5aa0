package config

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// Page is a page's configuration as its webhook runs it: the CRD defaults applied, the Secrets
// read, the policy compiled.
type Page struct {
	PageID, AppID string
	// Path is the page's ingress path (the CRD's default without an Ingress).
	Path string
	// Secrets. They never appear in logs, errors or metrics.
	VerifyToken, AppSecret, PageAccessToken []byte
	// GraphBaseURL (such as https://graph.facebook.com) and GraphVersion (such as v25.0).
	GraphBaseURL, GraphVersion string
	// MaxSendsPerSecond limits Send API calls; 0 means unlimited.
	MaxSendsPerSecond int32
	// Handover is the compiled page and policy (handover.Compile).
	Handover *handover.Page
	// Generation names the page's and the policy's generations, for logs.
	Generation string
}

// Snapshot is everything one page's webhook runs on, as read at one moment. Nil means not found
// (or not loaded yet).
type Snapshot struct {
	Page   *v1alpha1.MessengerPage
	Policy *v1alpha1.HandoverPolicy
	// Secret is the user's Secret, spec.secretRef.
	Secret *corev1.Secret
	// VerifyTokenSecretName names the Secret the operator generates the verify token into when
	// the user's Secret has none; the webhook learns it from its Deployment (--verify-token-secret),
	// never from the page's status. Empty when there is none (--manifests).
	VerifyTokenSecretName string
	// VerifyTokenSecret is that Secret, when read (only while the user's Secret lacks the key).
	VerifyTokenSecret *corev1.Secret
}

// Refs are the names of the objects a page needs besides itself.
type Refs struct {
	Policy, Secret string
}

// RefsOf says which objects page needs.
func RefsOf(page *v1alpha1.MessengerPage) Refs {
	return Refs{Policy: page.Spec.PolicyRef.Name, Secret: page.Spec.SecretRef.Name}
}

// Build turns a snapshot into the webhook's configuration: CRD defaults applied, Secrets read,
// policy compiled. It fails with a message naming the object and field at fault (never a secret
// value) when something is missing or invalid; the snapshot is not modified.
func Build(s Snapshot) (Page, error) {
	if s.Page == nil {
		return Page{}, fmt.Errorf("the MessengerPage was not found")
	}
	page := s.Page.DeepCopy()
	spec := &page.Spec
	spec.Default()
	if err := spec.Validate(); err != nil {
		return Page{}, err
	}
	refs := RefsOf(page)

	token, appSecret, verify, err := readSecrets(page, s)
	if err != nil {
		return Page{}, err
	}

	if s.Policy == nil || s.Policy.Name != refs.Policy {
		return Page{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q not found", refs.Policy)
	}
	policySpec := s.Policy.Spec.DeepCopy()
	compiled, err := handover.Compile(spec.PageID, spec.AppID, spec.BusinessName, policySpec)
	if err != nil {
		return Page{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q: %w", refs.Policy, err)
	}

	return Page{
		PageID:            spec.PageID,
		AppID:             spec.AppID,
		Path:              spec.WebhookPath(),
		VerifyToken:       verify,
		AppSecret:         appSecret,
		PageAccessToken:   token,
		GraphBaseURL:      spec.GraphAPI.BaseURL,
		GraphVersion:      spec.GraphAPI.Version,
		MaxSendsPerSecond: *spec.GraphAPI.MaxSendsPerSecond,
		Handover: &handover.Page{
			PageID:       spec.PageID,
			AppID:        spec.AppID,
			BusinessName: spec.BusinessName,
			Policy:       compiled,
		},
		Generation: fmt.Sprintf("page/%d policy/%d", page.Generation, s.Policy.Generation),
	}, nil
}

// readSecrets returns the page access token, the app secret and the verify token. Errors name the
// Secret and the key, never a value.
func readSecrets(page *v1alpha1.MessengerPage, s Snapshot) (token, appSecret, verify []byte, err error) {
	ref := &page.Spec.SecretRef
	if s.Secret == nil || s.Secret.Name != ref.Name {
		return nil, nil, nil, fmt.Errorf("spec.secretRef: Secret %q not found", ref.Name)
	}
	data := secretData(s.Secret)
	get := func(key string) ([]byte, error) {
		v := data[key]
		if len(v) == 0 {
			return nil, fmt.Errorf("spec.secretRef: Secret %q has no key %q (or it is empty)", ref.Name, key)
		}
		return v, nil
	}
	if token, err = get(ref.PageAccessTokenKey); err != nil {
		return nil, nil, nil, err
	}
	if appSecret, err = get(ref.AppSecretKey); err != nil {
		return nil, nil, nil, err
	}
	if v := data[ref.VerifyTokenKey]; len(v) > 0 {
		return token, appSecret, v, nil
	}
	// The user's Secret has no verify token: the operator generates one.
	name := generatedSecret(page, s.VerifyTokenSecretName)
	switch {
	case name == "":
		return nil, nil, nil, fmt.Errorf("spec.secretRef: Secret %q has no key %q and no generated verify-token Secret is set (in a cluster the operator generates one and names it in the Deployment; with --manifests, add the key)",
			ref.Name, ref.VerifyTokenKey)
	case s.VerifyTokenSecret == nil || s.VerifyTokenSecret.Name != name:
		return nil, nil, nil, fmt.Errorf("generated verify token: Secret %q not found", name)
	}
	v := secretData(s.VerifyTokenSecret)[v1alpha1.GeneratedVerifyTokenKey]
	if len(v) == 0 {
		return nil, nil, nil, fmt.Errorf("generated verify token: Secret %q has no key %q (or it is empty)", name, v1alpha1.GeneratedVerifyTokenKey)
	}
	return token, appSecret, v, nil
}

// generatedSecret is the name of the generated verify-token Secret to read for page: name,
// unless it is empty or the user's own Secret (which was read already).
func generatedSecret(page *v1alpha1.MessengerPage, name string) string {
	if name == page.Spec.SecretRef.Name {
		return ""
	}
	return name
}

// secretData is the Secret's data with stringData merged over it, as the API server would store
// it (objects from the API server never carry stringData).
func secretData(s *corev1.Secret) map[string][]byte {
	if len(s.StringData) == 0 {
		return s.Data
	}
	out := make(map[string][]byte, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		out[k] = v
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out
}
