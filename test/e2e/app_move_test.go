package e2e

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

// A standalone page moved onto an app while its customers keep writing: every message is
// answered exactly once. The order that loses nothing: the app's webhook runs first without the
// callback; the page is edited to spec.appRef; once the app's pods serve it the operator deletes
// the page's own webhook (its process stops, as its pod would, draining what it accepted); Meta's
// deliveries fail until the app's callback is registered, and its retries then reach the app.
func TestMoveStandalonePageOntoApp(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	c := env.Cluster.Client

	traffic := startTraffic(t, p, "27458394012345701", "27458394012345702", "27458394012345703")

	off := false
	a, err := env.StartApp(ctx(t), harness.AppOptions{
		Namespace: p.Namespace,
		App: &v1alpha1.MessengerApp{
			ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: v1alpha1.MessengerAppSpec{
				AppID:        p.AppID,
				SecretRef:    v1alpha1.AppSecretReference{Name: "acme-app-credentials"},
				Subscription: &v1alpha1.AppSubscriptionSpec{RegisterCallback: &off},
			},
		},
		Platform: p,
	})
	must(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app webhook output (last lines):\n%s", lastLines(a.Webhook.Output(), 80))
			t.Logf("simulator log (last lines):\n%s", lastLines(p.SimulatorLog(), 60))
		}
		a.Stop()
	})
	traffic.waitAnswered(t) // the page's own webhook still answers

	update(t, &v1alpha1.MessengerPage{}, p.Key(), func(mp *v1alpha1.MessengerPage) {
		mp.Spec.AppID = ""
		mp.Spec.AppRef = &v1alpha1.LocalReference{Name: a.Name}
		mp.Spec.GraphAPI.BaseURL = "" // the app's now
	})
	// Ready requires Served at the page's current generation.
	_, err = a.PageCondition(ctx(t), p.Name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	must(t, err)

	// The operator deletes the page's own webhook objects; its process stops as its pod would.
	waitStandaloneGone(t, c, p)
	must(t, p.Webhook.Stop(15*time.Second))
	t.Log("the page's own webhook stopped; Meta's deliveries fail until the app's callback is registered")
	traffic.waitFailed(t)

	update(t, &v1alpha1.MessengerApp{}, keyOf(p, a.Name), func(app *v1alpha1.MessengerApp) {
		on := true
		app.Spec.Subscription = &v1alpha1.AppSubscriptionSpec{RegisterCallback: &on, CallbackURL: a.CallbackURL}
	})
	must(t, harness.Eventually(ctx(t), 60*time.Second, func() (bool, error) {
		var app v1alpha1.MessengerApp
		if err := c.Get(ctx(t), keyOf(p, a.Name), &app); err != nil {
			return false, err
		}
		return apimeta.IsStatusConditionTrue(app.Status.Conditions, v1alpha1.ConditionCallbackRegistered), nil
	}))
	_, err = a.PageCondition(ctx(t), p.Name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	must(t, err)

	// Meta retries the failed bodies after a minute: now at the app's callback.
	p.Clock.Advance(2 * time.Minute)
	traffic.stop()
	traffic.waitAnswered(t)
	settle(t, p)
	traffic.wantAnsweredOnce(t)
	if n, err := a.Unserved(ctx(t)); err != nil || n != 0 {
		t.Fatalf("the app's webhook counted %d unserved entries (%v)", n, err)
	}
}

// waitStandaloneGone waits until the page's own webhook objects are deleted.
func waitStandaloneGone(t *testing.T, c client.Client, p *harness.Page) {
	t.Helper()
	name := specs.WebhookName(p.Name)
	must(t, harness.Eventually(ctx(t), 60*time.Second, func() (bool, error) {
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
			err := c.Get(ctx(t), keyOf(p, name), obj)
			if err == nil {
				return false, nil
			}
			if !apierrors.IsNotFound(err) {
				return false, err
			}
		}
		return true, nil
	}))
}

// traffic is customers writing to a page one message after the other, each without waiting for
// the answer, until stop.
type traffic struct {
	p     *harness.Page
	psids []string
	done  chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	sent map[string]int
	err  error
}

func startTraffic(t *testing.T, p *harness.Page, psids ...string) *traffic {
	tr := &traffic{p: p, psids: psids, done: make(chan struct{}), sent: map[string]int{}}
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		for i := 0; ; i++ {
			psid := psids[i%len(psids)]
			if err := p.Customer(psid).Say(fmt.Sprintf("message %d", i)); err != nil {
				tr.mu.Lock()
				tr.err = err
				tr.mu.Unlock()
				return
			}
			tr.mu.Lock()
			tr.sent[psid]++
			tr.mu.Unlock()
			select {
			case <-tr.done:
				return
			case <-time.After(20 * time.Millisecond): // pacing only: nothing waits on it
			}
		}
	}()
	t.Cleanup(tr.stop)
	return tr
}

func (tr *traffic) stop() {
	select {
	case <-tr.done:
	default:
		close(tr.done)
	}
	tr.wg.Wait()
}

// waitAnswered waits until every message sent so far got its answer.
func (tr *traffic) waitAnswered(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	sent, err := maps.Clone(tr.sent), tr.err
	tr.mu.Unlock()
	must(t, err)
	for _, psid := range tr.psids {
		waitSaid(t, tr.p, psid, bot, max(sent[psid], 1))
	}
}

// waitFailed waits until Meta failed to deliver a body (the callback is down).
func (tr *traffic) waitFailed(t *testing.T) {
	t.Helper()
	must(t, harness.Eventually(ctx(t), 30*time.Second, func() (bool, error) {
		for _, d := range tr.p.Sim.Deliveries(bot) {
			if !d.OK {
				return true, nil
			}
		}
		return false, nil
	}))
}

// wantAnsweredOnce checks that each message got exactly one answer.
func (tr *traffic) wantAnsweredOnce(t *testing.T) {
	t.Helper()
	total := 0
	for _, psid := range tr.psids {
		got := from(tr.p, psid, bot)
		if len(got) != tr.sent[psid] {
			t.Errorf("%s wrote %d messages and got %d answers", psid, tr.sent[psid], len(got))
		}
		total += tr.sent[psid]
	}
	t.Logf("%d messages, each answered once", total)
}
