package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// Pages joining an app together cost the app a Role update per batch, not one per page, and a
// page's normal way to Ready (AppNotReady or WaitingServed, then Serving) records no Event; a
// stall and the recovery from it do.
func testAppJoinWrites(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "appjoin")
	s.secret(t, ns, "j-creds", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	const n = 12
	for i := range n {
		s.secret(t, ns, fmt.Sprintf("p%d-token", i), "pageAccessToken")
	}
	app := newApp(ns, "j", "9600"+fmt.Sprint(nsCounter.Load()))
	app.Spec.SecretRef.Name = "j-creds"
	s.must(t, s.c.Create(s.ctx, app))
	s.setDeploymentAvailable(t, appWebhookKey(app))
	s.waitApp(t, app, "app Ready", appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable))

	mark := s.writes.mark()
	pages := make([]*messengerv1alpha1.MessengerPage, n)
	for i := range n {
		pages[i] = appPage(ns, fmt.Sprintf("p%d", i), fmt.Sprintf("96%d%02d", nsCounter.Load(), i), "j", fmt.Sprintf("p%d-token", i))
		s.must(t, s.c.Create(s.ctx, pages[i]))
		// Pages trickle in, as from a GitOps sync: each create would find the app idle.
		time.Sleep(25 * time.Millisecond)
	}
	s.eventually(t, "the Role granting every page's Secret", func() (bool, string) {
		got := s.roleSecrets(t, app)
		return len(got) == n+1, fmt.Sprint(got)
	})
	role := "/namespaces/" + ns + "/roles/" + specs.AppWebhookName(app.Name)
	var updates []string
	for _, w := range s.writes.since(mark) {
		if strings.HasSuffix(w, role) {
			updates = append(updates, w)
		}
	}
	t.Logf("%d Role updates for %d pages", len(updates), n)
	if len(updates) > n/4 {
		t.Fatalf("%d pages joining together updated the app's Role %d times:\n%s", n, len(updates), strings.Join(updates, "\n"))
	}

	for _, p := range pages {
		s.serve(t, p, 1)
	}
	for _, p := range pages {
		s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	}
	s.waitApp(t, app, "every page served", func(a *messengerv1alpha1.MessengerApp) bool { return a.Status.Pages == n })
	for _, p := range pages {
		if evs := s.events(t, p); len(evs) > 0 {
			t.Fatalf("page %s on its way to Ready recorded %d Events, first %s %s", p.Name, len(evs), evs[0].Type, evs[0].Reason)
		}
	}

	// A stall is news: its Secret goes, then comes back.
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, key(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p0-token"}}), sec))
	s.must(t, s.c.Delete(s.ctx, sec))
	s.waitReady(t, pages[0], want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretNotFound, "", status.FailedStatus})
	s.waitEvent(t, pages[0], corev1.EventTypeWarning, messengerv1alpha1.ReasonSecretNotFound)
	s.secret(t, ns, "p0-token", "pageAccessToken")
	s.waitReady(t, pages[0], want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	s.waitEvent(t, pages[0], corev1.EventTypeNormal, messengerv1alpha1.ReasonServing)
}
