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
	// Name is the MessengerPage's name.
	Name string
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

// App is an app's configuration as its webhook runs it: what Meta's calls are checked with, and
// the pages served (each with the app's secret and Graph settings).
type App struct {
	AppID string
	// Path is the app's ingress path.
	Path string
	// Secrets. They never appear in logs, errors or metrics.
	VerifyToken, AppSecret []byte
	Pages                  []Page
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
	// GraphAPIHosts, when set, are the only hosts spec.graphAPI.baseURL may name (the operator
	// passes its --graph-api-hosts): a page edited to another host is not built, so its token
	// never goes there.
	GraphAPIHosts []string
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
	page, err := defaulted(s.Page)
	if err != nil {
		return Page{}, err
	}
	token, appSecret, verify, err := readSecrets(page, s)
	if err != nil {
		return Page{}, err
	}
	g := &page.Spec.GraphAPI
	if err := graphHostAllowed(g.BaseURL, s.GraphAPIHosts); err != nil {
		return Page{}, err
	}
	return compile(page, s.Policy, token, appSettings{
		AppID: page.Spec.AppID, AppSecret: appSecret, VerifyToken: verify,
		GraphBaseURL: g.BaseURL, GraphVersion: g.Version, Path: page.Spec.WebhookPath(),
	})
}

// appSettings are what a page's configuration takes from its app: from the page itself for a
// standalone page, from its MessengerApp otherwise.
type appSettings struct {
	AppID                      string
	AppSecret, VerifyToken     []byte
	GraphBaseURL, GraphVersion string
	Path                       string
}

// defaulted is a copy of page with the defaults applied, validated.
func defaulted(p *v1alpha1.MessengerPage) (*v1alpha1.MessengerPage, error) {
	page := p.DeepCopy()
	page.Spec.Default()
	if err := page.Spec.Validate(); err != nil {
		return nil, err
	}
	return page, nil
}

// compile compiles page (defaulted) and policy with the page access token and its app's
// settings.
func compile(page *v1alpha1.MessengerPage, policy *v1alpha1.HandoverPolicy, token []byte, app appSettings) (Page, error) {
	spec := &page.Spec
	name := spec.PolicyRef.Name
	if policy == nil || policy.Name != name {
		return Page{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q not found", name)
	}
	compiled, err := handover.CompileWithProfile(spec.PageID, app.AppID, spec.BusinessName, policy.Spec.DeepCopy(), spec.Profile)
	if err != nil {
		return Page{}, fmt.Errorf("spec.policyRef: HandoverPolicy %q: %w", name, err)
	}
	return Page{
		PageID:            spec.PageID,
		AppID:             app.AppID,
		Name:              page.Name,
		Path:              app.Path,
		VerifyToken:       app.VerifyToken,
		AppSecret:         app.AppSecret,
		PageAccessToken:   token,
		GraphBaseURL:      app.GraphBaseURL,
		GraphVersion:      app.GraphVersion,
		MaxSendsPerSecond: *spec.GraphAPI.MaxSendsPerSecond,
		Handover: &handover.Page{
			PageID:       spec.PageID,
			AppID:        app.AppID,
			BusinessName: spec.BusinessName,
			Policy:       compiled,
		},
		Generation: fmt.Sprintf("page/%d policy/%d", page.Generation, policy.Generation),
	}, nil
}

// readSecrets returns the page access token, the app secret and the verify token. Errors name the
// Secret and the key, never a value.
func readSecrets(page *v1alpha1.MessengerPage, s Snapshot) (token, appSecret, verify []byte, err error) {
	ref := &page.Spec.SecretRef
	const field = "spec.secretRef"
	if s.Secret == nil || s.Secret.Name != ref.Name {
		return nil, nil, nil, fmt.Errorf("%s: Secret %q not found", field, ref.Name)
	}
	if token, err = secretValue(field, s.Secret, ref.PageAccessTokenKey); err != nil {
		return nil, nil, nil, err
	}
	if appSecret, err = secretValue(field, s.Secret, ref.AppSecretKey); err != nil {
		return nil, nil, nil, err
	}
	verify, err = verifyToken(field, s.Secret, ref.VerifyTokenKey, generatedSecret(page, s.VerifyTokenSecretName), s.VerifyTokenSecret)
	return token, appSecret, verify, err
}

// secretValue is key of secret, which must be present and not empty; field names the reference
// in errors.
func secretValue(field string, secret *corev1.Secret, key string) ([]byte, error) {
	v := secretData(secret)[key]
	if len(v) == 0 {
		return nil, fmt.Errorf("%s: Secret %q has no key %q (or it is empty)", field, secret.Name, key)
	}
	return v, nil
}

// verifyToken is the verify token: key of the user's Secret, else the generated one (the Secret
// named generated, which the operator creates when the user's Secret has none).
func verifyToken(field string, secret *corev1.Secret, key, generated string, gen *corev1.Secret) ([]byte, error) {
	if v := secretData(secret)[key]; len(v) > 0 {
		return v, nil
	}
	switch {
	case generated == "":
		return nil, fmt.Errorf("%s: Secret %q has no key %q and no generated verify-token Secret is set (in a cluster the operator generates one and names it in the Deployment; with --manifests, add the key)",
			field, secret.Name, key)
	case gen == nil || gen.Name != generated:
		return nil, fmt.Errorf("generated verify token: Secret %q not found", generated)
	}
	v := secretData(gen)[v1alpha1.GeneratedVerifyTokenKey]
	if len(v) == 0 {
		return nil, fmt.Errorf("generated verify token: Secret %q has no key %q (or it is empty)", generated, v1alpha1.GeneratedVerifyTokenKey)
	}
	return v, nil
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
