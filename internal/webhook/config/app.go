package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// AppSnapshot is everything an app's webhook runs on, as read at one moment: the MessengerApp,
// its pages (spec.appRef naming it), their policies and every Secret involved.
type AppSnapshot struct {
	// App is nil when not found (or not loaded yet).
	App *v1alpha1.MessengerApp
	// Pages are the pages whose spec.appRef names the app.
	Pages []*v1alpha1.MessengerPage
	// Policies and Secrets by name: those the app and its pages reference that exist.
	Policies map[string]*v1alpha1.HandoverPolicy
	Secrets  map[string]*corev1.Secret
	// VerifyTokenSecretName names the Secret the operator generates the app's verify token into
	// (--verify-token-secret); empty when there is none.
	VerifyTokenSecretName string
	// Loading names the pages whose objects are not read yet (their caches have not synced).
	Loading map[string]bool
	// GraphAPIHosts, when set, are the only hosts the app's spec.graphAPI.baseURL may name.
	GraphAPIHosts []string
}

// PageState is what became of one page of a snapshot.
type PageState struct {
	Name string
	// Generation is the page's metadata.generation read.
	Generation int64
	// Page is the MessengerPage as read (the status writer takes over its conditions).
	Page *v1alpha1.MessengerPage
	// Loading: its objects are not read yet. Err: its configuration cannot be compiled (no
	// secret value in it). Otherwise it is served at Generation.
	Loading bool
	Err     error
	// Kept: the page's last good configuration, of generation KeptGeneration, still serves
	// (while Loading or Err).
	Kept           bool
	KeptGeneration int64
}

// AppRefs are the names of the objects an app's webhook needs besides the app and its pages:
// the policies, and the Secrets (the app's, the generated verify token's, each page's).
func AppRefs(app *v1alpha1.MessengerApp, verifyTokenSecret string, pages []*v1alpha1.MessengerPage) (policies, secrets []string) {
	if app != nil {
		secrets = append(secrets, app.Spec.SecretRef.Name)
	}
	if verifyTokenSecret != "" {
		secrets = append(secrets, verifyTokenSecret)
	}
	for _, p := range pages {
		policies = append(policies, p.Spec.PolicyRef.Name)
		secrets = append(secrets, p.Spec.SecretRef.Name)
	}
	return policies, secrets
}

// buildAppSettings reads what every page of the app shares; the error names the field at fault.
func buildAppSettings(s *AppSnapshot) (appSettings, error) {
	if s.App == nil {
		return appSettings{}, fmt.Errorf("the MessengerApp was not found")
	}
	spec := s.App.Spec.DeepCopy()
	spec.Default()
	if err := spec.Validate(); err != nil {
		return appSettings{}, fmt.Errorf("MessengerApp %q: %w", s.App.Name, err)
	}
	if err := graphHostAllowed(spec.GraphAPI.BaseURL, s.GraphAPIHosts); err != nil {
		return appSettings{}, fmt.Errorf("MessengerApp %q: %w", s.App.Name, err)
	}
	ref := &spec.SecretRef
	field := fmt.Sprintf("MessengerApp %q spec.secretRef", s.App.Name)
	secret := s.Secrets[ref.Name]
	if secret == nil {
		return appSettings{}, fmt.Errorf("%s: Secret %q not found", field, ref.Name)
	}
	appSecret, err := secretValue(field, secret, ref.AppSecretKey)
	if err != nil {
		return appSettings{}, err
	}
	generated := s.VerifyTokenSecretName
	if generated == ref.Name {
		generated = ""
	}
	verify, err := verifyToken(field, secret, ref.VerifyTokenKey, generated, s.Secrets[generated])
	if err != nil {
		return appSettings{}, err
	}
	return appSettings{
		AppID: spec.AppID, AppSecret: appSecret, VerifyToken: verify,
		GraphBaseURL: spec.GraphAPI.BaseURL, GraphVersion: spec.GraphAPI.Version, Path: spec.WebhookPath(),
	}, nil
}

// buildAppPage compiles one page of the app with the app's settings.
func buildAppPage(p *v1alpha1.MessengerPage, s *AppSnapshot, app appSettings) (Page, error) {
	page, err := defaulted(p)
	if err != nil {
		return Page{}, err
	}
	ref := &page.Spec.SecretRef
	secret := s.Secrets[ref.Name]
	if secret == nil {
		return Page{}, fmt.Errorf("spec.secretRef: Secret %q not found", ref.Name)
	}
	token, err := secretValue("spec.secretRef", secret, ref.PageAccessTokenKey)
	if err != nil {
		return Page{}, err
	}
	return compile(page, s.Policies[page.Spec.PolicyRef.Name], token, app)
}

// AppTarget receives app configurations; the webhook's Server is one.
type AppTarget interface {
	ApplyApp(App)
}

// AppApplier builds every snapshot an app source delivers, applies the pages that compile, and
// reports each page's state. A page whose configuration stops compiling keeps its last good one
// serving (reported as such); a page that leaves the app stops being served at once.
type AppApplier struct {
	Target AppTarget
	Logger *slog.Logger
	// Report, when set, receives the state of every page of each snapshot (after the Apply).
	Report func([]PageState)

	mu      sync.Mutex
	good    map[string]goodPage // by page name
	app     App                 // the last applied (its Pages aside)
	last    [sha256.Size]byte
	applied bool
	errs    map[string]string // last error logged, by page name ("" for the app)
	// builds counts the pages built (tests).
	builds int
}

type goodPage struct {
	cfg    Page
	gen    int64
	digest [sha256.Size]byte
	// key is buildKey of the objects cfg was built from ("" for objects read from files).
	key string
}

// Update builds s, applies it when what is served changed, and reports the pages' states.
func (a *AppApplier) Update(s AppSnapshot) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.good == nil {
		a.good, a.errs = map[string]goodPage{}, map[string]string{}
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	app, appErr := buildAppSettings(&s)
	a.logErr(log, "", appErr)
	appKey := settingsKey(app)

	pages := slices.Clone(s.Pages)
	// The oldest page keeps a page id two pages of the app claim (the operator marks the newer one).
	slices.SortFunc(pages, func(x, y *v1alpha1.MessengerPage) int {
		if c := x.CreationTimestamp.Compare(y.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	states := make([]PageState, 0, len(pages))
	good := make(map[string]goodPage, len(pages))
	owner := map[string]string{}
	for _, p := range pages {
		st := PageState{Name: p.Name, Generation: p.Generation, Page: p}
		var err error
		switch {
		case s.Loading[p.Name]:
			st.Loading = true
		case appErr != nil:
			err = fmt.Errorf("the page's app cannot be served: %w", appErr)
		case owner[p.Spec.PageID] != "":
			err = fmt.Errorf("spec.pageID: page %s is served by MessengerPage %q of the same app", p.Spec.PageID, owner[p.Spec.PageID])
		default:
			key := buildKey(p, &s, appKey)
			if prev, ok := a.good[p.Name]; ok && key != "" && prev.key == key {
				good[p.Name] = prev // built from the same objects: the same configuration
				break
			}
			var cfg Page
			a.builds++
			if cfg, err = buildAppPage(p, &s, app); err == nil {
				good[p.Name] = goodPage{cfg: cfg, gen: p.Generation, digest: pageDigest(p, s.Policies[p.Spec.PolicyRef.Name], &cfg), key: key}
			}
		}
		if err != nil || st.Loading {
			if prev, ok := a.good[p.Name]; ok { // the last good configuration keeps serving
				good[p.Name] = prev
				st.Kept, st.KeptGeneration = true, prev.gen
			}
		}
		if g, ok := good[p.Name]; ok {
			owner[g.cfg.PageID] = p.Name
		}
		st.Err = err
		a.logErr(log, p.Name, err)
		states = append(states, st)
	}
	a.good = good
	for name := range a.errs {
		if name != "" && !slices.ContainsFunc(pages, func(p *v1alpha1.MessengerPage) bool { return p.Name == name }) {
			delete(a.errs, name) // the page left: a problem of its return is news again
		}
	}

	if appErr == nil || a.applied {
		cfg := App{AppID: app.AppID, Path: app.Path, VerifyToken: app.VerifyToken, AppSecret: app.AppSecret}
		if appErr != nil { // the app's own settings keep their last good values
			cfg = a.lastApp()
		}
		h := sha256.New()
		for _, b := range [][]byte{[]byte(cfg.AppID), []byte(cfg.Path), cfg.VerifyToken, cfg.AppSecret} {
			writeField(h, b)
		}
		for _, p := range pages {
			if g, ok := good[p.Name]; ok {
				cfg.Pages = append(cfg.Pages, g.cfg)
				writeField(h, g.digest[:])
			}
		}
		var key [sha256.Size]byte
		copy(key[:], h.Sum(nil))
		if !a.applied || key != a.last {
			a.Target.ApplyApp(cfg)
			a.last, a.applied, a.app = key, true, cfg
			log.Info("app configuration applied", "app", cfg.AppID, "path", cfg.Path, "pages", len(cfg.Pages))
		}
	}
	if a.Report != nil {
		a.Report(states)
	}
}

func (a *AppApplier) lastApp() App {
	c := a.app
	c.Pages = nil
	return c
}

func (a *AppApplier) logErr(log *slog.Logger, page string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if a.errs[page] == msg {
		return
	}
	a.errs[page] = msg
	if err != nil {
		log.Warn("configuration not applied; the last good one, if any, keeps serving", "messengerPage", page, "error", msg)
	}
}

// settingsKey identifies the app's settings a page's configuration takes (hashed: the secrets are
// among them).
func settingsKey(app appSettings) [sha256.Size]byte {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(app.AppID), app.AppSecret, app.VerifyToken, []byte(app.GraphBaseURL), []byte(app.GraphVersion), []byte(app.Path)} {
		writeField(h, b)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// buildKey identifies the objects buildAppPage reads for page p: its generation (its spec), the
// resourceVersions of its policy and its Secret, and the app's settings. A snapshot is rebuilt
// whenever any object of the app changes (a page joining, a Secret granted, a Role update); with
// a hundred pages most of them are unchanged, and compiling each again was most of the webhook's
// CPU time while pages joined. "" when an object has no resourceVersion (read from files): such
// a page is built every time.
func buildKey(p *v1alpha1.MessengerPage, s *AppSnapshot, appKey [sha256.Size]byte) string {
	policy, secret := s.Policies[p.Spec.PolicyRef.Name], s.Secrets[p.Spec.SecretRef.Name]
	if p.UID == "" || p.Generation == 0 || policy == nil || secret == nil || policy.ResourceVersion == "" || secret.ResourceVersion == "" {
		return ""
	}
	return fmt.Sprintf("%s/%d %s/%s %s/%s %x", p.UID, p.Generation, policy.UID, policy.ResourceVersion, secret.UID, secret.ResourceVersion, appKey)
}

// pageDigest identifies what a page's configuration is built from: the specs and the secret
// values in use (hashed).
func pageDigest(p *v1alpha1.MessengerPage, policy *v1alpha1.HandoverPolicy, cfg *Page) [sha256.Size]byte {
	h := sha256.New()
	spec, _ := json.Marshal(p.Spec)
	pol, _ := json.Marshal(policy.Spec)
	for _, b := range [][]byte{spec, pol, cfg.PageAccessToken} {
		writeField(h, b)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// writeField writes b length-prefixed: no two inputs hash alike by shifting bytes between fields.
func writeField(h interface{ Write([]byte) (int, error) }, b []byte) {
	_, _ = h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
	_, _ = h.Write(b)
}
