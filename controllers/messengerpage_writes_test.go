package controllers_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// steadyPeriod is how long the steady state is watched for writes (it bounds the test).
const steadyPeriod = 2 * time.Second

// Once everything settled, reconciling again - forced, or woken by the watches - sends no
// mutating request at all: not for owned objects, not for the status, not for events.
func testZeroWrites(t *testing.T, s *pageSuite) {
	// A page with everything: an Ingress with TLS, a generated verify token, a shared app.
	ns := s.namespace(t, "steady")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret")
	s.policy(t, ns, "support")
	var pages []*messengerv1alpha1.MessengerPage
	for i, name := range []string{"acme", "acme-two"} {
		p := newPage(ns, name, []string{"8000", "8001"}[i], "8999")
		p.Spec.Ingress = &messengerv1alpha1.IngressSpec{Host: name + ".example", ClassName: ptr.To("nginx"),
			TLS: &messengerv1alpha1.IngressTLS{SecretName: name + "-tls", Issuer: &messengerv1alpha1.IssuerReference{Name: "le"}}}
		p.Spec.Webhook.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		s.must(t, s.c.Create(s.ctx, p))
		s.deployment(t, p)
		s.setAvailable(t, p)
		pages = append(pages, p)
	}
	for _, p := range pages {
		got := s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
		if condition(got, messengerv1alpha1.ConditionSharedApp) == nil || got.Status.VerifyTokenSecret != p.Name+"-verify-token" {
			t.Fatalf("not the full setup: %+v", got.Status)
		}
	}
	// Let the event broadcaster flush what the transitions emitted.
	time.Sleep(500 * time.Millisecond)

	mark := s.writes.mark()
	// Forced reconciles of every page, several times.
	for range 3 {
		for _, p := range pages {
			if _, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: p.Name}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Reconciles woken by watches: the user's Secret and the policy change in ways that change
	// nothing the operator writes (a label; the policy's status).
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "creds"}, sec))
	s.modify(t, sec, func() { sec.Labels = map[string]string{"touched": "yes"} })
	pol := &messengerv1alpha1.HandoverPolicy{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "support"}, pol))
	pol.Status.Pages = 2
	s.must(t, s.c.Status().Update(s.ctx, pol))
	// A label on the page (no new generation).
	page := s.get(t, pages[0])
	s.modify(t, page, func() { page.Labels = map[string]string{"touched": "yes"} })
	time.Sleep(steadyPeriod)
	if w := s.writes.since(mark); len(w) > 0 {
		t.Fatalf("%d mutating requests in steady state:\n%s", len(w), strings.Join(w, "\n"))
	}

	// The counter does see writes: a real change is written.
	s.modify(t, page, func() { page.Spec.BusinessName = "ACME" })
	s.eventually(t, "a write after a spec change", func() (bool, string) {
		return len(s.writes.since(mark)) > 0, "none"
	})
}
