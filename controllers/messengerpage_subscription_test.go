package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

var handoverFields = []string{"message_echoes", "messages", "messaging_handovers", "messaging_postbacks", "messaging_referrals", "standby"}

// metaSide is the simulator playing Meta for one app, and a callback standing in for the
// webhooks: every verification GET Meta makes, whatever the host, reaches it, and it answers
// only with the verify token of that host's page.
type metaSide struct {
	t         *testing.T
	sim       *simulator.Simulator
	graph     *httptest.Server
	appID     string
	appSecret string
	tokens    map[string]string // pageID -> page token

	mu       sync.Mutex
	verify   map[string]string // callback host -> verify token
	verified []string          // hosts verified
}

func newMetaSide(t *testing.T, appID string, pageIDs ...string) *metaSide {
	t.Helper()
	m := &metaSide{t: t, appID: appID, appSecret: "secret-of-" + appID, tokens: map[string]string{}, verify: map[string]string{}}
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		host, _, _ := strings.Cut(r.Host, ":")
		m.mu.Lock()
		want, ok := m.verify[host]
		m.verified = append(m.verified, host)
		m.mu.Unlock()
		if r.URL.Path != "/webhook" || q.Get("hub.mode") != "subscribe" || !ok || q.Get("hub.verify_token") != want {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(q.Get("hub.challenge")))
	}))
	t.Cleanup(callback.Close)
	toCallback := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, callback.Listener.Addr().String())
	}}
	opts := simulator.Options{
		Apps:       []simulator.AppConfig{{ID: appID, Name: "bot", Secret: m.appSecret, CanTake: true}},
		HTTPClient: &http.Client{Transport: toCallback, Timeout: 5 * time.Second},
	}
	for _, id := range pageIDs {
		m.tokens[id] = "EAAToken" + id
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: id, DefaultApp: "bot"})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: "bot", Page: id, Token: m.tokens[id]})
	}
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	m.sim = sim
	m.graph = httptest.NewServer(sim.Handler())
	t.Cleanup(m.graph.Close)
	return m
}

// graphGet reads a Graph edge from the simulator over HTTP.
func (m *metaSide) graphGet(node, edge, token string) map[string]any {
	m.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.graph.URL+"/v25.0/"+node+"/"+edge, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		m.t.Fatalf("GET %s/%s: %d %v %v", node, edge, resp.StatusCode, out, err)
	}
	return out
}

// appCallback is the app's callback URL at Meta, "" without one.
func (m *metaSide) appCallback() string {
	data := m.graphGet(m.appID, "subscriptions", m.appID+"|"+m.appSecret)["data"].([]any)
	if len(data) == 0 {
		return ""
	}
	return data[0].(map[string]any)["callback_url"].(string)
}

// pageFields are the fields the app has subscribed on the Page; nil when not subscribed.
func (m *metaSide) pageFields(pageID string) []string {
	for _, a := range m.graphGet(pageID, "subscribed_apps", m.tokens[pageID])["data"].([]any) {
		app := a.(map[string]any)
		if app["id"] == m.appID {
			out := []string{}
			for _, f := range app["subscribed_fields"].([]any) {
				out = append(out, f.(string))
			}
			slices.Sort(out)
			return out
		}
	}
	return nil
}

// unsubscribe removes the app from the Page, as Meta does after an hour of failed deliveries.
func (m *metaSide) unsubscribe(pageID string) {
	m.t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, m.graph.URL+"/v25.0/"+pageID+"/subscribed_apps", nil)
	req.Header.Set("Authorization", "Bearer "+m.tokens[pageID])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		m.t.Fatalf("unsubscribe: %v %v", resp, err)
	}
	resp.Body.Close()
}

func (m *metaSide) graphCalls() int {
	return m.sim.Calls(simulator.EndpointSubscriptions) + m.sim.Calls(simulator.EndpointSubscribedApps)
}

func (m *metaSide) verifiedHosts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.verified)
}

// subscribedPage creates the Secret, the policy and a page of app m.appID with spec.subscription,
// Graph calls going to the simulator; the webhook URL's host answers with verifyToken.
func (s *pageSuite) subscribedPage(t *testing.T, m *metaSide, ns, name, pageID, verifyToken string) *messengerv1alpha1.MessengerPage {
	t.Helper()
	secret := name + "-creds"
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns},
		Data: map[string][]byte{
			"pageAccessToken": []byte(m.tokens[pageID]),
			"appSecret":       []byte(m.appSecret),
			"verifyToken":     []byte(verifyToken),
		},
	}))
	p := newPage(ns, name, pageID, m.appID)
	p.Spec.SecretRef.Name = secret
	p.Spec.GraphAPI.BaseURL = m.graph.URL
	p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{}
	m.mu.Lock()
	m.verify[fmt.Sprintf("%s-webhook.%s.svc", name, ns)] = verifyToken
	m.mu.Unlock()
	s.must(t, s.c.Create(s.ctx, p))
	s.deployment(t, p)
	return p
}

// waitSubscribed waits for the Subscribed condition with the given reason and message part.
func (s *pageSuite) waitSubscribed(t *testing.T, p *messengerv1alpha1.MessengerPage, st metav1.ConditionStatus, reason, message string) *messengerv1alpha1.MessengerPage {
	t.Helper()
	var got *messengerv1alpha1.MessengerPage
	s.eventually(t, fmt.Sprintf("Subscribed=%s %s %q", st, reason, message), func() (bool, string) {
		got = s.get(t, p)
		c := condition(got, messengerv1alpha1.ConditionSubscribed)
		if c == nil || c.Status != st || c.Reason != reason || !strings.Contains(c.Message, message) || c.ObservedGeneration != got.Generation {
			return false, fmt.Sprintf("%+v %+v", c, got.Status.Subscription)
		}
		return true, ""
	})
	return got
}

func (s *pageSuite) reconcileNow(t *testing.T, p *messengerv1alpha1.MessengerPage) ctrl.Result {
	t.Helper()
	res, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	s.must(t, err)
	return res
}

// The operator registers the callback URL with the verify token once the webhook is available,
// subscribes the Page, checks again every recheck interval only, subscribes the Page again when
// Meta dropped it (and says so), and reports failures without secrets.
func testSubscription(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "subscribe")
	pageID, appID := "7100"+fmt.Sprint(nsCounter.Load()), "7200"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	s.policy(t, ns, "support")
	p := s.subscribedPage(t, m, ns, "acme", pageID, "the-verify-token")

	// Meta verifies the callback at once: nothing is registered before a webhook is up.
	s.waitSubscribed(t, p, metav1.ConditionUnknown, messengerv1alpha1.ReasonWaitingForWebhook, "waiting for the webhook")
	if n := m.graphCalls(); n != 0 {
		t.Fatalf("%d Graph calls before the webhook is available", n)
	}

	s.setAvailable(t, p)
	url := fmt.Sprintf("http://acme-webhook.%s.svc:80/webhook", ns)
	got := s.waitSubscribed(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "this page's webhook")
	sub := got.Status.Subscription
	if sub == nil || sub.CallbackURL != url || sub.CallbackPage != ns+"/acme" || !sub.PageSubscribed ||
		!slices.Equal(sub.Fields, handoverFields) || sub.LastUnsubscribedTime != nil {
		t.Fatalf("status.subscription: %+v", sub)
	}
	if m.appCallback() != url || !slices.Equal(m.pageFields(pageID), handoverFields) {
		t.Fatalf("at Meta: callback %q, page fields %v", m.appCallback(), m.pageFields(pageID))
	}
	if v := m.verifiedHosts(); len(v) != 1 || v[0] != "acme-webhook."+ns+".svc" {
		t.Fatalf("verification GETs: %v", v)
	}
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	s.waitEvent(t, p, corev1.EventTypeNormal, "CallbackRegistered")

	// Reconciles between checks make no Graph calls; the result says when to look again.
	calls := m.graphCalls()
	for range 3 {
		res := s.reconcileNow(t, p)
		if res.RequeueAfter <= 0 || res.RequeueAfter > 10*time.Minute {
			t.Fatalf("RequeueAfter %v, want the 10m recheck", res.RequeueAfter)
		}
	}
	if n := m.graphCalls(); n != calls {
		t.Fatalf("%d Graph calls between checks", n-calls)
	}

	// Meta drops the Page (webhooks disabled). Until the recheck nothing is noticed; at the
	// recheck the Page is subscribed again and the status says what happened.
	m.unsubscribe(pageID)
	s.reconcileNow(t, p)
	if m.pageFields(pageID) != nil {
		t.Fatal("checked before the recheck interval")
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	// The reconcile starts the check off the workers (a reconcile of the manager may have
	// started it a moment earlier); its end brings the page back.
	s.reconcileNow(t, p)
	s.eventually(t, "the Page subscribed again", func() (bool, string) {
		return slices.Equal(m.pageFields(pageID), handoverFields), fmt.Sprint(m.pageFields(pageID))
	})
	got = s.waitSubscribed(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonResubscribed, "Meta had unsubscribed the app from the Page")
	if res := s.reconcileNow(t, p); res.RequeueAfter <= 0 || res.RequeueAfter > 10*time.Minute {
		t.Fatalf("RequeueAfter after a check %v", res.RequeueAfter)
	}
	if got.Status.Subscription.LastUnsubscribedTime == nil || !got.Status.Subscription.PageSubscribed {
		t.Fatalf("status.subscription: %+v", got.Status.Subscription)
	}
	s.waitEvent(t, p, corev1.EventTypeWarning, "PageUnsubscribed")
	if v := m.verifiedHosts(); len(v) != 1 {
		t.Fatalf("the callback was registered again although Meta still had it: %v", v)
	}

	// The page token is revoked: the check fails, Ready says so, no secret is shown, and the
	// next try comes within a minute.
	if err := m.sim.RevokeToken(m.tokens[pageID]); err != nil {
		t.Fatal(err)
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	got = s.waitSubscribed(t, p, metav1.ConditionFalse, messengerv1alpha1.ReasonSubscribeFailed, "was refused")
	if res := s.reconcileNow(t, p); res.RequeueAfter <= 0 || res.RequeueAfter > time.Minute {
		t.Fatalf("RequeueAfter after a failure %v", res.RequeueAfter)
	}
	// The operator's own look at the token (debug_token) names the cause: the page is Stalled
	// with TokenInvalid, ahead of the failed subscription check.
	s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonTokenInvalid, "invalid", status.FailedStatus})
	if c := condition(s.get(t, p), messengerv1alpha1.ConditionSubscribed); c == nil || !strings.Contains(c.Message, "code 190") {
		t.Fatalf("Subscribed: %+v", c)
	}
	for _, c := range got.Status.Conditions {
		for _, secret := range []string{m.tokens[pageID], m.appSecret, "the-verify-token"} {
			if strings.Contains(c.Message, secret) {
				t.Fatalf("condition %s shows a secret: %s", c.Type, c.Message)
			}
		}
	}
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonSubscribeFailed)

	// A fresh token in the Secret is used at once (the Secret watch, no recheck wait).
	fresh, err := m.sim.IssueToken("bot", pageID)
	s.must(t, err)
	m.tokens[pageID] = fresh
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "acme-creds"}, sec))
	s.modify(t, sec, func() { sec.Data["pageAccessToken"] = []byte(fresh) })
	s.waitSubscribed(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonResubscribed, "this page's webhook")
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
}

// Meta keeps one callback URL per app: of two pages of one app, the older registers it, both
// Pages are subscribed, and both statuses name the page whose URL is registered.
func testSubscriptionSharedApp(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "subshared")
	n := fmt.Sprint(nsCounter.Load())
	first, second, appID := "7300"+n, "7400"+n, "7500"+n
	m := newMetaSide(t, appID, first, second)
	s.policy(t, ns, "support")
	a := s.subscribedPage(t, m, ns, "a-first", first, "token-a")
	s.setAvailable(t, a)
	s.waitSubscribed(t, a, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "this page's webhook")
	b := s.subscribedPage(t, m, ns, "b-second", second, "token-b")
	s.setAvailable(t, b)

	urlA := fmt.Sprintf("http://a-first-webhook.%s.svc:80/webhook", ns)
	got := s.waitSubscribed(t, b, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "the webhook of MessengerPage "+ns+"/a-first")
	if sb := got.Status.Subscription; sb.CallbackURL != urlA || sb.CallbackPage != ns+"/a-first" || !sb.PageSubscribed {
		t.Fatalf("second page's status.subscription: %+v", sb)
	}
	if m.appCallback() != urlA {
		t.Fatalf("the app's callback is %q", m.appCallback())
	}
	for _, id := range []string{first, second} {
		if !slices.Equal(m.pageFields(id), handoverFields) {
			t.Fatalf("page %s fields %v", id, m.pageFields(id))
		}
	}
	if v := m.verifiedHosts(); len(v) != 1 || !strings.HasPrefix(v[0], "a-first-webhook.") {
		t.Fatalf("verification GETs: %v (only the first page registers)", v)
	}
	// Forced reconciles of both: the second page never takes the callback over.
	s.ahead.Add(int64(10*time.Minute + time.Second))
	calls := m.graphCalls()
	s.reconcileNow(t, b)
	s.reconcileNow(t, a)
	// The checks run off the workers: wait for both to call Meta, then for their results.
	s.eventually(t, "both rechecks", func() (bool, string) { return m.graphCalls() >= calls+4, fmt.Sprint(m.graphCalls() - calls) })
	s.consistently(t, "the first page's callback", conflictQuiet, func() (bool, string) {
		return m.appCallback() == urlA && len(m.verifiedHosts()) == 1, fmt.Sprint(m.appCallback(), m.verifiedHosts())
	})

	// The first page stops registering: the second takes over. The first page's status follows
	// at its next check.
	s.modify(t, a, func() { a.Spec.Subscription.RegisterCallback = ptr.To(false) })
	urlB := fmt.Sprintf("http://b-second-webhook.%s.svc:80/webhook", ns)
	s.waitSubscribed(t, b, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "this page's webhook")
	if m.appCallback() != urlB {
		t.Fatalf("the app's callback is %q", m.appCallback())
	}
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, a)
	got = s.waitSubscribed(t, a, metav1.ConditionTrue, messengerv1alpha1.ReasonSubscribed, "the webhook of MessengerPage "+ns+"/b-second")
	if got.Status.Subscription.CallbackURL != urlB || got.Status.Subscription.CallbackPage != ns+"/b-second" {
		t.Fatalf("first page's status.subscription: %+v", got.Status.Subscription)
	}
}

// The API server refuses bad subscription and route settings with a message naming the field.
func testSubscriptionValidation(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "subvalid")
	for name, tc := range map[string]struct {
		mutate func(*messengerv1alpha1.MessengerPage)
		want   []string
	}{
		"recheck below 1m": {func(p *messengerv1alpha1.MessengerPage) {
			p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{RecheckInterval: &metav1.Duration{Duration: 30 * time.Second}}
		}, []string{"spec.subscription.recheckInterval", "at least 1m"}},
		"unknown field": {func(p *messengerv1alpha1.MessengerPage) {
			p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{Fields: []string{"messages", "feed"}}
		}, []string{"spec.subscription.fields[1]", "Unsupported value"}},
		"callback not a URL": {func(p *messengerv1alpha1.MessengerPage) {
			p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{CallbackURL: "acme.example/webhook"}
		}, []string{"spec.subscription.callbackURL"}},
		"route without parents": {func(p *messengerv1alpha1.MessengerPage) {
			p.Spec.HTTPRoute = &messengerv1alpha1.HTTPRouteSpec{Hostnames: []messengerv1alpha1.Hostname{"m.acme.example"}}
		}, []string{"spec.httpRoute.parentRefs"}},
		"route hostname": {func(p *messengerv1alpha1.MessengerPage) {
			p.Spec.HTTPRoute = &messengerv1alpha1.HTTPRouteSpec{ParentRefs: []messengerv1alpha1.ParentReference{{Name: "gw"}}, Hostnames: []messengerv1alpha1.Hostname{"Not A Host"}}
		}, []string{"spec.httpRoute.hostnames[0]"}},
	} {
		p := newPage(ns, "bad", "1", "2")
		tc.mutate(p)
		err := s.c.Create(s.ctx, p)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v does not say %q", name, err, w)
			}
		}
	}
	// Defaults: the handover's fields by the schema; registering and the appAccessToken key, which
	// are the app's on a page of a MessengerApp, by Go where a standalone page is read.
	p := newPage(ns, "good", "1", "2")
	p.Spec.Subscription = &messengerv1alpha1.SubscriptionSpec{}
	s.must(t, s.c.Create(s.ctx, p))
	stored := s.get(t, p)
	stored.Spec.Default()
	got := stored.Spec.Subscription
	slices.Sort(got.Fields)
	if !slices.Equal(got.Fields, handoverFields) || got.RegisterCallback == nil || !*got.RegisterCallback || got.AppAccessTokenKey != "appAccessToken" {
		t.Fatalf("defaults: %+v", got)
	}
}
