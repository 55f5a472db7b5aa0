package config

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// refusals counts the requests for Secrets the API server refused (403).
type refusals struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (r *refusals) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusForbidden && strings.Contains(req.URL.Path, "/secrets") {
		r.n.Add(1)
	}
	return resp, err
}

func TestGrantsSecret(t *testing.T) {
	role := &rbacv1.Role{Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"get-only"}},
		{APIGroups: []string{"apps"}, Resources: []string{"secrets"}, Verbs: []string{"*"}, ResourceNames: []string{"other-group"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}, ResourceNames: []string{"configmap"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{"a", "b"}},
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"list", "watch"}, ResourceNames: []string{"wild"}},
	}}
	for name, want := range map[string]bool{"a": true, "b": true, "wild": true, "get-only": false, "other-group": false, "configmap": false, "c": false} {
		if got := grantsSecret(role, name); got != want {
			t.Errorf("grantsSecret(%q) = %v, want %v", name, got, want)
		}
	}
	every := &rbacv1.Role{Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list", "watch"}}}}
	if !grantsSecret(every, "any") {
		t.Error("a rule without resourceNames grants every Secret")
	}
}

// appGate is an app with one policy and its Role, whose webhook runs as a user bound to it; the
// Role grants the app's Secret, not yet any page's.
type appGate struct {
	t        *testing.T
	ns       string
	refused  *refusals
	mu       sync.Mutex
	last     *AppSnapshot
	snapshot chan struct{}
}

func startAppGate(t *testing.T, ns string, readsOwnRole bool) *appGate {
	t.Helper()
	e := cluster(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const role = "shop-webhook-app"
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"messengerapps"}, Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{"shop"}},
		{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"messengerpages", "handoverpolicies"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{"app-creds"}},
	}
	if readsOwnRole {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"},
			Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{role}})
	}
	must(e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(e.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app-creds", Namespace: ns},
		StringData: map[string]string{"appSecret": "s", "verifyToken": "v"}}))
	must(e.Client.Create(ctx, &v1alpha1.MessengerApp{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: v1alpha1.MessengerAppSpec{AppID: "1", SecretRef: v1alpha1.AppSecretReference{Name: "app-creds"}}}))
	must(e.Client.Create(ctx, &v1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns},
		Spec: v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Hello"}}}))
	must(e.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: role, Namespace: ns}, Rules: rules}))
	user := ns + "-webhook"
	must(e.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role, Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
	userCfg, err := e.AddUser(user)
	must(err)
	g := &appGate{t: t, ns: ns, refused: &refusals{}, snapshot: make(chan struct{}, 1)}
	cfg := rest.CopyConfig(userCfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { g.refused.next = rt; return g.refused }
	src, err := NewClusterSource(cfg, types.NamespacedName{Namespace: ns, Name: "shop"}, "", nil)
	must(err)
	src.Role = role
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.RunApp(rctx, func(s AppSnapshot) {
			g.mu.Lock()
			g.last = &s
			g.mu.Unlock()
			select {
			case g.snapshot <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return g
}

// page says whether the last snapshot has the page, and whether it is loading.
func (g *appGate) page(name string) (present, loading bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		return false, false
	}
	for _, p := range g.last.Pages {
		if p.Name == name {
			return true, g.last.Loading[name]
		}
	}
	return false, false
}

// join creates a page of the app and its Secret, and waits until the source delivers it loading.
func (g *appGate) join(name string) {
	g.t.Helper()
	ctx := context.Background()
	c := cluster(g.t).Client
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-creds", Namespace: g.ns},
		StringData: map[string]string{"pageAccessToken": "t"}}); err != nil {
		g.t.Fatal(err)
	}
	if err := c.Create(ctx, &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: g.ns},
		Spec: v1alpha1.MessengerPageSpec{PageID: "1000000000000001", AppRef: &v1alpha1.LocalReference{Name: "shop"},
			SecretRef: v1alpha1.SecretReference{Name: name + "-creds"}, PolicyRef: v1alpha1.LocalReference{Name: "support"},
			GraphAPI: v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)}}}); err != nil {
		g.t.Fatal(err)
	}
	eventually(g.t, name+" delivered loading", func() bool { p, l := g.page(name); return p && l })
}

// grant adds the page's Secret to the Role, as the operator does once the page joined.
func (g *appGate) grant(name string) {
	g.t.Helper()
	ctx := context.Background()
	c := cluster(g.t).Client
	var role rbacv1.Role
	if err := c.Get(ctx, types.NamespacedName{Namespace: g.ns, Name: "shop-webhook-app"}, &role); err != nil {
		g.t.Fatal(err)
	}
	for i := range role.Rules {
		if role.Rules[i].Resources[0] == "secrets" {
			role.Rules[i].ResourceNames = append(role.Rules[i].ResourceNames, name+"-creds")
		}
	}
	if err := c.Update(ctx, &role); err != nil {
		g.t.Fatal(err)
	}
}

// TestAppWatchesAPageSecretOnceTheRoleGrantsIt: a page joins before the app's Role grants its
// Secret (the operator adds it after seeing the page). The source reads the Role and starts the
// Secret's watch only once the Role grants it: the API server never refuses it, so the page does
// not wait on a refused watch's backoff (0.8 s, doubling), and is loaded after the grant.
func TestAppWatchesAPageSecretOnceTheRoleGrantsIt(t *testing.T) {
	g := startAppGate(t, "gate", true)
	g.join("page-1")
	// The source has had every chance to start the Secret's watch (and to be refused): other
	// changes come and go while the grant is pending.
	for i := range 3 {
		g.join("waiting-" + string(rune('a'+i)))
	}
	g.grant("page-1")
	eventually(t, "page-1 loaded", func() bool { p, l := g.page("page-1"); return p && !l })
	if n := g.refused.n.Load(); n != 0 {
		t.Fatalf("%d Secret requests refused: the watch started before the Role granted it", n)
	}
	if _, l := g.page("waiting-a"); !l {
		t.Fatal("a page whose Secret the Role does not grant was loaded")
	}
}

// TestAppWatchesAtOnceWithoutItsRole: a Role that does not let the webhook read it (an older
// operator's) leaves the source as it was: it watches the Secret at once, is refused, and loads
// the page once granted (by its reflector's retry).
func TestAppWatchesAtOnceWithoutItsRole(t *testing.T) {
	g := startAppGate(t, "gate-unread", false)
	g.join("page-1")
	eventually(t, "the Secret's watch refused", func() bool { return g.refused.n.Load() > 0 })
	g.grant("page-1")
	eventually(t, "page-1 loaded", func() bool { p, l := g.page("page-1"); return p && !l })
}
