package controllers_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// Without a verify token in the user's Secret, the operator generates one into its own Secret,
// keeps it across reconciles, never shows it, and drops it once the user's Secret has one.
func testGeneratedVerifyToken(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "token")
	user := s.secret(t, ns, "creds", "pageAccessToken", "appSecret")
	s.policy(t, ns, "support")
	p := newPage(ns, "acme", "2000", "2001")
	s.must(t, s.c.Create(s.ctx, p))
	genKey := types.NamespacedName{Namespace: ns, Name: "acme-verify-token"}

	gen := &corev1.Secret{}
	s.eventually(t, "the generated Secret", func() (bool, string) {
		err := s.c.Get(s.ctx, genKey, gen)
		return err == nil, fmt.Sprint(err)
	})
	token := string(gen.Data[messengerv1alpha1.GeneratedVerifyTokenKey])
	if raw, err := hex.DecodeString(token); err != nil || len(raw)*8 < 128 {
		t.Fatalf("token of %d bits (%v)", len(raw)*8, err)
	}
	if !metav1.IsControlledBy(gen, s.get(t, p)) || gen.Labels[specs.LabelManaged] != "true" {
		t.Fatalf("generated Secret not owned: %+v %v", gen.OwnerReferences, gen.Labels)
	}
	got := s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", status.InProgressStatus})
	if got.Status.VerifyTokenSecret != "acme-verify-token" {
		t.Fatalf("status.verifyTokenSecret %q", got.Status.VerifyTokenSecret)
	}
	role := &rbacv1.Role{}
	s.must(t, s.c.Get(s.ctx, webhookKey(p), role))
	if names := secretNames(role); !slices.Equal(names, []string{"acme-verify-token", "creds"}) {
		t.Fatalf("the Role grants %v", names)
	}
	// The webhook learns the generated Secret from its Deployment, not from the page's status.
	if v, ok := webhookEnv(s.deployment(t, p), contract.EnvVerifyTokenSecret); !ok || v != "acme-verify-token" {
		t.Fatalf("%s = %q (set: %v)", contract.EnvVerifyTokenSecret, v, ok)
	}
	// The user's Secret was only read.
	after := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, key(user), after))
	if after.ResourceVersion != user.ResourceVersion || len(after.Data) != 2 {
		t.Fatalf("the user's Secret changed: %v", after.Data)
	}

	// New generations, forced reconciles and a deleted key: the token stays.
	page := s.get(t, p)
	for i := range 3 {
		s.modify(t, page, func() { page.Spec.BusinessName = fmt.Sprintf("ACME %d", i) })
		if _, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: key(p)}); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", ""})
	s.must(t, s.c.Get(s.ctx, genKey, gen))
	if string(gen.Data[messengerv1alpha1.GeneratedVerifyTokenKey]) != token {
		t.Fatal("the verify token changed across reconciles")
	}

	// Never in the status, nor in events.
	page = s.get(t, p)
	raw, _ := json.Marshal(page)
	if strings.Contains(string(raw), token) {
		t.Fatal("the token is in the page")
	}
	s.waitEvent(t, p, corev1.EventTypeNormal, "VerifyTokenGenerated")
	for _, e := range s.events(t, p) {
		if strings.Contains(e.Note, token) || strings.Contains(e.Note, "value-of-") {
			t.Fatalf("a secret value in event %s: %s", e.Reason, e.Note)
		}
	}
	if n := countEvents(s.events(t, p), "VerifyTokenGenerated"); n != 1 {
		t.Fatalf("%d VerifyTokenGenerated events", n)
	}

	// The user adds a verify token: it is used, the generated Secret goes, and the Role narrows.
	s.modify(t, user, func() { user.Data["verifyToken"] = []byte("users-own") })
	s.eventually(t, "the user's verify token in use", func() (bool, string) {
		got := s.get(t, p)
		err := s.c.Get(s.ctx, genKey, &corev1.Secret{})
		r := &rbacv1.Role{}
		s.must(t, s.c.Get(s.ctx, webhookKey(p), r))
		_, env := webhookEnv(s.deployment(t, p), contract.EnvVerifyTokenSecret)
		return got.Status.VerifyTokenSecret == "creds" && apierrors.IsNotFound(err) && slices.Equal(secretNames(r), []string{"creds"}) && !env,
			fmt.Sprintf("status %q, generated Secret: %v, role %v, %s set: %v", got.Status.VerifyTokenSecret, err, secretNames(r), contract.EnvVerifyTokenSecret, env)
	})
}

// webhookEnv reads an environment variable of the webhook container.
func webhookEnv(d *appsv1.Deployment, name string) (string, bool) {
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func countEvents(evs []eventsv1.Event, reason string) int {
	n := 0
	for _, e := range evs {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

// The Role follows secretRef; a Secret edit does not touch the pods; a policy edit updates
// status.policy.generation without rolling them either.
func testSecretAndPolicyWatches(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "watches", nil)
	s.setAvailable(t, p)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", ""})
	before := s.deployment(t, p)
	template := func() (int64, string) {
		d := &appsv1.Deployment{}
		s.must(t, s.c.Get(s.ctx, key(before), d))
		return d.Generation, d.Spec.Template.Annotations[specs.SpecHashAnnotation]
	}
	gen0, hash0 := template()

	// A Secret edit (token rotation) reaches the page, which stays Available; the pods stay.
	user := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: p.Namespace, Name: "creds"}, user))
	s.modify(t, user, func() { delete(user.Data, "appSecret") })
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretKeyMissing, `Secret "creds" has no key "appSecret"`, status.FailedStatus})
	s.modify(t, user, func() {
		user.Data["appSecret"] = []byte("rotated")
		user.Data["pageAccessToken"] = []byte("rotated")
	})
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	if g, h := template(); g != gen0 || h != hash0 {
		t.Fatalf("a Secret edit changed the Deployment: generation %d -> %d, hash %s -> %s", gen0, g, hash0, h)
	}

	// The policy changes: status.policy follows, the pods stay.
	pol := &messengerv1alpha1.HandoverPolicy{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: p.Namespace, Name: "support"}, pol))
	s.modify(t, pol, func() { pol.Spec.FirstNameFallback = "friend" })
	s.eventually(t, "status.policy.generation 2", func() (bool, string) {
		got := s.get(t, p)
		return got.Status.Policy != nil && got.Status.Policy.Generation == 2, describePolicy(got)
	})
	if g, h := template(); g != gen0 || h != hash0 {
		t.Fatalf("a policy edit changed the Deployment: generation %d -> %d, hash %s -> %s", gen0, g, hash0, h)
	}

	// Another Secret: the Role follows, still without rolling pods.
	s.secret(t, p.Namespace, "creds-v2", "pageAccessToken", "appSecret", "verifyToken")
	page := s.get(t, p)
	s.modify(t, page, func() { page.Spec.SecretRef.Name = "creds-v2" })
	s.eventually(t, "the Role to grant creds-v2", func() (bool, string) {
		r := &rbacv1.Role{}
		s.must(t, s.c.Get(s.ctx, webhookKey(p), r))
		return slices.Equal(secretNames(r), []string{"creds-v2"}), fmt.Sprint(secretNames(r))
	})
	got := s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	if got.Status.VerifyTokenSecret != "creds-v2" {
		t.Fatalf("verifyTokenSecret %q", got.Status.VerifyTokenSecret)
	}
	if g, h := template(); g != gen0 || h != hash0 {
		t.Fatalf("a secretRef edit rolled the pods: generation %d -> %d", gen0, g)
	}

	// What does roll them: the image.
	s.modify(t, page, func() { page.Spec.Webhook.Image = "registry.example/webhook:2" })
	s.eventually(t, "a new pod template", func() (bool, string) {
		g, h := template()
		return g > gen0 && h != hash0, fmt.Sprintf("generation %d hash %s", g, h)
	})
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", status.InProgressStatus})
}

func describePolicy(p *messengerv1alpha1.MessengerPage) string {
	if p.Status.Policy == nil {
		return "no status.policy"
	}
	return fmt.Sprintf("%+v", *p.Status.Policy)
}

// Each Ready reason in turn, as a user would meet them, with its message, kstatus and event.
func testStatusReasons(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "reasons")
	p := newPage(ns, "acme", "3000", "3001")
	s.must(t, s.c.Create(s.ctx, p))

	// A fresh page is not Current before the operator saw it (status.observedGeneration -1).
	fresh := s.get(t, p)
	if fresh.Status.ObservedGeneration != -1 && fresh.Status.ObservedGeneration != fresh.Generation {
		t.Fatalf("fresh observedGeneration %d", fresh.Status.ObservedGeneration)
	}

	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretNotFound,
		`Secret "creds" not found in namespace "` + ns + `"; create it with the keys "pageAccessToken" and "appSecret", or fix spec.secretRef.name`, status.FailedStatus})
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonSecretNotFound)

	sec := s.secret(t, ns, "creds", "pageAccessToken")
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretKeyMissing,
		`Secret "creds" has no key "appSecret"; add it or set spec.secretRef.appSecretKey`, status.FailedStatus})
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonSecretKeyMissing)

	// The key name is configurable, and the message follows it.
	page := s.get(t, p)
	s.modify(t, page, func() { page.Spec.SecretRef.AppSecretKey = "app-secret" })
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretKeyMissing, `Secret "creds" has no key "app-secret"`, status.FailedStatus})
	s.modify(t, sec, func() { sec.Data["app-secret"] = []byte("s3cr3t") })

	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonPolicyNotFound,
		`HandoverPolicy "support" not found in namespace "` + ns + `"; create it or fix spec.policyRef.name`, status.FailedStatus})
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonPolicyNotFound)
	if got := s.get(t, p); got.Status.Policy != nil {
		t.Fatalf("status.policy without a policy: %+v", got.Status.Policy)
	}

	s.policy(t, ns, "support")
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, `Deployment "acme-webhook"`, status.InProgressStatus})
	s.waitEvent(t, p, corev1.EventTypeNormal, messengerv1alpha1.ReasonProgressing)

	// Half-way: one of two replicas.
	d := s.deployment(t, p)
	s.must(t, s.c.Get(s.ctx, key(d), d))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 0, AvailableReplicas: 0}
	s.must(t, s.c.Status().Update(s.ctx, d))
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "0 of 1 replicas available", status.InProgressStatus})

	s.setAvailable(t, p)
	got := s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "Meta calls http://acme-webhook." + ns + ".svc:80/webhook", status.CurrentStatus})
	if got.Status.WebhookURL != "http://acme-webhook."+ns+".svc:80/webhook" {
		t.Fatalf("webhookURL %q", got.Status.WebhookURL)
	}
	for _, c := range got.Status.Conditions {
		if c.ObservedGeneration != got.Generation {
			t.Fatalf("condition %s of generation %d, page at %d", c.Type, c.ObservedGeneration, got.Generation)
		}
	}
	s.waitEvent(t, p, corev1.EventTypeNormal, messengerv1alpha1.ReasonAvailable)
	for _, e := range s.events(t, p) {
		if strings.Contains(e.Note, "s3cr3t") || strings.Contains(e.Note, "value-of-") {
			t.Fatalf("a secret value in event %s", e.Reason)
		}
	}

	// Losing the Secret again: back to SecretNotFound, without touching the Deployment.
	s.must(t, s.c.Delete(s.ctx, sec))
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretNotFound, `Secret "creds" not found`, status.FailedStatus})
}
