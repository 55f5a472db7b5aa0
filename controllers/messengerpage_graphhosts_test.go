package controllers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// suiteGraphHosts are the Graph API hosts the suite's manager allows: Meta's (the default
// baseURL of most pages here, never called) and the loopback address its fake Graph APIs listen
// on (any port). 127.0.0.2 is loopback too, but not allowed.
var suiteGraphHosts = []string{"graph.facebook.com", "127.0.0.1"}

// listeningGraph is a fake Graph API on host that counts the requests it receives.
func listeningGraph(t *testing.T, host string) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listening on %s: %v", host, err)
	}
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, `{"error":{"message":"fake","code":1}}`, http.StatusBadRequest)
	}))
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// A page or app whose spec.graphAPI.baseURL is on a host the manager does not allow is Stalled
// with GraphHostNotAllowed, naming the setting; nothing is applied for it (no webhook would
// carry its tokens there) and no Graph call reaches the host, though it listens and the page
// and app ask for Meta-side subscriptions. Moved to an allowed host, the page gets its webhook;
// moved back, its Deployment is deleted.
func testGraphHostNotAllowed(t *testing.T, s *pageSuite) {
	evilURL, evilCalls := listeningGraph(t, "127.0.0.2")
	goodURL, _ := listeningGraph(t, "127.0.0.1")
	ns := s.namespace(t, "graphhost")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	p := newPage(ns, "acme", "5100"+fmt.Sprint(nsCounter.Load()), "5101"+fmt.Sprint(nsCounter.Load()))
	p.Spec.GraphAPI.BaseURL = evilURL
	p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{}
	s.must(t, s.c.Create(s.ctx, p))

	refused := func(conds []metav1.Condition, gen int64) (bool, string) {
		c := apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionStalled)
		r := apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionReady)
		ok := c != nil && c.Status == metav1.ConditionTrue && c.Reason == messengerv1alpha1.ReasonGraphHostNotAllowed &&
			c.ObservedGeneration == gen && strings.Contains(c.Message, "--graph-api-hosts") &&
			strings.Contains(c.Message, strings.TrimPrefix(evilURL, "http://")) &&
			r != nil && r.Status == metav1.ConditionFalse
		return ok, fmt.Sprintf("%+v", conds)
	}
	s.eventually(t, "the page Stalled with GraphHostNotAllowed", func() (bool, string) {
		got := s.get(t, p)
		return refused(got.Status.Conditions, got.Generation)
	})
	if err := s.c.Get(s.ctx, webhookKey(p), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused page has a Deployment: %v", err)
	}
	if err := s.c.Get(s.ctx, webhookKey(p), &corev1.ServiceAccount{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused page has a ServiceAccount: %v", err)
	}

	app := newApp(ns, "shop", "5102"+fmt.Sprint(nsCounter.Load()))
	app.Spec.GraphAPI.BaseURL = evilURL + "/graph"
	app.Spec.Subscription = &messengerv1alpha1.AppSubscriptionSpec{}
	s.secret(t, ns, "shop-creds", "appSecret", "appAccessToken", "verifyToken")
	s.must(t, s.c.Create(s.ctx, app))
	s.waitApp(t, app, "the app Stalled with GraphHostNotAllowed", func(a *messengerv1alpha1.MessengerApp) bool {
		ok, _ := refused(a.Status.Conditions, a.Generation)
		return ok
	})
	if err := s.c.Get(s.ctx, appWebhookKey(app), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused app has a Deployment: %v", err)
	}

	// On an allowed host the same page is served (and would be subscribed there).
	s.modify(t, p, func() { p.Spec.GraphAPI.BaseURL = goodURL })
	s.deployment(t, p)
	s.eventually(t, "the stall gone", func() (bool, string) {
		got := s.get(t, p)
		c := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionStalled)
		return c == nil && got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("%+v", c)
	})
	// Moved back, its pods (which read the page live) go: only the Deployment, the rest stays.
	s.modify(t, p, func() { p.Spec.GraphAPI.BaseURL = evilURL })
	s.eventually(t, "the Deployment deleted", func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(p), &appsv1.Deployment{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	s.eventually(t, "the page Stalled again", func() (bool, string) {
		got := s.get(t, p)
		return refused(got.Status.Conditions, got.Generation)
	})
	s.must(t, s.c.Get(s.ctx, webhookKey(p), &corev1.ServiceAccount{}))
	if n := evilCalls.Load(); n != 0 {
		t.Fatalf("the disallowed host received %d Graph requests", n)
	}
}
