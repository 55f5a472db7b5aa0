package controllers_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

var nsCounter atomic.Int32

// namespace creates a fresh namespace (envtest cannot delete them: no controller-manager).
func (s *pageSuite) namespace(t *testing.T, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	s.must(t, s.c.Create(s.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}

// secret creates the user's Secret with the given keys (values derived from the key names).
func (s *pageSuite) secret(t *testing.T, ns, name string, keys ...string) *corev1.Secret {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for _, k := range keys {
		sec.Data[k] = []byte("value-of-" + k)
	}
	s.must(t, s.c.Create(s.ctx, sec))
	return sec
}

func (s *pageSuite) policy(t *testing.T, ns, name string) *messengerv1alpha1.HandoverPolicy {
	t.Helper()
	p := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	s.must(t, s.c.Create(s.ctx, p))
	return p
}

// deadGraph is a Graph API address that refuses connections: the page token checks of pages
// that need no Graph API fail at once, on this machine.
const deadGraph = "http://127.0.0.1:9"

// newPage is a page using Secret "creds" and policy "support", its Graph API at deadGraph
// unless appID is empty (a page of an app).
func newPage(ns, name, pageID, appID string) *messengerv1alpha1.MessengerPage {
	p := &messengerv1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: messengerv1alpha1.MessengerPageSpec{
			PageID:    pageID,
			AppID:     appID,
			SecretRef: messengerv1alpha1.SecretReference{Name: "creds"},
			PolicyRef: messengerv1alpha1.LocalReference{Name: "support"},
		},
	}
	if appID != "" {
		p.Spec.GraphAPI.BaseURL = deadGraph
	}
	return p
}

// ready sets up a namespace with a complete Secret, the policy and a page, and waits for its
// Deployment.
func (s *pageSuite) readyPage(t *testing.T, prefix string, mutate func(*messengerv1alpha1.MessengerPage)) *messengerv1alpha1.MessengerPage {
	t.Helper()
	ns := s.namespace(t, prefix)
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	p := newPage(ns, "acme", "1"+fmt.Sprint(nsCounter.Load()), "42"+fmt.Sprint(nsCounter.Load()))
	if mutate != nil {
		mutate(p)
	}
	s.must(t, s.c.Create(s.ctx, p))
	s.deployment(t, p)
	return p
}

func key(o client.Object) types.NamespacedName { return client.ObjectKeyFromObject(o) }

func webhookKey(p *messengerv1alpha1.MessengerPage) types.NamespacedName {
	return types.NamespacedName{Namespace: p.Namespace, Name: specs.WebhookName(p.Name)}
}

// deployment waits for the page's Deployment and returns it.
func (s *pageSuite) deployment(t *testing.T, p *messengerv1alpha1.MessengerPage) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	s.eventually(t, "the webhook Deployment", func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(p), d)
		return err == nil, fmt.Sprint(err)
	})
	return d
}

// setAvailable plays the Deployment controller and the kubelet: every replica of the current
// generation is updated, ready and available.
func (s *pageSuite) setAvailable(t *testing.T, p *messengerv1alpha1.MessengerPage) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := &appsv1.Deployment{}
		if err := s.c.Get(s.ctx, webhookKey(p), d); err != nil {
			return err
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}},
		}
		return s.c.Status().Update(s.ctx, d)
	})
	s.must(t, err)
}

// modify reads obj, applies mutate and writes it back, retrying on conflicts.
func (s *pageSuite) modify(t *testing.T, obj client.Object, mutate func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.c.Get(s.ctx, key(obj), obj); err != nil {
			return err
		}
		mutate()
		return s.c.Update(s.ctx, obj)
	})
	s.must(t, err)
}

func (s *pageSuite) get(t *testing.T, p *messengerv1alpha1.MessengerPage) *messengerv1alpha1.MessengerPage {
	t.Helper()
	out := &messengerv1alpha1.MessengerPage{}
	s.must(t, s.c.Get(s.ctx, key(p), out))
	return out
}

// want describes the expected Ready condition of a page.
type want struct {
	status  metav1.ConditionStatus
	reason  string
	message string // substring
	kstatus status.Status
}

// waitReady waits until the page's status is current for its generation and Ready matches w,
// with Stalled and Reconciling as kstatus wants them for that reason, and the kstatus computed
// by cli-utils matching.
func (s *pageSuite) waitReady(t *testing.T, p *messengerv1alpha1.MessengerPage, w want) *messengerv1alpha1.MessengerPage {
	t.Helper()
	var last *messengerv1alpha1.MessengerPage
	s.eventually(t, fmt.Sprintf("Ready=%s %s %q", w.status, w.reason, w.message), func() (bool, string) {
		last = &messengerv1alpha1.MessengerPage{}
		if err := s.c.Get(s.ctx, key(p), last); err != nil {
			return false, err.Error()
		}
		r := apimeta.FindStatusCondition(last.Status.Conditions, messengerv1alpha1.ConditionReady)
		if last.Status.ObservedGeneration != last.Generation || r == nil || r.Status != w.status || r.Reason != w.reason ||
			!strings.Contains(r.Message, w.message) || r.ObservedGeneration != last.Generation {
			return false, fmt.Sprintf("generation %d status %+v", last.Generation, last.Status)
		}
		return true, ""
	})
	stalled := apimeta.FindStatusCondition(last.Status.Conditions, messengerv1alpha1.ConditionStalled)
	reconciling := apimeta.FindStatusCondition(last.Status.Conditions, messengerv1alpha1.ConditionReconciling)
	switch w.reason {
	case messengerv1alpha1.ReasonSecretNotFound, messengerv1alpha1.ReasonSecretKeyMissing,
		messengerv1alpha1.ReasonPolicyNotFound, messengerv1alpha1.ReasonConflict, messengerv1alpha1.ReasonGraphUnauthorized,
		messengerv1alpha1.ReasonAppNotFound, messengerv1alpha1.ReasonAppManaged,
		messengerv1alpha1.ReasonTokenInvalid, messengerv1alpha1.ReasonTokenScopeMissing:
		if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != w.reason || reconciling != nil {
			t.Fatalf("%s: Stalled %+v Reconciling %+v", w.reason, stalled, reconciling)
		}
	case messengerv1alpha1.ReasonProgressing:
		if reconciling == nil || reconciling.Status != metav1.ConditionTrue || stalled != nil {
			t.Fatalf("Progressing: Stalled %+v Reconciling %+v", stalled, reconciling)
		}
	default:
		if stalled != nil || reconciling != nil {
			t.Fatalf("%s: Stalled %+v Reconciling %+v", w.reason, stalled, reconciling)
		}
	}
	if w.kstatus != "" {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(last)
		s.must(t, err)
		res, err := status.Compute(&unstructured.Unstructured{Object: u})
		s.must(t, err)
		if res.Status != w.kstatus {
			t.Fatalf("kstatus %s, want %s (%s)", res.Status, w.kstatus, res.Message)
		}
	}
	return last
}

// events are the events.k8s.io Events about the page.
func (s *pageSuite) events(t *testing.T, p *messengerv1alpha1.MessengerPage) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	s.must(t, s.c.List(s.ctx, &list, client.InNamespace(p.Namespace)))
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == p.Name && e.Regarding.Kind == "MessengerPage" {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an event of the given type and reason about the page.
func (s *pageSuite) waitEvent(t *testing.T, p *messengerv1alpha1.MessengerPage, typ, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	s.eventually(t, "event "+typ+" "+reason, func() (bool, string) {
		evs := s.events(t, p)
		for _, e := range evs {
			if e.Type == typ && e.Reason == reason {
				found = e
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs))
	})
	return found
}

func condition(p *messengerv1alpha1.MessengerPage, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(p.Status.Conditions, typ)
}
