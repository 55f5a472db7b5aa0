package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// appFixture starts app name (app id appID) in namespace ns with the given Pages at Meta; no
// MessengerPage yet (see addAppPage).
func appFixture(t *testing.T, ns, name, appID string, pages ...harness.AppPage) *harness.App {
	t.Helper()
	a, err := env.StartApp(ctx(t), harness.AppOptions{
		Namespace: ns,
		App: &v1alpha1.MessengerApp{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.MessengerAppSpec{
				AppID:     appID,
				SecretRef: v1alpha1.AppSecretReference{Name: name + "-app-credentials"},
			},
		},
		Pages: pages,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app %s transcript:\n%s", name, a.Sim.Transcript())
			t.Logf("app %s webhook output (last lines):\n%s", name, lastLines(a.Webhook.Output(), 80))
		}
		a.Stop()
	})
	return a
}

// appNamespace creates ns for several apps and deletes it at the end of the test.
func appNamespace(t *testing.T, ns string) string {
	t.Helper()
	must(t, env.Cluster.Client.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	t.Cleanup(func() {
		_ = env.Cluster.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	return ns
}

func welcomePolicy(t *testing.T, ns, name, text string) {
	t.Helper()
	must(t, env.Cluster.Client.Create(ctx(t), &v1alpha1.HandoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: text}},
	}))
}

// appPage is the MessengerPage name of Page pageID on policy, with its own token Secret.
func appPage(name, pageID, policy string) *v1alpha1.MessengerPage {
	return &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.MessengerPageSpec{
			PageID:       pageID,
			BusinessName: "ACME",
			SecretRef:    v1alpha1.SecretReference{Name: name + "-token"},
			PolicyRef:    v1alpha1.LocalReference{Name: policy},
		},
	}
}

// addServed adds the page to the app and waits until the app's webhook serves it and the
// operator calls it Ready.
func addServed(t *testing.T, a *harness.App, page *v1alpha1.MessengerPage) {
	t.Helper()
	must(t, a.AddPage(ctx(t), page))
	waitServedReady(t, a, page.Name)
}

func waitServedReady(t *testing.T, a *harness.App, name string) {
	t.Helper()
	_, err := a.PageCondition(ctx(t), name, v1alpha1.ConditionServed, metav1.ConditionTrue, v1alpha1.ReasonServing)
	must(t, err)
	_, err = a.PageCondition(ctx(t), name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	must(t, err)
}

// waitAppSaid waits until the bot has sent n messages to psid on Page pageID and checks the
// last one's text.
func waitAppSaid(t *testing.T, a *harness.App, pageID, psid string, n int, text string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Sim.WaitMessages(c, pageID, psid, bot, n); err != nil {
		t.Fatalf("waiting for message %d from the bot to %s on page %s: %v; got %q", n, psid, pageID, err, said(a.Sim, pageID, psid, bot))
	}
	got := said(a.Sim, pageID, psid, bot)
	if len(got) != n || got[n-1] != text {
		t.Fatalf("the bot said %q to %s on page %s; want %d messages ending with %q", got, psid, pageID, n, text)
	}
}

// sayUnserved has psid write to Page pageID and waits until the app's webhook counted the entry
// as unserved; then no answer can come (the entry was acknowledged and dropped).
func sayUnserved(t *testing.T, a *harness.App, pageID, psid string) {
	t.Helper()
	before, err := a.Unserved(ctx(t))
	must(t, err)
	must(t, a.Customer(pageID, psid).Say("anyone there?"))
	_, err = a.WaitUnserved(ctx(t), before)
	must(t, err)
	if got := said(a.Sim, pageID, psid, bot); len(got) != 0 {
		t.Fatalf("the bot answered %s on an unserved page: %q", psid, got)
	}
}

const (
	brandWelcome   = "Welcome to ACME! A person answers soon."
	supportWelcome = "ACME support here: what is your order number?"
	otherWelcome   = "Welcome to the other app's page."
)

// Two apps in one namespace: app A with two pages on different policies, app B with one. Each
// page's customers get their own page's welcome, sent with their own page token (the simulator
// accepts a send only with the token of that Page). A page added to A goes live without a
// restart of A's webhook; a page removed from A is unserved again; A's webhook cannot read B's
// Secrets.
func TestAppServesItsPages(t *testing.T) {
	t.Parallel()
	ns := appNamespace(t, "e2e-apps")
	welcomePolicy(t, ns, "brand", brandWelcome)
	welcomePolicy(t, ns, "support", supportWelcome)
	welcomePolicy(t, ns, "other", otherWelcome)
	users := []simulator.UserConfig{{PSID: ada, FirstName: "Ada", LastName: "Lovelace"}}
	const (
		brandID, supportID, salesID = "300000000000001", "300000000000002", "300000000000003"
		otherID                     = "300000000000011"
	)
	a := appFixture(t, ns, "acme", "151777648190001",
		harness.AppPage{ID: brandID, Name: "ACME", Users: users},
		harness.AppPage{ID: supportID, Name: "ACME Support", Users: users},
		harness.AppPage{ID: salesID, Name: "ACME Sales", Users: users})
	b := appFixture(t, ns, "other", "151777648190002", harness.AppPage{ID: otherID, Name: "Other", Users: users})
	addServed(t, a, appPage("brand", brandID, "brand"))
	addServed(t, a, appPage("support", supportID, "support"))
	addServed(t, b, appPage("other", otherID, "other"))

	must(t, a.Customer(brandID, ada).Say("hi"))
	must(t, a.Customer(supportID, ada).Say("my parcel is late"))
	must(t, b.Customer(otherID, ada).Say("hello"))
	waitAppSaid(t, a, brandID, ada, 1, brandWelcome)
	waitAppSaid(t, a, supportID, ada, 1, supportWelcome)
	waitAppSaid(t, b, otherID, ada, 1, otherWelcome)

	t.Run("a page joins without a restart", func(t *testing.T) {
		pid := a.Webhook.Pid()
		// Meta delivers the Page's entries before its MessengerPage exists: counted, dropped.
		sayUnserved(t, a, salesID, ada)
		addServed(t, a, appPage("sales", salesID, "brand"))
		const bob = "27458394012345611"
		must(t, a.Customer(salesID, bob).Say("prices?"))
		waitAppSaid(t, a, salesID, bob, 1, brandWelcome)
		if got := a.Webhook.Pid(); got != pid {
			t.Fatalf("the webhook's pid changed from %d to %d", pid, got)
		}
		select {
		case <-a.Webhook.Exited():
			t.Fatal("the webhook exited")
		default:
		}
	})

	t.Run("the webhook reports the verify token it loaded", func(t *testing.T) {
		gen := &corev1.Secret{}
		must(t, env.Cluster.Client.Get(ctx(t), types.NamespacedName{Namespace: ns, Name: specs.AppVerifyTokenSecretName("acme")}, gen))
		want := v1alpha1.VerifyTokenFingerprint([]byte(a.AppSecret), gen.Data[v1alpha1.GeneratedVerifyTokenKey])
		app := &v1alpha1.MessengerApp{}
		must(t, harness.Eventually(ctx(t), 30*time.Second, func() (bool, error) {
			err := env.Cluster.Client.Get(ctx(t), types.NamespacedName{Namespace: ns, Name: "acme"}, app)
			return err == nil && want != "" && app.Status.WebhookVerifyToken == want, err
		}))
	})

	t.Run("a page leaves", func(t *testing.T) {
		gone := appPage("support", supportID, "support")
		gone.Namespace = ns
		must(t, env.Cluster.Client.Delete(ctx(t), gone))
		waitUnservedAgain(t, a, supportID)
		// Once the webhook dropped the page, every entry of it is unserved.
		const eve = "27458394012345622"
		sayUnserved(t, a, supportID, eve)
		// The other pages of the app are still answered.
		must(t, a.Customer(brandID, ada).Say("still there?"))
		waitAppSaid(t, a, brandID, ada, 2, brandWelcome)
	})

	t.Run("an app's webhook reads only its own Secrets", func(t *testing.T) {
		for _, c := range []struct {
			sa, secret string
			allowed    bool
		}{
			{a.ServiceAccount, "acme-app-credentials", true},
			{a.ServiceAccount, "brand-token", true},
			{a.ServiceAccount, "other-app-credentials", false},
			{a.ServiceAccount, "other-token", false},
			{b.ServiceAccount, "other-token", true},
			{b.ServiceAccount, "acme-app-credentials", false},
			{b.ServiceAccount, "brand-token", false},
			{a.ServiceAccount, "sales-token", true},
		} {
			if got := canGetSecret(t, ns, c.sa, c.secret); got != c.allowed {
				t.Errorf("%s may get Secret %s: %v, want %v", c.sa, c.secret, got, c.allowed)
			}
		}
		// The Secret of the page that left is no longer the app's to read.
		must(t, harness.Eventually(ctx(t), 60*time.Second, func() (bool, error) {
			return !canGetSecret(t, ns, a.ServiceAccount, "support-token"), nil
		}))
	})
}

// waitUnservedAgain has probe customers write to Page pageID, one after the other, until one's
// entry is counted unserved: the webhook noticed that the page left. Entries before that may
// still have been answered.
func waitUnservedAgain(t *testing.T, a *harness.App, pageID string) {
	t.Helper()
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatalf("page %s was still served after %d probes", pageID, i)
		}
		psid := fmt.Sprintf("2745839401239%04d", i)
		before, err := a.Unserved(ctx(t))
		must(t, err)
		must(t, a.Customer(pageID, psid).Say("probe"))
		var counted bool
		must(t, harness.Eventually(ctx(t), 30*time.Second, func() (bool, error) {
			n, err := a.Unserved(ctx(t))
			counted = n > before
			return counted || len(said(a.Sim, pageID, psid, bot)) > 0, err
		}))
		if counted {
			return
		}
	}
}

// canGetSecret asks the API server whether ServiceAccount sa of ns may get Secret name.
func canGetSecret(t *testing.T, ns, sa, name string) bool {
	t.Helper()
	user, groups := testenv.ServiceAccountUser(ns, sa)
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: name},
	}}
	must(t, env.Cluster.Client.Create(ctx(t), review))
	return review.Status.Allowed
}
