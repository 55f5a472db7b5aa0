package config

import (
	"context"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// The control plane of the tests that need one, started by the first of them.
var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
)

func cluster(t *testing.T) *testenv.Env {
	t.Helper()
	envOnce.Do(func() { env, envErr = testenv.Start() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	os.Exit(code)
}

// watches counts the watch requests whose response is still open.
type watches struct {
	next   http.RoundTripper
	active atomic.Int32
}

func (w *watches) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	if err != nil || r.URL.Query().Get("watch") != "true" {
		return resp, err
	}
	w.active.Add(1)
	resp.Body = &countedBody{ReadCloser: resp.Body, done: func() { w.active.Add(-1) }}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *countedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNamedFollowsTheNamesInUse: with a Role that grants Secrets by name only, Named reads each
// named Secret from its own cache (managed fields stripped), sees its changes, stops the cache of
// a name that leaves the set and starts one for a name that joins.
func TestNamedFollowsTheNamesInUse(t *testing.T) {
	e := cluster(t)
	ctx := context.Background()
	const ns = "named"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	for _, name := range []string{"a", "b", "not-granted"} {
		must(e.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			StringData: map[string]string{"k": name + "-1"}}))
	}
	must(e.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"},
			Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{"a", "b", "missing"}}}}))
	must(e.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "named-reader"}}}))
	userCfg, err := e.AddUser("named-reader")
	must(err)
	counter := &watches{}
	cfg := rest.CopyConfig(userCfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }

	var changes atomic.Int32
	w, err := NewWatcher(cfg, ns, func() { changes.Add(1) })
	must(err)
	secrets := NewNamed(w, func() *corev1.Secret { return &corev1.Secret{} })
	defer secrets.Stop()
	get := func(name string) string {
		s, ok := secrets.Get(ctx, name)
		if !ok {
			return "<none>"
		}
		if s.ManagedFields != nil {
			t.Errorf("Secret %q kept its managed fields", name)
		}
		return string(s.Data["k"])
	}

	must(secrets.Set(ctx, "a"))
	eventually(t, "the cache of a to sync", secrets.Synced)
	if got := get("a"); got != "a-1" {
		t.Fatalf("a = %q", got)
	}
	before := changes.Load()
	var a corev1.Secret
	must(e.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "a"}, &a))
	a.Data["k"] = []byte("a-2")
	must(e.Client.Update(ctx, &a))
	eventually(t, "the change of a", func() bool { return get("a") == "a-2" && changes.Load() > before })

	// b replaces a; a granted name that does not exist is synced and not found.
	must(secrets.Set(ctx, "b", "missing"))
	if got := get("a"); got != "<none>" {
		t.Fatalf("a, no longer watched = %q", got)
	}
	eventually(t, "the caches of b and missing to sync", secrets.Synced)
	if got, missing := get("b"), get("missing"); got != "b-1" || missing != "<none>" {
		t.Fatalf("b = %q, missing = %q", got, missing)
	}
	eventually(t, "a's watch to stop", func() bool { return counter.active.Load() == 2 })

	// A name the Role does not grant never syncs; it does not disturb the others.
	must(secrets.Set(ctx, "b", "not-granted"))
	if got := get("b"); got != "b-1" {
		t.Fatalf("b = %q", got)
	}
	if _, ok := secrets.Get(ctx, "not-granted"); ok {
		t.Fatal("a Secret the Role does not grant was read")
	}

	secrets.Stop()
	eventually(t, "every watch to stop", func() bool { return counter.active.Load() == 0 })
}
