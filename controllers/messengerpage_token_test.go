package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/controllers"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// debugTokenCalls counts the debug_token calls the simulator received.
func debugTokenCalls(m *metaSide) int {
	n := 0
	for _, c := range m.sim.CallLog() {
		if c.Endpoint == simulator.EndpointDebugToken {
			n++
		}
	}
	return n
}

func (s *pageSuite) waitToken(t *testing.T, p *messengerv1alpha1.MessengerPage, what string, cond func(*messengerv1alpha1.MessengerPage) bool) *messengerv1alpha1.MessengerPage {
	t.Helper()
	var got *messengerv1alpha1.MessengerPage
	s.eventually(t, what, func() (bool, string) {
		got = s.get(t, p)
		return cond(got), fmt.Sprintf("token %+v conditions %+v", got.Status.Token, got.Status.Conditions)
	})
	return got
}

func tokenValidIs(st metav1.ConditionStatus, reason string) func(*messengerv1alpha1.MessengerPage) bool {
	return func(p *messengerv1alpha1.MessengerPage) bool {
		c := condition(p, messengerv1alpha1.ConditionTokenValid)
		return c != nil && c.Status == st && c.Reason == reason && c.ObservedGeneration == p.Generation
	}
}

// gatherStatus collects the status metrics of the manager as a scrape would, by series name and
// labels ("name{k=v,...}").
func gatherStatus(t *testing.T, s *pageSuite) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := controllers.RegisterStatusMetrics(reg, s.c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out[seriesName(f.GetName(), m)] = m.GetGauge().GetValue()
		}
	}
	return out
}

func seriesName(name string, m *dto.Metric) string {
	var l []string
	for _, p := range m.GetLabel() {
		l = append(l, p.GetName()+"="+p.GetValue())
	}
	return name + "{" + strings.Join(l, ",") + "}"
}

// The operator asks Meta about the page token (debug_token) once per recheck interval, off the
// workers: a valid token shows its scopes and data access end; seven days before expires_at an
// informational condition and a Warning Event say so, and the status and the metric show the
// expiry; a revoked token makes the page Stalled and not Ready, with no customer involved; a
// token without pages_messaging too; a fresh token in the Secret brings it back.
func testPageToken(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "token")
	pageID, appID := "7500"+fmt.Sprint(nsCounter.Load()), "7600"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	s.policy(t, ns, "support")
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns},
		Data:       map[string][]byte{"pageAccessToken": []byte(m.tokens[pageID]), "appSecret": []byte(m.appSecret)},
	}
	s.must(t, s.c.Create(s.ctx, secret))
	p := newPage(ns, "acme", pageID, appID)
	p.Spec.GraphAPI.BaseURL = m.graph.URL
	s.must(t, s.c.Create(s.ctx, p))
	s.deployment(t, p)
	s.setAvailable(t, p)

	got := s.waitToken(t, p, "TokenValid=True", tokenValidIs(metav1.ConditionTrue, messengerv1alpha1.ReasonTokenValid))
	tok := got.Status.Token
	if tok == nil || !tok.Valid || tok.ExpiresAt != nil || tok.DataAccessExpiresAt == nil || len(tok.Scopes) == 0 {
		t.Fatalf("status.token: %+v", tok)
	}
	if c := condition(got, messengerv1alpha1.ConditionTokenValid); !strings.Contains(c.Message, "never expires") || strings.Contains(c.Message, m.tokens[pageID]) {
		t.Fatalf("TokenValid message: %q", c.Message)
	}
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})

	// Reconciles within the interval reuse the last answer: no call per reconcile.
	calls := debugTokenCalls(m)
	for range 3 {
		s.reconcileNow(t, p)
	}
	if n := debugTokenCalls(m); n != calls {
		t.Fatalf("%d debug_token calls for 3 reconciles within the interval", n-calls)
	}

	// Three days before expires_at: TokenExpiring (informational: still Ready), a Warning
	// Event, the expiry in the status and in the metric.
	exp := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Second)
	if _, err := m.sim.ChangeTokens(m.tokens[pageID], "", "", simulator.TokenChange{ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	got = s.waitToken(t, p, "TokenExpiring", func(p *messengerv1alpha1.MessengerPage) bool {
		c := condition(p, messengerv1alpha1.ConditionTokenExpiring)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == messengerv1alpha1.ReasonTokenExpiresSoon
	})
	if got.Status.Token.ExpiresAt == nil || !got.Status.Token.ExpiresAt.Time.Equal(exp) {
		t.Fatalf("status.token.expiresAt %v, want %v", got.Status.Token.ExpiresAt, exp)
	}
	if c := condition(got, messengerv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Fatalf("an expiring token holds Ready: %+v", c)
	}
	s.waitEvent(t, p, corev1.EventTypeWarning, "TokenExpiring")
	metrics := gatherStatus(t, s)
	series := fmt.Sprintf("messenger_operator_page_token_expiry_timestamp_seconds{name=acme,namespace=%s}", ns)
	if metrics[series] != float64(exp.Unix()) {
		t.Fatalf("%s = %v, want %d", series, metrics[series], exp.Unix())
	}
	ready := fmt.Sprintf("messenger_operator_ready{kind=MessengerPage,name=acme,namespace=%s,reason=Available}", ns)
	expiring := fmt.Sprintf("messenger_operator_status_condition{kind=MessengerPage,name=acme,namespace=%s,reason=ExpiresSoon,status=True,type=TokenExpiring}", ns)
	if metrics[ready] != 1 || metrics[expiring] != 1 {
		t.Fatalf("%s = %v, %s = %v", ready, metrics[ready], expiring, metrics[expiring])
	}

	// Revoked (the user changed their password): Stalled, not Ready, before any customer writes.
	if err := m.sim.RevokeToken(m.tokens[pageID]); err != nil {
		t.Fatal(err)
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	got = s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonTokenInvalid, "", status.FailedStatus})
	if c := condition(got, messengerv1alpha1.ConditionTokenValid); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "invalidated") ||
		strings.Contains(c.Message, m.tokens[pageID]) || strings.Contains(c.Message, m.appSecret) {
		t.Fatalf("TokenValid: %+v", c)
	}
	if got.Status.Token.Valid {
		t.Fatal("status.token.valid stays true")
	}
	if condition(got, messengerv1alpha1.ConditionTokenExpiring) != nil {
		t.Fatal("an invalid token is reported expiring")
	}
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonTokenInvalid)
	metrics = gatherStatus(t, s)
	notReady := fmt.Sprintf("messenger_operator_ready{kind=MessengerPage,name=acme,namespace=%s,reason=TokenInvalid}", ns)
	invalid := fmt.Sprintf("messenger_operator_status_condition{kind=MessengerPage,name=acme,namespace=%s,reason=TokenInvalid,status=False,type=TokenValid}", ns)
	if v, ok := metrics[notReady]; !ok || v != 0 || metrics[invalid] != 1 {
		t.Fatalf("%s = %v (%v), %s = %v", notReady, v, ok, invalid, metrics[invalid])
	}
	if _, ok := metrics[ready]; ok {
		t.Fatalf("%s still exported", ready)
	}

	// A fresh token without pages_messaging: still stalled, saying which scope is missing.
	fresh, err := m.sim.IssueToken("bot", pageID)
	s.must(t, err)
	if _, err := m.sim.ChangeTokens(fresh, "", "", simulator.TokenChange{Scopes: []string{"pages_show_list"}}); err != nil {
		t.Fatal(err)
	}
	s.modify(t, secret, func() { secret.Data["pageAccessToken"] = []byte(fresh) })
	got = s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonTokenScopeMissing, "", status.FailedStatus})
	if c := condition(got, messengerv1alpha1.ConditionTokenValid); !strings.Contains(c.Message, "pages_messaging") || !strings.Contains(c.Message, "pages_show_list") {
		t.Fatalf("ScopeMissing message: %q", c.Message)
	}

	// With pages_messaging granted the page is Ready again (a changed Secret is checked at once).
	good, err := m.sim.IssueToken("bot", pageID)
	s.must(t, err)
	s.modify(t, secret, func() { secret.Data["pageAccessToken"] = []byte(good) })
	s.waitToken(t, p, "TokenValid=True again", tokenValidIs(metav1.ConditionTrue, messengerv1alpha1.ReasonTokenValid))
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})

	// Deleted: its series are gone at the next scrape.
	s.must(t, s.c.Delete(s.ctx, p))
	s.eventually(t, "the page's series gone", func() (bool, string) {
		for k := range gatherStatus(t, s) {
			ofPage := strings.Contains(k, "kind=MessengerPage") || strings.HasPrefix(k, "messenger_operator_page_")
			if ofPage && strings.Contains(k, "namespace="+ns+",") {
				return false, k
			}
		}
		return true, ""
	})
}

// A page of a MessengerApp is checked with the app's secret and app token, at the app's Graph
// API, even before the app is Ready.
func testAppPageToken(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "apptoken")
	pageID, appID := "7700"+fmt.Sprint(nsCounter.Load()), "7800"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	s.policy(t, ns, "support")
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tk-creds", Namespace: ns},
		Data: map[string][]byte{"appSecret": []byte(m.appSecret)}}))
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "page-creds", Namespace: ns},
		Data: map[string][]byte{"pageAccessToken": []byte(m.tokens[pageID])}}))
	app := newApp(ns, "tk", appID)
	app.Spec.GraphAPI.BaseURL = m.graph.URL
	s.must(t, s.c.Create(s.ctx, app))
	p := appPage(ns, "brand", pageID, "tk", "page-creds")
	s.must(t, s.c.Create(s.ctx, p))
	got := s.waitToken(t, p, "the app page's TokenValid=True", tokenValidIs(metav1.ConditionTrue, messengerv1alpha1.ReasonTokenValid))
	if got.Status.Token == nil || !got.Status.Token.Valid {
		t.Fatalf("status.token: %+v", got.Status.Token)
	}
	if err := m.sim.RevokeToken(m.tokens[pageID]); err != nil {
		t.Fatal(err)
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonTokenInvalid, "", status.FailedStatus})
}
