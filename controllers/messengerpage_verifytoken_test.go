package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// A standalone page that registers the callback registers a rotated verify token only once its
// webhook reports it loaded (Meta checks it at once); the callback in place keeps delivering.
func testSubscriptionVerifyTokenRotation(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "rotate")
	pageID, appID := "7300"+fmt.Sprint(nsCounter.Load()), "7400"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	s.policy(t, ns, "support")
	p := s.subscribedPage(t, m, ns, "acme", pageID, "token-one")
	s.setAvailable(t, p)
	got := s.waitSubscribed(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "this page's webhook")
	one := messengerv1alpha1.VerifyTokenFingerprint([]byte(m.appSecret), []byte("token-one"))
	if got.Status.Subscription.VerifyToken != one {
		t.Fatalf("status.subscription.verifyToken %q, want %q", got.Status.Subscription.VerifyToken, one)
	}
	verified := len(m.verifiedHosts())

	secret := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "acme-creds"}, secret))
	secret.Data["verifyToken"] = []byte("token-two")
	s.must(t, s.c.Update(s.ctx, secret))
	s.waitSubscribed(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "rotated verify token is registered once")
	if n := len(m.verifiedHosts()); n != verified {
		t.Fatalf("%d verification(s) at Meta before the webhook loaded the new token", n-verified)
	}

	m.mu.Lock()
	m.verify["acme-webhook."+ns+".svc"] = "token-two"
	m.mu.Unlock()
	two := messengerv1alpha1.VerifyTokenFingerprint([]byte(m.appSecret), []byte("token-two"))
	cur := s.get(t, p)
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Status.WebhookVerifyToken = two
	s.must(t, s.c.Status().Patch(s.ctx, cur, patch, client.FieldOwner(messengerv1alpha1.FieldManagerWebhook)))
	s.eventually(t, "token-two registered", func() (bool, string) {
		sub := s.get(t, p).Status.Subscription
		return sub != nil && sub.VerifyToken == two, fmt.Sprintf("%+v", sub)
	})
	if n := len(m.verifiedHosts()); n != verified+1 {
		t.Fatalf("%d verification(s) after the webhook loaded the new token, want 1", n-verified)
	}
	if c := condition(s.get(t, p), messengerv1alpha1.ConditionSubscribed); c == nil || strings.Contains(c.Message, "rotated") {
		t.Fatalf("Subscribed %+v", c)
	}
}
