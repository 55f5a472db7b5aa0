package controllers_test

import (
	"fmt"
	"net"
	"sync"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// statusHistory records every version of the pages of a namespace that a watch delivers.
type statusHistory struct {
	mu       sync.Mutex
	versions map[string][]messengerv1alpha1.MessengerPageStatus
}

func (s *pageSuite) watchPages(t *testing.T, ns string) *statusHistory {
	t.Helper()
	wc, err := client.NewWithWatch(s.env.Config, client.Options{Scheme: s.env.Scheme})
	s.must(t, err)
	w, err := wc.Watch(s.ctx, &messengerv1alpha1.MessengerPageList{}, client.InNamespace(ns))
	s.must(t, err)
	h := &statusHistory{versions: map[string][]messengerv1alpha1.MessengerPageStatus{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range w.ResultChan() {
			p, ok := e.Object.(*messengerv1alpha1.MessengerPage)
			if !ok || (e.Type != watch.Added && e.Type != watch.Modified) {
				continue
			}
			h.mu.Lock()
			h.versions[p.Name] = append(h.versions[p.Name], *p.Status.DeepCopy())
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return h
}

func (h *statusHistory) of(name string) []messengerv1alpha1.MessengerPageStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]messengerv1alpha1.MessengerPageStatus(nil), h.versions[name]...)
}

// The operator's first status of a page already carries the answer of the page's first token
// check when it comes soon (here the Graph API refuses the connection: TokenCheckFailed): no
// status says Checking first, one write instead of two. A Graph API that does not answer holds
// that write only briefly: Checking is written meanwhile.
func testTokenFirstStatus(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "firststatus")
	s.secret(t, ns, "fs-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "slow-creds", "appSecret", "verifyToken")
	s.secret(t, ns, "p-token", "pageAccessToken")
	s.policy(t, ns, "support")
	history := s.watchPages(t, ns)

	app := newApp(ns, "fs", "9700"+fmt.Sprint(nsCounter.Load()))
	app.Spec.SecretRef.Name = "fs-creds"
	s.must(t, s.c.Create(s.ctx, app))
	s.setDeploymentAvailable(t, appWebhookKey(app))
	s.waitApp(t, app, "app Ready", appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable))
	p := appPage(ns, "quick", "9701"+fmt.Sprint(nsCounter.Load()), "fs", "p-token")
	s.must(t, s.c.Create(s.ctx, p))
	s.waitToken(t, p, "TokenValid=Unknown (TokenCheckFailed)", tokenValidIs(metav1.ConditionUnknown, messengerv1alpha1.ReasonTokenCheckFailed))
	s.serve(t, p, 1)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonServing, "", status.CurrentStatus})
	for i, st := range history.of(p.Name) {
		ready := apimeta.FindStatusCondition(st.Conditions, messengerv1alpha1.ConditionReady)
		token := apimeta.FindStatusCondition(st.Conditions, messengerv1alpha1.ConditionTokenValid)
		if ready != nil && (token == nil || token.Reason == messengerv1alpha1.ReasonChecking) {
			t.Fatalf("version %d of the page's status, written before the first token check's answer: TokenValid %+v, Ready %+v", i, token, ready)
		}
	}

	// A Graph API that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	s.must(t, err)
	var conns sync.Map
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		conns.Range(func(c, _ any) bool { _ = c.(net.Conn).Close(); return true })
	})
	slow := newApp(ns, "slow", "9702"+fmt.Sprint(nsCounter.Load()))
	slow.Spec.SecretRef.Name = "slow-creds"
	slow.Spec.GraphAPI.BaseURL = "http://" + l.Addr().String()
	s.must(t, s.c.Create(s.ctx, slow))
	s.setDeploymentAvailable(t, appWebhookKey(slow))
	q := appPage(ns, "waiting", "9703"+fmt.Sprint(nsCounter.Load()), "slow", "p-token")
	s.must(t, s.c.Create(s.ctx, q))
	s.waitToken(t, q, "TokenValid=Unknown (Checking) while Meta does not answer", tokenValidIs(metav1.ConditionUnknown, messengerv1alpha1.ReasonChecking))
}
