package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// An Ingress without TLS is made, with a warning; removing spec.ingress removes the Ingress.
func testIngressTLS(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "notls", func(p *messengerv1alpha1.MessengerPage) {
		p.Spec.Ingress = &messengerv1alpha1.IngressSpec{Host: "m.acme.example"}
	})
	s.setAvailable(t, p)
	got := s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "Meta calls https://m.acme.example/webhook", status.CurrentStatus})
	c := condition(got, messengerv1alpha1.ConditionIngressTLS)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != messengerv1alpha1.ReasonNoTLS || c.ObservedGeneration != got.Generation {
		t.Fatalf("IngressTLS %+v", c)
	}
	if got.Status.WebhookURL != "https://m.acme.example/webhook" {
		t.Fatalf("webhookURL %q", got.Status.WebhookURL)
	}
	ev := s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonNoTLS)
	if ev.Note != c.Message {
		t.Fatalf("event %q, condition %q", ev.Note, c.Message)
	}
	in := &networkingv1.Ingress{}
	s.must(t, s.c.Get(s.ctx, webhookKey(p), in))
	if len(in.Spec.TLS) != 0 || in.Spec.Rules[0].HTTP.Paths[0].Path != "/webhook" {
		t.Fatalf("ingress %+v", in.Spec)
	}

	page := s.get(t, p)
	s.modify(t, page, func() { page.Spec.Ingress = nil })
	s.eventually(t, "the Ingress deleted", func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(p), &networkingv1.Ingress{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	got = s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	if condition(got, messengerv1alpha1.ConditionIngressTLS) != nil || got.Status.WebhookURL != "http://acme-webhook."+p.Namespace+".svc:80/webhook" {
		t.Fatalf("without an ingress: %+v", got.Status)
	}
}

// applyWebhookConditions writes conditions as the webhook does: server-side apply on the status
// under its own field manager, every condition it owns in each apply.
func (s *pageSuite) applyWebhookConditions(t *testing.T, p *messengerv1alpha1.MessengerPage, conds ...metav1.Condition) {
	t.Helper()
	var list []any
	for _, c := range conds {
		list = append(list, map[string]any{
			"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": messengerv1alpha1.GroupVersion.String(),
		"kind":       "MessengerPage",
		"metadata":   map[string]any{"name": p.Name, "namespace": p.Namespace},
		"status":     map[string]any{"conditions": list},
	}}
	s.must(t, s.c.Status().Apply(s.ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("messenger-webhook"), client.ForceOwnership))
}

// GraphAuthorized=False from the webhook makes the page not Ready; the operator's status writes
// keep the webhook's conditions.
func testGraphUnauthorized(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "graph", nil)
	s.setAvailable(t, p)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})

	const msg = "the Graph API refused the page access token (code 190); put a fresh token in the Secret"
	permitted := metav1.Condition{Type: messengerv1alpha1.ConditionHandoverPermitted, Status: metav1.ConditionTrue, Reason: messengerv1alpha1.ReasonTakeAllowed, Message: "ok"}
	s.applyWebhookConditions(t, p, permitted)
	s.applyWebhookConditions(t, p, permitted, metav1.Condition{Type: messengerv1alpha1.ConditionGraphAuthorized, Status: metav1.ConditionFalse, Reason: messengerv1alpha1.ReasonGraphUnauthorized, Message: msg})
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonGraphUnauthorized, msg, status.FailedStatus})
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonGraphUnauthorized)

	// The operator writes its status again (a new generation) and the webhook's conditions stay.
	page := s.get(t, p)
	s.modify(t, page, func() { page.Spec.BusinessName = "ACME" })
	got := s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonGraphUnauthorized, msg, ""})
	if c := condition(got, messengerv1alpha1.ConditionGraphAuthorized); c == nil || c.Status != metav1.ConditionFalse || c.Message != msg {
		t.Fatalf("GraphAuthorized lost: %+v", c)
	}
	if c := condition(got, messengerv1alpha1.ConditionHandoverPermitted); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("HandoverPermitted lost: %+v", c)
	}

	// The token works again.
	s.applyWebhookConditions(t, p, permitted, metav1.Condition{Type: messengerv1alpha1.ConditionGraphAuthorized, Status: metav1.ConditionTrue, Reason: messengerv1alpha1.ReasonGraphAuthorized, Message: "calls succeed"})
	got = s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	if c := condition(got, messengerv1alpha1.ConditionGraphAuthorized); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("GraphAuthorized: %+v", c)
	}
}

// replicas 0 is Ready (the user asked for it) with its own reason.
func testScaledToZero(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "zero", func(p *messengerv1alpha1.MessengerPage) { p.Spec.Webhook.Replicas = ptr.To[int32](0) })
	d := s.deployment(t, p)
	if *d.Spec.Replicas != 0 {
		t.Fatalf("replicas %d", *d.Spec.Replicas)
	}
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "waiting for the rollout", status.InProgressStatus})
	s.setAvailable(t, p)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonScaledToZero, "spec.webhook.replicas is 0", status.CurrentStatus})

	// Scaling up does not roll pods: same template.
	hash := d.Spec.Template.Annotations
	page := s.get(t, p)
	s.modify(t, page, func() { page.Spec.Webhook.Replicas = ptr.To[int32](1) })
	s.eventually(t, "one replica", func() (bool, string) {
		got := &appsv1.Deployment{}
		s.must(t, s.c.Get(s.ctx, key(d), got))
		return *got.Spec.Replicas == 1, fmt.Sprint(*got.Spec.Replicas)
	})
	got := &appsv1.Deployment{}
	s.must(t, s.c.Get(s.ctx, key(d), got))
	if fmt.Sprint(got.Spec.Template.Annotations) != fmt.Sprint(hash) {
		t.Fatalf("scaling changed the template: %v -> %v", hash, got.Spec.Template.Annotations)
	}
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", status.InProgressStatus})
}
