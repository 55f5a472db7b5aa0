package controllers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	messengerv1alpha1ac "github.com/messenger-operator/messenger-operator/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

func newApp(ns, name, appID string) *messengerv1alpha1.MessengerApp {
	return &messengerv1alpha1.MessengerApp{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: messengerv1alpha1.MessengerAppSpec{
			AppID:     appID,
			SecretRef: messengerv1alpha1.AppSecretReference{Name: name + "-creds"},
			GraphAPI:  messengerv1alpha1.AppGraphAPISpec{BaseURL: deadGraph},
		},
	}
}

// appPage is a page of app using Secret secret and policy "support".
func appPage(ns, name, pageID, app, secret string) *messengerv1alpha1.MessengerPage {
	p := newPage(ns, name, pageID, "")
	p.Spec.AppRef = &messengerv1alpha1.LocalReference{Name: app}
	p.Spec.SecretRef.Name = secret
	return p
}

func appWebhookKey(a *messengerv1alpha1.MessengerApp) types.NamespacedName {
	return types.NamespacedName{Namespace: a.Namespace, Name: specs.AppWebhookName(a.Name)}
}

// setDeploymentAvailable plays the Deployment controller for the Deployment at k.
func (s *pageSuite) setDeploymentAvailable(t *testing.T, k types.NamespacedName) {
	t.Helper()
	s.eventually(t, "Deployment "+k.String(), func() (bool, string) {
		err := s.c.Get(s.ctx, k, &appsv1.Deployment{})
		return err == nil, fmt.Sprint(err)
	})
	s.must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := &appsv1.Deployment{}
		if err := s.c.Get(s.ctx, k, d); err != nil {
			return err
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		return s.c.Status().Update(s.ctx, d)
	}))
}

// serve plays the app's webhook: it applies Served on the page for generation gen.
func (s *pageSuite) serve(t *testing.T, p *messengerv1alpha1.MessengerPage, gen int64) {
	t.Helper()
	c := metav1.Condition{Type: messengerv1alpha1.ConditionServed, Status: metav1.ConditionTrue, Reason: messengerv1alpha1.ReasonServing,
		ObservedGeneration: gen, LastTransitionTime: metav1.Now()}
	ac := messengerv1alpha1ac.MessengerPage(p.Name, p.Namespace).WithStatus(
		messengerv1alpha1ac.MessengerPageStatus().WithConditions(messengerv1alpha1.ConditionApply(c)))
	s.must(t, s.c.Status().Apply(s.ctx, ac, client.FieldOwner(messengerv1alpha1.FieldManagerWebhook), client.ForceOwnership))
}

func (s *pageSuite) waitApp(t *testing.T, a *messengerv1alpha1.MessengerApp, what string, cond func(*messengerv1alpha1.MessengerApp) bool) *messengerv1alpha1.MessengerApp {
	t.Helper()
	got := &messengerv1alpha1.MessengerApp{}
	s.eventually(t, what, func() (bool, string) {
		if err := s.c.Get(s.ctx, key(a), got); err != nil {
			return false, err.Error()
		}
		return got.Status.ObservedGeneration == got.Generation && cond(got), fmt.Sprintf("%+v", got.Status)
	})
	return got
}

func appReadyIs(status metav1.ConditionStatus, reason string) func(*messengerv1alpha1.MessengerApp) bool {
	return func(a *messengerv1alpha1.MessengerApp) bool {
		c := apimeta.FindStatusCondition(a.Status.Conditions, messengerv1alpha1.ConditionReady)
		return c != nil && c.Status == status && c.Reason == reason
	}
}

func (s *pageSuite) roleSecrets(t *testing.T, a *messengerv1alpha1.MessengerApp) []string {
	t.Helper()
	r := &rbacv1.Role{}
	if err := s.c.Get(s.ctx, appWebhookKey(a), r); err != nil {
		return []string{err.Error()}
	}
	for _, rule := range r.Rules {
		if slices.Contains(rule.Resources, "secrets") {
			return rule.ResourceNames
		}
	}
	return nil
}

// An app gets one webhook: its Deployment runs --app with APP and the generated verify token's
// Secret, its Role follows its pages, its status counts the pages served; a page of the app owns
// nothing and is Ready only once the app is Ready and its pods serve the page's generation.
func testAppWebhook(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "app")
	s.secret(t, ns, "shop-creds", "appSecret") // no verify token: one is generated
	s.secret(t, ns, "brand-token", "pageAccessToken")
	s.policy(t, ns, "support")

	// A page of an app that does not exist yet.
	page := appPage(ns, "brand", "9100", "shop", "brand-token")
	s.must(t, s.c.Create(s.ctx, page))
	s.waitReady(t, page, want{metav1.ConditionFalse, messengerv1alpha1.ReasonAppNotFound, `MessengerApp "shop" not found`, status.FailedStatus})

	app := newApp(ns, "shop", "9000")
	s.must(t, s.c.Create(s.ctx, app))
	d := &appsv1.Deployment{}
	s.eventually(t, "the app's Deployment", func() (bool, string) {
		err := s.c.Get(s.ctx, appWebhookKey(app), d)
		return err == nil, fmt.Sprint(err)
	})
	c := d.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if !slices.Contains(c.Args, "--app=$(APP)") || env["APP"] != "shop" || env["VERIFY_TOKEN_SECRET"] != "shop-verify-token-app" || c.Image != testImage {
		t.Fatalf("args %v env %v image %s", c.Args, env, c.Image)
	}
	gen := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "shop-verify-token-app"}, gen))
	if len(gen.Data[messengerv1alpha1.GeneratedVerifyTokenKey]) < 32 || !metav1.IsControlledBy(gen, s.getApp(t, app)) {
		t.Fatal("generated verify token Secret")
	}
	for _, obj := range []client.Object{&corev1.Service{}, &corev1.ServiceAccount{}, &rbacv1.RoleBinding{}} {
		s.eventually(t, fmt.Sprintf("the app's %T", obj), func() (bool, string) {
			err := s.c.Get(s.ctx, appWebhookKey(app), obj)
			return err == nil, fmt.Sprint(err)
		})
	}
	s.eventually(t, "the Role granting the page's Secret", func() (bool, string) {
		got := s.roleSecrets(t, app)
		return slices.Equal(got, []string{"brand-token", "shop-creds", "shop-verify-token-app"}), fmt.Sprint(got)
	})
	// Nothing per page.
	if err := s.c.Get(s.ctx, webhookKey(page), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a page of an app has its own Deployment: %v", err)
	}

	s.waitReady(t, page, want{metav1.ConditionFalse, messengerv1alpha1.ReasonAppNotReady, `MessengerApp "shop" is not Ready`, status.InProgressStatus})
	s.setDeploymentAvailable(t, appWebhookKey(app))
	got := s.waitApp(t, app, "app Ready", appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable))
	if got.Status.WebhookURL != "http://shop-webhook-app."+ns+".svc:80/webhook" || got.Status.Pages != 0 || got.Status.VerifyTokenSecret != "shop-verify-token-app" {
		t.Fatalf("app status %+v", got.Status)
	}
	// The app is Ready, the page waits for its pods to serve it.
	s.waitReady(t, page, want{metav1.ConditionFalse, "WaitingServed", "", status.InProgressStatus})
	s.serve(t, page, s.get(t, page).Generation)
	p := s.waitReady(t, page, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, `MessengerApp "shop"`, status.CurrentStatus})
	if p.Status.WebhookURL != got.Status.WebhookURL {
		t.Fatalf("page URL %q", p.Status.WebhookURL)
	}
	s.waitApp(t, app, "one page served", func(a *messengerv1alpha1.MessengerApp) bool { return a.Status.Pages == 1 })

	// A new generation of the page is not Ready until the pods serve it.
	s.modify(t, page, func() { page.Spec.BusinessName = "Brand" })
	s.waitReady(t, page, want{metav1.ConditionFalse, messengerv1alpha1.ReasonLoading, "serves generation 1 of the page, not yet 2", status.InProgressStatus})
	s.serve(t, page, 2)
	s.waitReady(t, page, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})

	// The page leaves: its Secret is no longer granted.
	s.must(t, s.c.Delete(s.ctx, page))
	s.eventually(t, "the Role without the page's Secret", func() (bool, string) {
		got := s.roleSecrets(t, app)
		return slices.Equal(got, []string{"shop-creds", "shop-verify-token-app"}), fmt.Sprint(got)
	})
	s.waitApp(t, app, "no page served", func(a *messengerv1alpha1.MessengerApp) bool { return a.Status.Pages == 0 })
}

func (s *pageSuite) getApp(t *testing.T, a *messengerv1alpha1.MessengerApp) *messengerv1alpha1.MessengerApp {
	t.Helper()
	out := &messengerv1alpha1.MessengerApp{}
	s.must(t, s.c.Get(s.ctx, key(a), out))
	return out
}

// Two apps of one appID in a namespace: the newer is Stalled with Conflict and owns nothing; in
// another namespace the newer is refused without naming the other namespace.
func testAppClaims(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appclaim")
	s.secret(t, ns, "a-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "b-creds", "appSecret", "verifyToken")
	first := newApp(ns, "a", "9200")
	s.must(t, s.c.Create(s.ctx, first))
	s.waitApp(t, first, "first app reconciled", func(a *messengerv1alpha1.MessengerApp) bool { return a.Status.WebhookURL != "" })
	second := newApp(ns, "b", "9200")
	s.must(t, s.c.Create(s.ctx, second))
	got := s.waitApp(t, second, "second app in conflict", appReadyIs(metav1.ConditionFalse, messengerv1alpha1.ReasonConflict))
	if c := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionStalled); c == nil ||
		c.Message != `appID "9200" is already claimed by MessengerApp "a", created earlier in this namespace; delete one of the two` {
		t.Fatalf("stalled %+v", c)
	}
	if err := s.c.Get(s.ctx, appWebhookKey(second), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the newer app owns a Deployment: %v", err)
	}

	other := s.namespace(t, "appclaim")
	s.secret(t, other, "c-creds", "appSecret", "verifyToken")
	third := newApp(other, "c", "9200")
	s.must(t, s.c.Create(s.ctx, third))
	got = s.waitApp(t, third, "app in another namespace refused", appReadyIs(metav1.ConditionFalse, messengerv1alpha1.ReasonConflict))
	for _, c := range got.Status.Conditions {
		if c.Message == "" || strings.Contains(c.Message, ns) || strings.Contains(c.Message, `"a"`) {
			t.Fatalf("condition %s names the other tenant's objects: %q", c.Type, c.Message)
		}
	}

	// The older app goes: the newer of the namespace takes the appID.
	s.must(t, s.c.Delete(s.ctx, first))
	s.eventually(t, "the second app's Deployment", func() (bool, string) {
		err := s.c.Get(s.ctx, appWebhookKey(second), &appsv1.Deployment{})
		return err == nil, fmt.Sprint(err)
	})
}

// A standalone page moved onto an app: while a MessengerApp has its appID the page is Stalled
// (AppManaged) and its own webhook keeps running; once moved, its objects stay until the app's
// pods report it Served, then they go.
func testAppMove(t *testing.T, s *pageSuite) {
	page := s.readyPage(t, "appmove", nil)
	ns := page.Namespace
	s.setAvailable(t, page)
	s.waitReady(t, page, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})

	s.secret(t, ns, "move-creds", "appSecret", "verifyToken")
	app := newApp(ns, "move", page.Spec.AppID)
	app.Spec.SecretRef.Name = "move-creds"
	s.must(t, s.c.Create(s.ctx, app))
	s.waitReady(t, page, want{metav1.ConditionFalse, messengerv1alpha1.ReasonAppManaged, `served by MessengerApp "move"`, status.FailedStatus})
	s.must(t, s.c.Get(s.ctx, webhookKey(page), &appsv1.Deployment{}))
	s.setDeploymentAvailable(t, appWebhookKey(app))

	s.modify(t, page, func() {
		page.Spec.AppID = ""
		page.Spec.AppRef = &messengerv1alpha1.LocalReference{Name: "move"}
		page.Spec.GraphAPI.BaseURL = "" // the app's now
	})
	s.waitReady(t, page, want{metav1.ConditionFalse, "WaitingServed", "", status.InProgressStatus})
	s.consistently(t, "the page's own webhook kept until Served", conflictQuiet, func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(page), &appsv1.Deployment{})
		return err == nil, fmt.Sprint(err)
	})
	s.serve(t, page, s.get(t, page).Generation)
	s.waitReady(t, page, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	s.eventually(t, "the page's own webhook objects deleted", func() (bool, string) {
		var left []string
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
			if err := s.c.Get(s.ctx, webhookKey(page), obj); !apierrors.IsNotFound(err) {
				left = append(left, fmt.Sprintf("%T", obj))
			}
		}
		return len(left) == 0, fmt.Sprint(left)
	})
}

// Two apps in the same namespace: A's webhook reads its own and its pages' Secrets, never B's;
// the grants follow a page joining and leaving.
func testAppRBAC(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "apprbac")
	s.secret(t, ns, "a-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "b-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "pa-token", "pageAccessToken")
	s.secret(t, ns, "pb-token", "pageAccessToken")
	s.policy(t, ns, "support")
	a, b := newApp(ns, "a", "9300"), newApp(ns, "b", "9301")
	s.must(t, s.c.Create(s.ctx, a))
	s.must(t, s.c.Create(s.ctx, b))
	pa, pb := appPage(ns, "pa", "9310", "a", "pa-token"), appPage(ns, "pb", "9311", "b", "pb-token")
	s.must(t, s.c.Create(s.ctx, pa))
	s.must(t, s.c.Create(s.ctx, pb))
	s.eventually(t, "both Roles", func() (bool, string) {
		ga, gb := s.roleSecrets(t, a), s.roleSecrets(t, b)
		return slices.Contains(ga, "pa-token") && slices.Contains(gb, "pb-token"), fmt.Sprint(ga, gb)
	})

	const group = "messenger.handover.dev"
	sa := "system:serviceaccount:" + ns + ":" + specs.AppWebhookName("a")
	can := func(verb, group, resource, sub, name string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: sa, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub, Name: name},
		}}
		s.must(t, s.c.Create(s.ctx, sar))
		return sar.Status.Allowed
	}
	for _, c := range []struct {
		verb, group, resource, sub, name string
		allowed                          bool
	}{
		{"get", "", "secrets", "", "a-creds", true},
		{"watch", "", "secrets", "", "pa-token", true},
		{"get", "", "secrets", "", "pa-token", true},
		{"get", "", "secrets", "", "b-creds", false},
		{"get", "", "secrets", "", "pb-token", false},
		{"list", "", "secrets", "", "", false},
		{"get", group, "messengerapps", "", "a", true},
		{"get", group, "messengerapps", "", "b", false},
		{"patch", group, "messengerapps", "status", "a", true},
		{"patch", group, "messengerapps", "status", "b", false},
		{"patch", group, "messengerapps", "", "a", false},
		{"list", group, "messengerpages", "", "", true},
		{"watch", group, "messengerpages", "", "", true},
		{"patch", group, "messengerpages", "status", "pa", true},
		{"patch", group, "messengerpages", "status", "pb", false},
		{"patch", group, "messengerpages", "", "pa", false},
		{"list", group, "handoverpolicies", "", "", true},
		{"create", "", "events", "", "", true},
		{"update", "", "secrets", "", "a-creds", false},
		{"get", "", "pods", "", "", false},
	} {
		if got := can(c.verb, c.group, c.resource, c.sub, c.name); got != c.allowed {
			t.Errorf("%s %s %s/%s %q: allowed=%v, want %v", sa, c.verb, c.resource, c.sub, c.name, got, c.allowed)
		}
	}

	// pb joins app a: a's webhook may read its Secret; pa leaves: it may no longer read pa's.
	s.modify(t, pb, func() { pb.Spec.AppRef.Name = "a" })
	s.eventually(t, "pb-token granted to a", func() (bool, string) { return can("get", "", "secrets", "", "pb-token"), "" })
	s.must(t, s.c.Delete(s.ctx, pa))
	s.eventually(t, "pa-token no longer granted", func() (bool, string) { return !can("get", "", "secrets", "", "pa-token"), "" })
	if can("patch", group, "messengerpages", "status", "pa") {
		t.Fatal("the status of a page that left is still granted")
	}
}

// With spec.subscription the app registers its callback at Meta once its webhook is available,
// off the reconcile workers; the app is Ready only once Meta verified it, and status says when.
func testAppCallback(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appcb")
	appID := "9400" + fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, "9401"+fmt.Sprint(nsCounter.Load()))
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cb-creds", Namespace: ns},
		Data: map[string][]byte{"appSecret": []byte(m.appSecret), "verifyToken": []byte("app-verify-token")}}))
	app := newApp(ns, "cb", appID)
	app.Spec.GraphAPI.BaseURL = m.graph.URL
	app.Spec.Subscription = &messengerv1alpha1.AppSubscriptionSpec{}
	m.mu.Lock()
	m.verify["cb-webhook-app."+ns+".svc"] = "app-verify-token"
	m.mu.Unlock()
	s.must(t, s.c.Create(s.ctx, app))
	got := s.waitApp(t, app, "waiting for the webhook", func(a *messengerv1alpha1.MessengerApp) bool {
		c := apimeta.FindStatusCondition(a.Status.Conditions, messengerv1alpha1.ConditionCallbackRegistered)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == messengerv1alpha1.ReasonWaitingForWebhook
	})
	if n := m.graphCalls(); n != 0 {
		t.Fatalf("%d Graph calls before the webhook is available", n)
	}
	s.setDeploymentAvailable(t, appWebhookKey(got))
	got = s.waitApp(t, app, "app Ready with its callback", appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable))
	url := "http://cb-webhook-app." + ns + ".svc:80/webhook"
	cb := got.Status.Callback
	if cb == nil || cb.URL != url || cb.VerifiedTime == nil || !slices.Equal(slices.Sorted(slices.Values(cb.Fields)), handoverFields) {
		t.Fatalf("status.callback %+v", cb)
	}
	if c := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionCallbackRegistered); c == nil || c.Reason != messengerv1alpha1.ReasonCallbackVerified {
		t.Fatalf("CallbackRegistered %+v", c)
	}
	if m.appCallback() != url || len(m.verifiedHosts()) != 1 {
		t.Fatalf("at Meta: %q verified %v", m.appCallback(), m.verifiedHosts())
	}
	for _, c := range got.Status.Conditions {
		if strings.Contains(c.Message, "app-verify-token") || strings.Contains(c.Message, m.appSecret) {
			t.Fatalf("condition %s shows a secret", c.Type)
		}
	}
	if want := messengerv1alpha1.VerifyTokenFingerprint([]byte(m.appSecret), []byte("app-verify-token")); cb.VerifyToken != want {
		t.Fatalf("status.callback.verifyToken %q, want %q", cb.VerifyToken, want)
	}
	testAppVerifyTokenRotation(t, s, m, got, "cb-webhook-app."+ns+".svc")
}

// A rotated verify token is registered at Meta (which checks it at once) only after the app's
// webhook reports it loaded; until then the callback in place keeps delivering.
func testAppVerifyTokenRotation(t *testing.T, s *pageSuite, m *metaSide, app *messengerv1alpha1.MessengerApp, host string) {
	verified := len(m.verifiedHosts())
	secret := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: app.Namespace, Name: "cb-creds"}, secret))
	secret.Data["verifyToken"] = []byte("app-verify-token-2")
	s.must(t, s.c.Update(s.ctx, secret))
	s.waitApp(t, app, "the rotation waits for the webhook", func(a *messengerv1alpha1.MessengerApp) bool {
		c := apimeta.FindStatusCondition(a.Status.Conditions, messengerv1alpha1.ConditionCallbackRegistered)
		return c != nil && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, "rotated verify token is registered once")
	})
	if n := len(m.verifiedHosts()); n != verified {
		t.Fatalf("%d verification(s) at Meta before the webhook loaded the new token", n-verified)
	}

	// The webhook loads it (it answers Meta with it) and says so in status.
	m.mu.Lock()
	m.verify[host] = "app-verify-token-2"
	m.mu.Unlock()
	want := messengerv1alpha1.VerifyTokenFingerprint([]byte(m.appSecret), []byte("app-verify-token-2"))
	cur := &messengerv1alpha1.MessengerApp{}
	s.must(t, s.c.Get(s.ctx, key(app), cur))
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Status.WebhookVerifyToken = want
	s.must(t, s.c.Status().Patch(s.ctx, cur, patch, client.FieldOwner(messengerv1alpha1.FieldManagerWebhook)))
	got := s.waitApp(t, app, "the new token registered", func(a *messengerv1alpha1.MessengerApp) bool {
		return a.Status.Callback != nil && a.Status.Callback.VerifyToken == want
	})
	if n := len(m.verifiedHosts()); n != verified+1 {
		t.Fatalf("%d verification(s) at Meta after the webhook loaded the new token, want 1", n-verified)
	}
	if c := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionCallbackRegistered); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("CallbackRegistered %+v", c)
	}
}

// The app samples (config/samples/app) are accepted by the API server and reconciled: one webhook
// for the app, the pages' Secrets granted to it, each page waiting for its app.
func testAppSamples(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appsamples")
	s.policy(t, ns, "support")
	dir := filepath.Join(testenv.RepoRoot(), "config", "samples")
	var app *messengerv1alpha1.MessengerApp
	var pages []*messengerv1alpha1.MessengerPage
	for _, f := range []string{"placeholder-secrets/app.yaml", "app/messengerapp.yaml", "app/messengerpages.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		s.must(t, err)
		for _, doc := range strings.Split(string(b), "\n---\n") {
			u := &unstructured.Unstructured{}
			s.must(t, yaml.Unmarshal([]byte(doc), &u.Object))
			u.SetNamespace(ns)
			if u.GetKind() == "MessengerPage" {
				// Other tests' samples claim the same placeholder pageIDs.
				s.must(t, unstructured.SetNestedField(u.Object, fmt.Sprintf("95%d%d", nsCounter.Load(), len(pages)), "spec", "pageID"))
			}
			s.must(t, s.c.Create(s.ctx, u))
			switch u.GetKind() {
			case "MessengerApp":
				app = &messengerv1alpha1.MessengerApp{}
				s.must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, app))
			case "MessengerPage":
				p := &messengerv1alpha1.MessengerPage{}
				s.must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p))
				pages = append(pages, p)
			}
		}
	}
	if app == nil || len(pages) != 2 {
		t.Fatalf("samples: app %v, %d pages", app, len(pages))
	}
	s.eventually(t, "the app's Role granting both pages' Secrets", func() (bool, string) {
		got := s.roleSecrets(t, app)
		return slices.Equal(got, []string{"acme-app-credentials", "acme-brand-token", "acme-support-token", "acme-verify-token-app"}), fmt.Sprint(got)
	})
	for _, p := range pages {
		if p.Spec.AppRef == nil || p.Spec.AppRef.Name != app.Name {
			t.Fatalf("page %s refers to %v", p.Name, p.Spec.AppRef)
		}
		s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonAppNotReady, "", status.InProgressStatus})
	}
}

// An app with served pages in steady state makes no mutating request, whatever wakes its
// reconciles (a label on its Secret, on a page's Secret, on a page, on the app).
func testAppZeroWrites(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appsteady")
	s.secret(t, ns, "st-creds", "appSecret") // a generated verify token
	s.secret(t, ns, "p-token", "pageAccessToken")
	s.policy(t, ns, "support")
	app := newApp(ns, "st", "9500"+fmt.Sprint(nsCounter.Load()))
	app.Spec.SecretRef.Name = "st-creds"
	app.Spec.Ingress = &messengerv1alpha1.IngressSpec{Host: "st.example",
		TLS: &messengerv1alpha1.IngressTLS{SecretName: "st-tls", Issuer: &messengerv1alpha1.IssuerReference{Name: "le"}}}
	s.must(t, s.c.Create(s.ctx, app))
	var pages []*messengerv1alpha1.MessengerPage
	for i := range 2 {
		p := appPage(ns, fmt.Sprintf("p%d", i), fmt.Sprintf("951%d%d", nsCounter.Load(), i), "st", "p-token")
		s.must(t, s.c.Create(s.ctx, p))
		pages = append(pages, p)
	}
	s.setDeploymentAvailable(t, appWebhookKey(app))
	for _, p := range pages {
		s.serve(t, p, 1)
		s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	}
	s.waitApp(t, app, "both pages served", func(a *messengerv1alpha1.MessengerApp) bool {
		return a.Status.Pages == 2 && appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable)(a)
	})
	time.Sleep(500 * time.Millisecond) // the event broadcaster flushes the transitions
	inNS := func(reqs []string) []string {
		return slices.DeleteFunc(reqs, func(r string) bool { return !strings.Contains(r, "/namespaces/"+ns+"/") })
	}
	mark := s.writes.mark()
	for _, name := range []string{"st-creds", "p-token"} {
		sec := &corev1.Secret{}
		s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, sec))
		s.modify(t, sec, func() { sec.Labels = map[string]string{"touched": "yes"} })
	}
	page := s.get(t, pages[0])
	s.modify(t, page, func() { page.Labels = map[string]string{"touched": "yes"} })
	// A merge patch: a typed Update would also write spec.webhook.resources {} (no omitempty on
	// WebhookSpec.Resources), a new generation.
	a := s.getApp(t, app)
	s.must(t, s.c.Patch(s.ctx, a, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"touched":"yes"}}}`))))
	time.Sleep(steadyPeriod)
	if w := inNS(s.writes.since(mark)); len(w) > 0 {
		t.Fatalf("%d mutating requests in steady state:\n%s", len(w), strings.Join(w, "\n"))
	}
	// The counter does see writes: a page leaving changes the app's Role.
	s.must(t, s.c.Delete(s.ctx, pages[1]))
	s.eventually(t, "a write after a page left", func() (bool, string) {
		return len(inNS(s.writes.since(mark))) > 0, "none"
	})
}
