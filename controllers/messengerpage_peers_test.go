package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Two pages claim one pageID: the newer is Stalled with Conflict and owns nothing; it takes over
// when the older goes.
func testPageIDConflict(t *testing.T, s *pageSuite) {
	first := s.readyPage(t, "conflict-a", func(p *messengerv1alpha1.MessengerPage) { p.Spec.PageID = "4000" })
	s.waitReady(t, first, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", ""})

	// In another namespace, created later (and, for a tie on the second, sorted after it).
	ns := s.namespace(t, "conflict-b")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	second := newPage(ns, "acme", "4000", "4001")
	s.must(t, s.c.Create(s.ctx, second))
	got := s.waitReady(t, second, want{metav1.ConditionFalse, messengerv1alpha1.ReasonConflict,
		`pageID "4000" is already claimed by a MessengerPage in another namespace, created earlier`, status.FailedStatus})
	// A tenant learns nothing of another namespace's objects.
	for _, c := range got.Status.Conditions {
		if strings.Contains(c.Message, first.Namespace) {
			t.Fatalf("condition %s names the other namespace: %s", c.Type, c.Message)
		}
	}
	s.waitEvent(t, second, corev1.EventTypeWarning, messengerv1alpha1.ReasonConflict)
	s.consistently(t, "the newer page owning nothing", conflictQuiet, func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(second), &appsv1.Deployment{})
		sa := s.c.Get(s.ctx, webhookKey(second), &corev1.ServiceAccount{})
		return apierrors.IsNotFound(err) && apierrors.IsNotFound(sa), fmt.Sprint(err, sa)
	})
	got = s.get(t, second)
	if got.Status.WebhookURL != "" || got.Status.Policy != nil {
		t.Fatalf("a page in conflict reports %+v", got.Status)
	}
	// The older page is not disturbed.
	s.waitReady(t, first, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", ""})

	// The older page goes: the newer one is served.
	s.must(t, s.c.Delete(s.ctx, first))
	s.waitReady(t, second, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", status.InProgressStatus})
	s.deployment(t, second)
}

// conflictQuiet is how long the test watches that nothing is created (it bounds the test; no
// timing is asserted).
const conflictQuiet = 500 * time.Millisecond

// An object with the name of one the page should own, but not owned by it, is never taken over.
func testNameClash(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "clash")
	// The user's Secret is named like the one the operator would generate, and lacks the token.
	s.secret(t, ns, "acme-verify-token", "pageAccessToken", "appSecret")
	s.policy(t, ns, "support")
	p := newPage(ns, "acme", "5000", "5001")
	p.Spec.SecretRef.Name = "acme-verify-token"
	s.must(t, s.c.Create(s.ctx, p))
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonConflict,
		`Secret "acme-verify-token" already exists and is not managed by this MessengerPage; delete or rename it`, status.FailedStatus})
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "acme-verify-token"}, sec))
	if len(sec.Data) != 2 || len(sec.OwnerReferences) != 0 || len(sec.Labels) != 0 {
		t.Fatalf("the user's Secret was written: %v %v %v", keys(sec.Data), sec.OwnerReferences, sec.Labels)
	}

	// A ServiceAccount in the way.
	ns2 := s.namespace(t, "clash")
	s.secret(t, ns2, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns2, "support")
	s.must(t, s.c.Create(s.ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns2, Name: "acme-webhook"}}))
	p2 := newPage(ns2, "acme", "5002", "5003")
	s.must(t, s.c.Create(s.ctx, p2))
	s.waitReady(t, p2, want{metav1.ConditionFalse, messengerv1alpha1.ReasonConflict, `ServiceAccount "acme-webhook" already exists`, status.FailedStatus})
	if err := s.c.Get(s.ctx, webhookKey(p2), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Deployment despite the clash: %v", err)
	}
	// Removing it lets the page proceed.
	s.must(t, s.c.Delete(s.ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns2, Name: "acme-webhook"}}))
	page := s.get(t, p2)
	// Objects the operator does not own are not watched: the page retries each minute; nudge it.
	s.modify(t, page, func() { page.Spec.BusinessName = "nudge" })
	s.waitReady(t, p2, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, "", ""})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Pages of one Meta app say so, naming each other; the condition goes when they part.
func testSharedApp(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "shared")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	a := newPage(ns, "shop-a", "6000", "6999")
	b := newPage(ns, "shop-b", "6001", "6999")
	s.must(t, s.c.Create(s.ctx, a))
	s.must(t, s.c.Create(s.ctx, b))
	shared := func(p *messengerv1alpha1.MessengerPage, other string) {
		t.Helper()
		s.eventually(t, p.Name+" SharedApp naming "+other, func() (bool, string) {
			c := condition(s.get(t, p), messengerv1alpha1.ConditionSharedApp)
			return c != nil && c.Status == metav1.ConditionTrue && c.Reason == messengerv1alpha1.ReasonAppShared &&
				strings.Contains(c.Message, ns+"/"+other) && strings.Contains(c.Message, "one callback URL"), fmt.Sprintf("%+v", c)
		})
	}
	shared(a, "shop-b")
	shared(b, "shop-a")
	s.waitEvent(t, a, corev1.EventTypeNormal, messengerv1alpha1.ReasonAppShared)
	// Sharing is allowed: both pages are served.
	s.deployment(t, a)
	s.deployment(t, b)

	s.modify(t, b, func() { b.Spec.AppID = "6998" })
	for _, p := range []*messengerv1alpha1.MessengerPage{a, b} {
		s.eventually(t, p.Name+" without SharedApp", func() (bool, string) {
			got := s.get(t, p)
			return condition(got, messengerv1alpha1.ConditionSharedApp) == nil && got.Status.ObservedGeneration == got.Generation,
				fmt.Sprintf("%+v", got.Status.Conditions)
		})
	}
}
