package webhook

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/cmd/webhook/app"
	"github.com/messenger-operator/messenger-operator/internal/pagestatus"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func policy(ns, name, welcome string) *v1alpha1.HandoverPolicy {
	return &v1alpha1.HandoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: welcome}},
	}
}

// setupPage creates, in a new namespace ns, the policy "support" (welcome "Hello v1"), the page
// "acme" calling graph, and the Role and RoleBinding the operator would write for its webhook's
// user. It returns that user's connection.
func setupPage(t *testing.T, ns string, graph *fakeGraph) *rest.Config {
	t.Helper()
	ctx := context.Background()
	c := env.Client
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(t, c.Create(ctx, policy(ns, "support", "Hello v1")))
	page := &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns},
		Spec: v1alpha1.MessengerPageSpec{
			PageID: pageID, AppID: appID,
			SecretRef: v1alpha1.SecretReference{Name: "creds"},
			PolicyRef: v1alpha1.LocalReference{Name: "support"},
			GraphAPI:  v1alpha1.GraphAPISpec{BaseURL: graph.URL, MaxSendsPerSecond: ptr.To[int32](0)},
			Ingress:   &v1alpha1.IngressSpec{Host: "acme.example", Path: "/hooks/acme"},
		},
	}
	must(t, c.Create(ctx, page))
	// The webhook runs as its ServiceAccount with the Role and RoleBinding the operator writes.
	grant(t, ns)
	binding := specs.RoleBinding(specs.Webhook{Page: getPage(t, ns)})
	_, err := kubernetes.NewForConfigOrDie(env.Config).RbacV1().RoleBindings(ns).Apply(ctx, binding, applyOpts)
	must(t, err)
	sa := "system:serviceaccount:" + ns + ":" + specs.WebhookName("acme")
	userCfg, err := env.AddUser(sa, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	must(t, err)
	// The Role is as narrow as intended: listing every Secret is refused.
	kube := kubernetes.NewForConfigOrDie(userCfg)
	if _, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the webhook's user may list all Secrets: %v", err)
	}
	return userCfg
}

var applyOpts = metav1.ApplyOptions{FieldManager: "messenger-operator", Force: true}

// grant applies the Role the operator writes for the page as it is now, granting the user's
// Secret and the generated one (as when the generated verify token is in use).
func grant(t *testing.T, ns string) {
	t.Helper()
	page := getPage(t, ns)
	role := specs.Role(specs.Webhook{Page: page}, page.Spec.SecretRef.Name, specs.VerifyTokenSecretName(page.Name))
	_, err := kubernetes.NewForConfigOrDie(env.Config).RbacV1().Roles(ns).Apply(context.Background(), role, applyOpts)
	must(t, err)
}

func getPage(t *testing.T, ns string) *v1alpha1.MessengerPage {
	t.Helper()
	var p v1alpha1.MessengerPage
	must(t, env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "acme"}, &p))
	return &p
}

func createSecret(t *testing.T, ns string) {
	t.Helper()
	must(t, env.Client.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns},
		StringData: map[string]string{"pageAccessToken": "token-one", "appSecret": "secret-one", "verifyToken": "verify-one"},
	}))
}

func TestClusterModeFollowsThePageLive(t *testing.T) {
	ctx := context.Background()
	c := env.Client
	const ns = "shop"
	graph := newFakeGraph(t)
	userCfg := setupPage(t, ns, graph)

	wh := start(t, app.Options{Page: types.NamespacedName{Namespace: ns, Name: "acme"}, RESTConfig: userCfg, StatusRetryBase: 50 * time.Millisecond})
	fb := &messenger{url: wh.webURL + "/hooks/acme"}

	// Page and policy are loaded, the Secret is missing: not ready, and the webhook says why.
	eventually(t, "the missing Secret to be reported", func() bool {
		return wh.logs.count(`spec.secretRef: Secret \"creds\" not found`) > 0
	})
	if wh.ready(t) {
		t.Fatal("ready without the Secret")
	}
	if code := fb.post(t, "secret-one", "2000000000000001", "hi"); code != http.StatusServiceUnavailable {
		t.Fatalf("POST before any configuration: %d, want 503", code)
	}

	createSecret(t, ns)
	eventually(t, "readiness once the Secret exists", func() bool { return wh.ready(t) })

	// Meta's verification, on the ingress path only.
	if code, body := get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=verify-one&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Fatalf("verification: %d %q", code, body)
	}
	if code, _ := get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); code != http.StatusForbidden {
		t.Fatalf("verification with a wrong token: %d", code)
	}
	if code, _ := get(t, wh.webURL+"/webhook?hub.mode=subscribe&hub.verify_token=verify-one&hub.challenge=1"); code != http.StatusNotFound {
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
		update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello v2"
		})
		fb.askUntil(t, graph, "secret-one", psid, "Hello v2")
	})

	t.Run("an invalid policy keeps the last good one", func(t *testing.T) {
		before := wh.logs.count("the last good one keeps serving")
		update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello broken"
			p.Spec.Handoff.Triggers.Patterns = []string{"(unclosed"}
		})
		eventually(t, "the invalid policy to be logged", func() bool {
			return wh.logs.count("the last good one keeps serving") > before
		})
		if !strings.Contains(wh.logs.String(), "spec.handoff.triggers.patterns[0]") {
			t.Error("the log does not say what is wrong with the policy")
		}
		if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v2" {
			t.Fatalf("reply %q, want the last good policy's", got)
		}
		if !wh.ready(t) {
			t.Fatal("a bad policy took the webhook out of service")
		}
		update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
			p.Spec.Welcome.Text = "Hello v3"
			p.Spec.Handoff.Triggers.Patterns = nil
		})
		fb.askUntil(t, graph, "secret-one", psid, "Hello v3")
	})

	t.Run("app secret rotation", func(t *testing.T) {
		update(t, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: "creds"}, func(s *corev1.Secret) {
			s.Data["appSecret"] = []byte("secret-two")
		})
		eventually(t, "the new app secret to be accepted", func() bool {
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
		cond := waitCondition(t, key, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
		if !strings.Contains(cond.Message, "190") || strings.Contains(cond.Message, "token-one") {
			t.Errorf("condition message %q", cond.Message)
		}
		var p v1alpha1.MessengerPage
		must(t, c.Get(ctx, key, &p))
		if cond.ObservedGeneration != p.Generation {
			t.Errorf("observedGeneration %d, page generation %d", cond.ObservedGeneration, p.Generation)
		}
		if !managedBy(&p, pagestatus.FieldManager) {
			t.Errorf("the condition is not owned by %s: %+v", pagestatus.FieldManager, p.ManagedFields)
		}
		graph.refuseToken.Store(false)
		if got := fb.ask(t, graph, "secret-two", "2000000000000004"); got != "Hello v3" {
			t.Fatalf("reply %q", got)
		}
		waitCondition(t, key, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	})

	t.Run("policyRef edit switches policies", func(t *testing.T) {
		must(t, c.Create(ctx, policy(ns, "night", "Good night")))
		update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.PolicyRef.Name = "night"
		})
		grant(t, ns) // the operator follows the page with the Role
		fb.askUntil(t, graph, "secret-two", psid, "Good night")
	})

	t.Run("secretRef edit switches Secrets", func(t *testing.T) {
		must(t, c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "creds-2", Namespace: ns},
			StringData: map[string]string{"pageAccessToken": "token-two", "appSecret": "secret-three", "verifyToken": "verify-two"},
		}))
		update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = "creds-2"
		})
		grant(t, ns)
		eventually(t, "the new Secret's app secret", func() bool {
			return fb.post(t, "secret-three", psid, "hi") == http.StatusOK
		})
		if got := fb.ask(t, graph, "secret-three", psid); got != "Good night" {
			t.Fatalf("reply %q", got)
		}
		if tok := graph.lastToken(); tok != "token-two" {
			t.Fatalf("Graph called with token %q", tok)
		}
		update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Spec.SecretRef.Name = "creds"
		})
		grant(t, ns)
		eventually(t, "the first Secret again", func() bool {
			return fb.post(t, "secret-two", psid, "hi") == http.StatusOK
		})
	})

	t.Run("the generated verify token", func(t *testing.T) {
		// The user's Secret loses its verify token; the operator generates one and names it in
		// the page's status.
		must(t, c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: specs.VerifyTokenSecretName("acme"), Namespace: ns},
			StringData: map[string]string{"verifyToken": "generated-one"},
		}))
		update(t, &v1alpha1.MessengerPage{}, types.NamespacedName{Namespace: ns, Name: "acme"}, func(p *v1alpha1.MessengerPage) {
			p.Status.VerifyTokenSecret = specs.VerifyTokenSecretName("acme")
		}, status)
		update(t, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: "creds"}, func(s *corev1.Secret) {
			delete(s.Data, "verifyToken")
		})
		eventually(t, "the generated verify token to be used", func() bool {
			code, body := get(t, fb.url+"?hub.mode=subscribe&hub.verify_token=generated-one&hub.challenge=42")
			return code == 200 && body == "42"
		})
	})

	if err := wh.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, s := range []string{"token-one", "token-two", "secret-one", "secret-two", "secret-three", "verify-one", "verify-two", "generated-one"} {
		if strings.Contains(wh.logs.String(), s) {
			t.Errorf("a secret (%s) reached the logs", s)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// status makes update write the status subresource.
const status = true

// update reads obj, edits it and writes it back, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, key types.NamespacedName, edit func(T), statusOnly ...bool) {
	t.Helper()
	ctx := context.Background()
	eventually(t, "an update of "+key.String(), func() bool {
		if err := env.Client.Get(ctx, key, obj); err != nil {
			t.Fatal(err)
		}
		edit(obj)
		var err error
		if len(statusOnly) > 0 && statusOnly[0] {
			err = env.Client.Status().Update(ctx, obj)
		} else {
			err = env.Client.Update(ctx, obj)
		}
		if err != nil && !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
		return err == nil
	})
}

func waitCondition(t *testing.T, key types.NamespacedName, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	eventually(t, fmt.Sprintf("GraphAuthorized=%s (%s)", want, reason), func() bool {
		var p v1alpha1.MessengerPage
		must(t, env.Client.Get(context.Background(), key, &p))
		cond = meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionGraphAuthorized)
		return cond != nil && cond.Status == want && cond.Reason == reason
	})
	return *cond
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
