package controllers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// No Graph call inside Reconcile: with a Graph API that never answers, pages subscribing there
// wait (Subscribed False, Checking: Ready waits for the first answer) while 50 other pages reach Ready, their calls still pending.
// 16 hanging pages keep the 4 check slots busy for 4 rounds of the 15 s call timeout.
func testGraphOffWorkers(t *testing.T, s *pageSuite) {
	var pending atomic.Int32
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pending.Add(1)
		defer pending.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })

	ns := s.namespace(t, "offworker")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	n := fmt.Sprint(nsCounter.Load())
	var hung []*messengerv1alpha1.MessengerPage
	for i := range 16 {
		p := newPage(ns, fmt.Sprintf("hung-%d", i), fmt.Sprintf("81%s%02d", n, i), fmt.Sprintf("82%s%02d", n, i))
		p.Spec.GraphAPI.BaseURL = hang.URL
		p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{}
		s.must(t, s.c.Create(s.ctx, p))
		s.deployment(t, p)
		s.setAvailable(t, p)
		hung = append(hung, p)
	}
	s.eventually(t, "Graph calls hanging", func() (bool, string) { return pending.Load() > 0, fmt.Sprint(pending.Load()) })
	for _, p := range hung[:1] {
		s.waitSubscribed(t, p, metav1.ConditionFalse, messengerv1alpha1.ReasonChecking, "checking")
	}

	var others []*messengerv1alpha1.MessengerPage
	for i := range 50 {
		p := newPage(ns, fmt.Sprintf("other-%d", i), fmt.Sprintf("83%s%02d", n, i), fmt.Sprintf("84%s%02d", n, i))
		s.must(t, s.c.Create(s.ctx, p))
		others = append(others, p)
	}
	for _, p := range others {
		s.deployment(t, p)
		s.setAvailable(t, p)
	}
	for _, p := range others {
		s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	}
	if pending.Load() == 0 {
		t.Fatal("the hanging Graph calls ended: the test proved nothing")
	}
}
