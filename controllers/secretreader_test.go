package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// A page of an app reads its Secret and its app's Secret from the API server once per change of
// either, not at every reconcile; a changed, deleted or recreated Secret is read again.
func testAppSecretReads(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appsecrets")
	s.secret(t, ns, "sr-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "p-token", "pageAccessToken")
	s.policy(t, ns, "support")
	app := newApp(ns, "sr", "9600"+fmt.Sprint(nsCounter.Load()))
	app.Spec.SecretRef.Name = "sr-creds"
	s.must(t, s.c.Create(s.ctx, app))
	p := appPage(ns, "p", "961"+fmt.Sprint(nsCounter.Load()), "sr", "p-token")
	s.must(t, s.c.Create(s.ctx, p))
	s.setDeploymentAvailable(t, appWebhookKey(app))
	s.serve(t, p, 1)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	s.waitApp(t, app, "the app Ready", appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable))

	inNS := func(reqs []string) []string {
		return slices.DeleteFunc(reqs, func(r string) bool { return !strings.Contains(r, "/namespaces/"+ns+"/") })
	}
	mark := s.writes.secretGetsMark()
	for range 3 {
		if _, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: key(p)}); err != nil {
			t.Fatal(err)
		}
	}
	// Each reconcile reads both Secrets (the page's; the app's for the token check): from
	// memory, their resourceVersions unchanged.
	if got := inNS(s.writes.secretGetsSince(mark)); len(got) > 0 {
		t.Fatalf("%d GETs of unchanged Secrets in 3 reconciles:\n%s", len(got), strings.Join(got, "\n"))
	}

	// A change is read: the page token's key removed stalls the page.
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "p-token"}, sec))
	s.modify(t, sec, func() { sec.Data = map[string][]byte{"other": []byte("x")} })
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretKeyMissing, `no key "pageAccessToken"`, status.FailedStatus})
	if got := inNS(s.writes.secretGetsSince(mark)); !slices.ContainsFunc(got, func(r string) bool { return strings.HasSuffix(r, "/secrets/p-token") }) {
		t.Fatalf("the changed Secret was not read again: %v", got)
	}
	// A deleted Secret is not answered from memory, nor is one created again with the same name.
	s.must(t, s.c.Delete(s.ctx, sec))
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretNotFound, "", status.FailedStatus})
	s.secret(t, ns, "p-token", "pageAccessToken")
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
}
