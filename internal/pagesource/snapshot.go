package pagesource

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

// Snapshot is everything one page's webhook runs on, as read at one moment. Nil means not found
// (or not loaded yet).
type Snapshot struct {
	Page   *v1alpha1.MessengerPage
	Policy *v1alpha1.HandoverPolicy
	// Secret is the user's Secret, spec.secretRef.
	Secret *corev1.Secret
	// VerifyTokenSecret is the Secret named in status.verifyTokenSecret when it is not the user's
	// (the operator generated it because the user's Secret has no verify token).
	VerifyTokenSecret *corev1.Secret
}

// Refs are the names of the objects a page needs besides itself.
type Refs struct {
	Policy, Secret string
	// VerifyTokenSecret is empty unless status.verifyTokenSecret names a Secret other than the
	// user's.
	VerifyTokenSecret string
}

// RefsOf says which objects page needs.
func RefsOf(page *v1alpha1.MessengerPage) Refs {
	r := Refs{Policy: page.Spec.PolicyRef.Name, Secret: page.Spec.SecretRef.Name}
	if vs := page.Status.VerifyTokenSecret; vs != "" && vs != r.Secret {
		r.VerifyTokenSecret = vs
	}
	return r
}

// Build turns a snapshot into the webhook's configuration: CRD defaults applied, Secrets read,
// policy compiled. It fails with a message naming the object and field at fault (never a secret
// value) when something is missing or invalid; the snapshot is not modified.
func Build(s Snapshot) (webhook.Config, error) {
	if s.Page == nil {
		return webhook.Config{}, fmt.Errorf("the MessengerPage was not found")
	}
	page := s.Page.DeepCopy()
	spec := &page.Spec
	spec.Default()
	if err := spec.Validate(); err != nil {
		return webhook.Config{}, err
	}
	refs := RefsOf(page)

	token, appSecret, verify, err := readSecrets(page, refs, s)
	if err != nil {
		return webhook.Config{}, err
	}

	if s.Policy == nil || s.Policy.Name != refs.Policy {
		return webhook.Config{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q not found", refs.Policy)
	}
	policySpec := s.Policy.Spec.DeepCopy()
	compiled, err := handover.Compile(spec.PageID, spec.AppID, spec.BusinessName, policySpec)
	if err != nil {
		return webhook.Config{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q: %w", refs.Policy, err)
	}

	return webhook.Config{
		PageID:            spec.PageID,
		AppID:             spec.AppID,
		Path:              spec.WebhookPath(),
		VerifyToken:       verify,
		AppSecret:         appSecret,
		PageAccessToken:   token,
		GraphBaseURL:      spec.GraphAPI.BaseURL,
		GraphVersion:      spec.GraphAPI.Version,
		MaxSendsPerSecond: *spec.GraphAPI.MaxSendsPerSecond,
		Page: &handover.Page{
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
func readSecrets(page *v1alpha1.MessengerPage, refs Refs, s Snapshot) (token, appSecret, verify []byte, err error) {
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
	switch {
	case refs.VerifyTokenSecret == "":
		return nil, nil, nil, fmt.Errorf("spec.secretRef: Secret %q has no key %q and status.verifyTokenSecret names no generated one (in a cluster the operator generates it; with --manifests, add the key)",
			ref.Name, ref.VerifyTokenKey)
	case s.VerifyTokenSecret == nil || s.VerifyTokenSecret.Name != refs.VerifyTokenSecret:
		return nil, nil, nil, fmt.Errorf("status.verifyTokenSecret: Secret %q not found", refs.VerifyTokenSecret)
	}
	v := secretData(s.VerifyTokenSecret)[v1alpha1.GeneratedVerifyTokenKey]
	if len(v) == 0 {
		return nil, nil, nil, fmt.Errorf("status.verifyTokenSecret: Secret %q has no key %q (or it is empty)", refs.VerifyTokenSecret, v1alpha1.GeneratedVerifyTokenKey)
	}
	return token, appSecret, v, nil
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
