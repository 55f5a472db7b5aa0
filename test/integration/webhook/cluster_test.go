package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/status"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// acme is the page the tests run in namespace ns, calling graph; the tests create its Secret.
func acme(ns string, graph *fakeGraph) *rig.Page {
	return &rig.Page{NS: ns, PageID: pageID, AppID: appID, Welcome: "Hello v1", GraphURL: graph.URL,
		Token: "token-one", AppSecret: "secret-one", VerifyToken: "verify-one"}
}

// setupPage creates the page p with its policy, and the Role and RoleBinding the operator would
// write for its webhook's user. It returns that user's connection.
func setupPage(t *testing.T, p *rig.Page) *rest.Config {
	t.Helper()
	rig.CreatePage(t, p)
	userCfg := rig.WebhookUser(t, p.Key())
	// The Role is as narrow as intended: listing every Secret is refused.
	kube := kubernetes.NewForConfigOrDie(userCfg)
	if _, err := kube.CoreV1().Secrets(p.NS).List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the webhook's user may list all Secrets: %v", err)
	}
	return userCfg
}

func TestClusterModeFollowsThePageLive(t *testing.T) {
	ctx := context.Background()
	c := rig.Env.Client
	const ns = "shop"
	graph := newFakeGraph(t)
	page := acme(ns, graph)
	userCfg := setupPage(t, page)

	// As the operator's Deployment does, the webhook is told the name of the Secret a generated
	// verify token would be in.
	wh := rig.Start(t, webhook.Options{Page: page.Key(), RESTConfig: userCfg, StatusRetryBase: 50 * time.Millisecond,
		VerifyTokenSecret: specs.VerifyTokenSecretName("acme")})
	fb := &messenger{url: wh.URL + "/hooks/acme"}

	// Page and policy are loaded, the Secret is missing: not ready, and the webhook says why.
	rig.Eventually(t, "the missing Secret to be reported", func() bool {
		return wh.Logs.Count(`spec.secretRef: Secret \"creds\" not found`) > 0
	})
	if wh.Ready(t) {
		t.Fatal("ready without the Secret")
	}
	if code := fb.post(t, "secret-one", "2000000000000001", "hi"); code != http.StatusServiceUnavailable {
		t.Fatalf("POST before any configuration: %d, want 503", code)
	}

	rig.CreateSecret(t, page)
	rig.Eventually(t, "readiness once the Secret exists", func() bool { return wh.Ready(t) })

	// Meta's verification, on the ingress path only.
	if code, body := rig.Get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=verify-one&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Fatalf("verification: %d %q", code, body)
	}
	if code, _ := rig.Get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); code != http.StatusForbidden {
		t.Fatalf("verification with a wrong token: %d", code)
	}
	if code, _ := rig.Get(t, wh.URL+"/webhook?hub.mode=subscribe&hub.verify_token=verify-one&hub.challenge=1"); code != http.StatusNotFound {
		t.Fatalf("the default path answered %d while the page sets its own", code)
	}

	const psid = "2000000000000002"
	if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v1" {
		t.Fatalf("first reply %q", got)
	}
	if tok := graph.lastToken(); tok != "token-one" {
		t.Fatalf("Graph called with token %q", tok)
	}

	t.Run("policy edit applies to the next reply", func(t *testing.T) {
		rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello v2"
		})
		fb.askUntil(t, graph, "secret-one", psid, "Hello v2")
	})

	t.Run("an invalid policy keeps the last good one", func(t *testing.T) {
		before := wh.Logs.Count("the last good one keeps serving")
		rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello broken"
			p.Spec.Handoff.Triggers.Patterns = []string{"(unclosed"}
		})
		rig.Eventually(t, "the invalid policy to be logged", func() bool {
			return wh.Logs.Count("the last good one keeps serving") > before
		})
		if !strings.Contains(wh.Logs.String(), "spec.handoff.triggers.patterns[0]") {
			t.Error("the log does not say what is wrong with the policy")
		}
		if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v2" {
			t.Fatalf("reply %q, want the last good policy's", got)
		}
		if !wh.Ready(t) {
			t.Fatal("a bad policy took the webhook out of service")
		}
		rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello v3"
			p.Spec.Handoff.Triggers.Patterns = nil
		})
		fb.askUntil(t, graph, "secret-one", psid, "Hello v3")
	})

	t.Run("app secret rotation", func(t *testing.T) {
		rig.Update(t, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: "creds"}, func(s *corev1.Secret) {
			s.Data["appSecret"] = []byte("secret-two")
		})
		rig.Eventually(t, "the new app secret to be accepted", func() bool {
			return fb.post(t, "secret-two", psid, "hi") == http.StatusOK
		})
		if code := fb.post(t, "secret-one", psid, "hi"); code != http.StatusForbidden {
			t.Fatalf("a request signed with the old secret: %d, want 403", code)
		}
		if got := fb.ask(t, graph, "secret-two", psid); got != "Hello v3" {
			t.Fatalf("reply %q", got)
		}
	})

	t.Run("GraphAuthorized follows the Graph API", func(t *testing.T) {
		key := types.NamespacedName{Namespace: ns, Name: "acme"}
		graph.refuseToken.Store(true)
		if code := fb.post(t, "secret-two", "2000000000000003", "hi"); code != http.StatusOK {
			t.Fatalf("POST: %d", code)
		}
		cond := rig.WaitCondition(t, key, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
		if !strings.Contains(cond.Message, "190") || strings.Contains(cond.Message, "token-one") {
			t.Errorf("condition message %q", cond.Message)
		}
		var p v1alpha1.MessengerPage
		rig.Must(t, c.Get(ctx, key, &p))
		if cond.ObservedGeneration != p.Generation {
			t.Errorf("observedGeneration %d, page generation %d", cond.ObservedGeneration, p.Generation)
		}
		if !managedBy(&p, status.FieldManager) {
			t.Errorf("the condition is not owned by %s: %+v", status.FieldManager, p.ManagedFields)
		}
		graph.refuseToken.Store(false)
		if got := fb.ask(t, graph, "secret-two", "2000000000000004"); got != "Hello v3" {
			t.Fatalf("reply %q", got)
		}
		rig.WaitCondition(t, key, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	})

	t.Run("policyRef edit switches policies", func(t *testing.T) {
		rig.Must(t, c.Create(ctx, rig.Policy(ns, "night", "Good night")))
		rig.Update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.PolicyRef.Name = "night"
		})
		rig.Grant(t, page.Key()) // the operator follows the page with the Role
		fb.askUntil(t, graph, "secret-two", psid, "Good night")
	})

	t.Run("secretRef edit switches Secrets", func(t *testing.T) {
		rig.Must(t, c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "creds-2", Namespace: ns},
			StringData: map[string]string{"pageAccessToken": "token-two", "appSecret": "secret-three", "verifyToken": "verify-two"},
		}))
		rig.Update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = "creds-2"
		})
		rig.Grant(t, page.Key())
		rig.Eventually(t, "the new Secret's app secret", func() bool {
			return fb.post(t, "secret-three", psid, "hi") == http.StatusOK
		})
		if got := fb.ask(t, graph, "secret-three", psid); got != "Good night" {
			t.Fatalf("reply %q", got)
		}
		if tok := graph.lastToken(); tok != "token-two" {
			t.Fatalf("Graph called with token %q", tok)
		}
		rig.Update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = "creds"
		})
		rig.Grant(t, page.Key())
		rig.Eventually(t, "the first Secret again", func() bool {
			return fb.post(t, "secret-two", psid, "hi") == http.StatusOK
		})
	})

	t.Run("the generated verify token comes from the Secret the Deployment names, not from status", func(t *testing.T) {
		// The user's Secret loses its verify token; the operator generates one into the Secret
		// the webhook was told of. The page's status names another Secret (with a token of its
		// own, and readable): the webhook must not take configuration from status.
		rig.Must(t, c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: specs.VerifyTokenSecretName("acme"), Namespace: ns},
			StringData: map[string]string{"verifyToken": "generated-one"},
		}))
		rig.Must(t, c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "decoy", Namespace: ns},
			StringData: map[string]string{"verifyToken": "decoy-one"},
		}))
		rig.Grant(t, page.Key(), "decoy")
		rig.Update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Status.VerifyTokenSecret = "decoy"
		}, rig.Status)
		rig.Update(t, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: "creds"}, func(s *corev1.Secret) {
			delete(s.Data, "verifyToken")
		})
		rig.Eventually(t, "the generated verify token to be used", func() bool {
			code, body := rig.Get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=generated-one&hub.challenge=42")
			return code == 200 && body == "42"
		})
		if code, _ := rig.Get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=decoy-one&hub.challenge=43"); code != http.StatusForbidden {
			t.Fatalf("the token of the Secret named in status was accepted: %d", code)
		}
	})

	if _, err := wh.Stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, s := range []string{"token-one", "token-two", "secret-one", "secret-two", "secret-three", "verify-one", "verify-two", "generated-one", "decoy-one"} {
		if strings.Contains(wh.Logs.String(), s) {
			t.Errorf("a secret (%s) reached the logs", s)
		}
	}
}

func managedBy(p *v1alpha1.MessengerPage, manager string) bool {
	for _, mf := range p.ManagedFields {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "status" &&
			mf.FieldsV1 != nil && strings.Contains(mf.FieldsV1.GetRawString(), `"k:{\"type\":\"GraphAuthorized\"}"`) {
			return true
		}
	}
	return false
}
