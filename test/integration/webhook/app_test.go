package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

const (
	brandPageID   = "1000000000000011"
	supportPageID = "1000000000000012"
)

// shopApp is an app with the page brand; support is subscribed to the app on the simulator but
// is not a page of the app until a test creates it.
func shopApp(ns, graphURL string) (*rig.App, *rig.AppPage) {
	a := &rig.App{NS: ns, Name: "shop", AppID: appID, GraphURL: graphURL, AppSecret: "app-secret-one", VerifyToken: "app-verify-one",
		Pages: []*rig.AppPage{{Name: "brand", PageID: brandPageID, Welcome: "Hello from Brand", Token: "brand-token"}}}
	return a, &rig.AppPage{Name: "support", PageID: supportPageID, Welcome: "Hello from Support", Token: "support-token"}
}

// atomicHandler serves with the handler set last: the simulator's Graph API, which is made after
// the app's objects (they need its URL, it needs the webhook's).
type atomicHandler struct{ h atomic.Pointer[http.Handler] }

func (a *atomicHandler) set(h http.Handler) { a.h.Store(&h) }

func (a *atomicHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := a.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "not yet", http.StatusServiceUnavailable)
}

// graphAuthorized is the page's GraphAuthorized condition now (nil when it has none).
func graphAuthorized(t *testing.T, key types.NamespacedName) *metav1.Condition {
	t.Helper()
	return meta.FindStatusCondition(rig.GetPage(t, key).Status.Conditions, v1alpha1.ConditionGraphAuthorized)
}

// say has customer psid of pageID say "hi".
func say(t *testing.T, sim *simulator.Simulator, pageID, psid string) {
	t.Helper()
	if err := sim.Customer(pageID, psid).Say("hi"); err != nil {
		t.Fatal(err)
	}
}

func waitReply(t *testing.T, sim *simulator.Simulator, pageID, psid, want string) {
	t.Helper()
	rig.Eventually(t, "the reply "+want+" on page "+pageID, func() bool {
		r := rig.AppReplies(sim, pageID, psid)
		return len(r) > 0 && r[len(r)-1] == want
	})
}

func TestAppModeServesPagesAsTheyJoinAndLeave(t *testing.T) {
	ctx := context.Background()
	ns := rig.UniqueNS("app")
	graph := &atomicHandler{}
	graphSrv := httptest.NewServer(graph)
	t.Cleanup(graphSrv.Close)
	app, support := shopApp(ns, graphSrv.URL)

	rig.Create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	rig.Create(t, app.Objects()...)
	// Another page's Secret in the same namespace: the app's webhook may not read it.
	rig.Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other-creds", Namespace: ns}, StringData: map[string]string{"pageAccessToken": "x"}})
	userCfg := rig.AppUser(t, app, app.SecretName(""), app.SecretName("brand"), app.SecretName("support"))
	kube := kubernetes.NewForConfigOrDie(userCfg)
	if _, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the app's webhook may list all Secrets: %v", err)
	}
	if _, err := kube.CoreV1().Secrets(ns).Get(ctx, "other-creds", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the app's webhook may read another Secret: %v", err)
	}

	ln := rig.Listen(t)
	sim := rig.NewAppSimulator(t, app, "http://"+ln.Addr().String()+rig.AppHookPath, support)
	graph.set(sim.Handler())
	wh := rig.Start(t, webhook.Options{App: app.Key(), RESTConfig: userCfg, Listener: ln, StatusRetryBase: 50 * time.Millisecond})
	wh.WaitReady(t)
	rig.WaitServed(t, app.PageKey("brand"), metav1.ConditionTrue, v1alpha1.ReasonServing)

	// Meta's verification with the app's verify token.
	if code, body := rig.Get(t, wh.URL+rig.AppHookPath+"?hub.mode=subscribe&hub.verify_token=app-verify-one&hub.challenge=42"); code != 200 || body != "42" {
		t.Fatalf("verification: %d %q", code, body)
	}

	// Both pages' events in one POST: brand's is served, support's is not (yet).
	sim.Hold()
	say(t, sim, brandPageID, "3000000000000001")
	say(t, sim, supportPageID, "3000000000000002")
	sim.Flush()
	waitReply(t, sim, brandPageID, "3000000000000001", "Hello from Brand")
	rig.Eventually(t, "the unserved entry to be counted", func() bool {
		return wh.Metric(t, "messenger_webhook_unserved_entries_total") >= 1
	})
	batched := false
	for _, d := range sim.Deliveries("app") {
		if len(d.Pages) == 2 && d.OK {
			batched = true
		}
	}
	if !batched {
		t.Fatalf("no POST carried both pages' entries: %+v", sim.Deliveries("app"))
	}
	rig.Eventually(t, "the UnknownPageEntries Event", func() bool {
		var evs corev1.EventList
		rig.Must(t, rig.Env.Client.List(ctx, &evs, client.InNamespace(ns)))
		for _, e := range evs.Items {
			if e.Reason == v1alpha1.ReasonUnknownPageEntries && e.InvolvedObject.Name == "shop" && e.Type == corev1.EventTypeWarning &&
				strings.Contains(e.Message, supportPageID) {
				return true
			}
		}
		return false
	})

	t.Run("a page joins without a restart", func(t *testing.T) {
		rig.Create(t, app.PageObjects(support)...)
		rig.WaitServed(t, app.PageKey("support"), metav1.ConditionTrue, v1alpha1.ReasonServing)
		say(t, sim, supportPageID, "3000000000000003")
		waitReply(t, sim, supportPageID, "3000000000000003", "Hello from Support")
	})

	t.Run("a page's Secret changes", func(t *testing.T) {
		key := types.NamespacedName{Namespace: ns, Name: app.SecretName("brand")}
		rig.Update(t, &corev1.Secret{}, key, func(s *corev1.Secret) { s.Data["pageAccessToken"] = []byte("revoked") })
		// The simulator refuses the unknown token: the page (and only it) is not GraphAuthorized.
		rig.Eventually(t, "the new token in use", func() bool {
			say(t, sim, brandPageID, "3000000000000004")
			time.Sleep(200 * time.Millisecond)
			c := graphAuthorized(t, app.PageKey("brand"))
			return c != nil && c.Status == metav1.ConditionFalse
		})
		rig.Update(t, &corev1.Secret{}, key, func(s *corev1.Secret) { s.Data["pageAccessToken"] = []byte("brand-token") })
		rig.Eventually(t, "the restored token in use", func() bool {
			say(t, sim, brandPageID, "3000000000000005")
			time.Sleep(200 * time.Millisecond)
			return len(rig.AppReplies(sim, brandPageID, "3000000000000005")) > 0
		})
		if c := graphAuthorized(t, app.PageKey("support")); c != nil && c.Status != metav1.ConditionTrue {
			t.Fatalf("support's GraphAuthorized changed with brand's token: %+v", c)
		}
	})

	t.Run("a page with a missing Secret is ConfigInvalid", func(t *testing.T) {
		// The operator grants the Secret a page names, whether it exists or not.
		rig.AppUser(t, app, app.SecretName(""), app.SecretName("brand"), app.SecretName("support"), "missing-creds")
		rig.Update(t, &v1alpha1.MessengerPage{}, app.PageKey("support"), func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = "missing-creds"
		})
		c := rig.WaitServed(t, app.PageKey("support"), metav1.ConditionFalse, v1alpha1.ReasonConfigInvalid)
		if !strings.Contains(c.Message, "missing-creds") || !strings.Contains(c.Message, "keeps serving") {
			t.Fatalf("message %q", c.Message)
		}
		rig.Update(t, &v1alpha1.MessengerPage{}, app.PageKey("support"), func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = app.SecretName("support")
		})
		rig.WaitServed(t, app.PageKey("support"), metav1.ConditionTrue, v1alpha1.ReasonServing)
	})

	t.Run("a page leaves: its entries are unserved", func(t *testing.T) {
		before := wh.Metric(t, "messenger_webhook_unserved_entries_total")
		rig.Must(t, rig.Env.Client.Delete(ctx, &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns}}))
		rig.Eventually(t, "support's entries to be unserved", func() bool {
			say(t, sim, supportPageID, "3000000000000006")
			time.Sleep(200 * time.Millisecond)
			return wh.Metric(t, "messenger_webhook_unserved_entries_total") > before
		})
		// Logged once per page per hour: the first unserved entry of support already was.
		if n := wh.Logs.Count(`"entryPage":"` + supportPageID + `"`); n != 1 {
			t.Fatalf("support's page id logged %d times", n)
		}
	})
}

// TestAppDirectoryMode serves an app from manifests: one POST with two pages' entries, signed
// with the app secret, gets each page's own welcome sent with its own token.
func TestAppDirectoryMode(t *testing.T) {
	graph := &atomicHandler{}
	graphSrv := httptest.NewServer(graph)
	t.Cleanup(graphSrv.Close)
	app, support := shopApp("default", graphSrv.URL)
	app.Pages = append(app.Pages, support)
	dir := t.TempDir()
	var docs []string
	for _, o := range app.Objects() {
		b, err := yaml.Marshal(o)
		rig.Must(t, err)
		docs = append(docs, string(b))
	}
	rig.Must(t, os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(strings.Join(docs, "---\n")), 0o600))

	ln := rig.Listen(t)
	sim := rig.NewAppSimulator(t, app, "http://"+ln.Addr().String()+rig.AppHookPath)
	graph.set(sim.Handler())
	wh := rig.Start(t, webhook.Options{App: app.Key(), ManifestsDir: dir, Listener: ln, ReloadInterval: 50 * time.Millisecond})
	wh.WaitReady(t)

	sim.Hold()
	say(t, sim, brandPageID, "3000000000000011")
	say(t, sim, supportPageID, "3000000000000012")
	sim.Flush()
	waitReply(t, sim, brandPageID, "3000000000000011", "Hello from Brand")
	waitReply(t, sim, supportPageID, "3000000000000012", "Hello from Support")
	if n := wh.Logs.Count(`"condition":"Served"`); n < 2 {
		t.Fatalf("Served logged %d times, want once per page", n)
	}

	// A page removed from the files leaves the app.
	docs = docs[:len(docs)-3]
	rig.Must(t, os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(strings.Join(docs, "---\n")), 0o600))
	rig.Eventually(t, "support's entries to be unserved", func() bool {
		say(t, sim, supportPageID, "3000000000000013")
		time.Sleep(100 * time.Millisecond)
		return wh.Metric(t, "messenger_webhook_unserved_entries_total") >= 1
	})
}
