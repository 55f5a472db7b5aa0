package status

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// apiTransport counts the status writes and fails every request while down is set, as an
// unreachable API server would.
type apiTransport struct {
	next    http.RoundTripper
	down    atomic.Bool
	patches atomic.Int32
	failed  atomic.Int32
}

func (a *apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if a.down.Load() {
		a.failed.Add(1)
		return nil, errors.New("dial tcp: connection refused")
	}
	if r.Method == http.MethodPatch {
		a.patches.Add(1)
	}
	return a.next.RoundTrip(r)
}

// watchedClient is an admin client whose requests go through an apiTransport.
func watchedClient(t *testing.T) (*dynamic.DynamicClient, *apiTransport) {
	t.Helper()
	tr := &apiTransport{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { tr.next = rt; return tr }
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn, tr
}

// newPage creates a MessengerPage in a fresh namespace and a Writer for it.
func newPage(t *testing.T, name string) (*Writer, *apiTransport, types.NamespacedName) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	page := &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: name},
		Spec: v1alpha1.MessengerPageSpec{
			PageID: "1000000000000001", AppID: "1517776481860111",
			SecretRef: v1alpha1.SecretReference{Name: "creds"},
			PolicyRef: v1alpha1.LocalReference{Name: "support"},
		},
	}
	if err := env.Client.Create(ctx, page); err != nil {
		t.Fatal(err)
	}
	dyn, tr := watchedClient(t)
	key := types.NamespacedName{Namespace: name, Name: "acme"}
	r := New(Options{Client: dyn, Page: key, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, tr, key
}

func getPage(t *testing.T, key types.NamespacedName) *v1alpha1.MessengerPage {
	t.Helper()
	var p v1alpha1.MessengerPage
	if err := env.Client.Get(context.Background(), key, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// waitCondition polls the page until its condition typ has the status and reason.
func waitCondition(t *testing.T, key types.NamespacedName, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := getPage(t, key)
		c := meta.FindStatusCondition(p.Status.Conditions, typ)
		if c != nil && c.Status == status && c.Reason == reason {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition %s never became %s/%s: %+v", typ, status, reason, p.Status.Conditions)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWriterWritesTransitionsUnderItsOwnFieldManager(t *testing.T) {
	r, tr, key := newPage(t, "transitions")
	p0 := getPage(t, key)
	r.Seed(p0)
	r.SetGeneration(p0.Generation)

	r.GraphAuthorized(false, "the Graph API rejects the page access token (code 190)")
	c := waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	if c.Message != "the Graph API rejects the page access token (code 190)" || c.ObservedGeneration != 1 {
		t.Errorf("condition: %+v", c)
	}
	p := getPage(t, key)
	owned := false
	for _, mf := range p.ManagedFields {
		if mf.Manager == FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "status" {
			owned = true
		}
	}
	if !owned {
		t.Fatalf("no status apply by %s in %+v", FieldManager, p.ManagedFields)
	}

	// The same state again and again: no write.
	for range 20 {
		r.GraphAuthorized(false, "the Graph API rejects the page access token (code 190)")
	}

	// The operator's own conditions, under its own manager, are left alone.
	op := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "MessengerPage",
		"metadata": map[string]any{"name": key.Name, "namespace": key.Namespace},
		"status": map[string]any{"conditions": []any{map[string]any{
			"type": v1alpha1.ConditionReady, "status": "True", "reason": v1alpha1.ReasonAvailable,
			"message": "ok", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}},
	}}
	admin, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Resource(pagesResource).Namespace(key.Namespace).ApplyStatus(context.Background(), key.Name, op,
		metav1.ApplyOptions{FieldManager: "messenger-operator", Force: true})
	if err != nil {
		t.Fatal(err)
	}

	r.HandoverPermitted(false, "Conversation Routing refuses take_thread_control (code 100)")
	waitCondition(t, key, v1alpha1.ConditionHandoverPermitted, metav1.ConditionFalse, v1alpha1.ReasonTakeRefused)
	r.GraphAuthorized(true, "Graph API calls with the page access token succeed")
	ok := waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	if ok.LastTransitionTime.Before(&c.LastTransitionTime) {
		t.Errorf("lastTransitionTime went back: %v then %v", c.LastTransitionTime, ok.LastTransitionTime)
	}
	p = getPage(t, key)
	if meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionHandoverPermitted) == nil {
		t.Error("writing GraphAuthorized dropped HandoverPermitted")
	}
	if meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady) == nil {
		t.Error("the webhook's apply dropped the operator's Ready condition")
	}
	if n := tr.patches.Load(); n != 3 {
		t.Errorf("%d status writes for 3 transitions", n)
	}

	// CanAct, the third condition of the webhook, keeps the others.
	r.CanAct(false, "users' messages reach this app only on standby")
	waitCondition(t, key, v1alpha1.ConditionCanAct, metav1.ConditionFalse, v1alpha1.ReasonNotDefaultApp)
	p = getPage(t, key)
	for _, typ := range []string{v1alpha1.ConditionHandoverPermitted, v1alpha1.ConditionGraphAuthorized, v1alpha1.ConditionReady} {
		if meta.FindStatusCondition(p.Status.Conditions, typ) == nil {
			t.Errorf("writing CanAct dropped %s", typ)
		}
	}
	r.CanAct(true, "users' messages reach this app on messaging")
	waitCondition(t, key, v1alpha1.ConditionCanAct, metav1.ConditionTrue, v1alpha1.ReasonReceivesConversations)
}

func TestWriterRetriesWhileTheAPIServerIsDown(t *testing.T) {
	r, tr, key := newPage(t, "outage")
	tr.down.Store(true)
	start := time.Now()
	r.GraphAuthorized(false, "the Graph API rejects the page access token (code 190)")
	r.HandoverPermitted(true, "take_thread_control succeeds")
	if time.Since(start) > time.Second {
		t.Error("reporting blocked on the API server") // generous: the call only flips a field
	}
	deadline := time.Now().Add(30 * time.Second)
	for tr.failed.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d attempts while down", tr.failed.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	tr.down.Store(false)
	waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	waitCondition(t, key, v1alpha1.ConditionHandoverPermitted, metav1.ConditionTrue, v1alpha1.ReasonTakeAllowed)
}

func TestWriterTakesOverTheConditionsOfAPreviousProcess(t *testing.T) {
	first, _, key := newPage(t, "restart")
	first.HandoverPermitted(false, "Conversation Routing refuses take_thread_control (code 100)")
	before := waitCondition(t, key, v1alpha1.ConditionHandoverPermitted, metav1.ConditionFalse, v1alpha1.ReasonTakeRefused)

	// A new process: same field manager, no memory but the page's status.
	dyn, tr := watchedClient(t)
	second := New(Options{Client: dyn, Page: key, RetryBase: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go second.Run(ctx)
	second.Seed(getPage(t, key))
	// The state it already shows is not written again...
	second.HandoverPermitted(false, "Conversation Routing refuses take_thread_control (code 100)")
	// ...and writing another condition keeps it, with its time.
	second.GraphAuthorized(true, "Graph API calls with the page access token succeed")
	waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	after := waitCondition(t, key, v1alpha1.ConditionHandoverPermitted, metav1.ConditionFalse, v1alpha1.ReasonTakeRefused)
	if !after.LastTransitionTime.Equal(&before.LastTransitionTime) {
		t.Errorf("lastTransitionTime reset: %v then %v", before.LastTransitionTime, after.LastTransitionTime)
	}
	if n := tr.patches.Load(); n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
}

// Served carries the generation loaded: a new generation with the same state is written, the
// same one again is not; the page's other webhook conditions alongside keep their place, and a
// restarted writer takes over all four.
func TestWriterServedFollowsTheGenerationLoaded(t *testing.T) {
	r, tr, key := newPage(t, "served")
	r.opts.Served = true
	r.Seed(getPage(t, key))
	r.Served(1, false, v1alpha1.ReasonLoading, "reading")
	waitCondition(t, key, v1alpha1.ConditionServed, metav1.ConditionFalse, v1alpha1.ReasonLoading)
	r.Served(1, true, v1alpha1.ReasonServing, "serves")
	r.GraphAuthorized(true, "ok")
	c := waitCondition(t, key, v1alpha1.ConditionServed, metav1.ConditionTrue, v1alpha1.ReasonServing)
	if c.ObservedGeneration != 1 {
		t.Fatalf("observedGeneration %d", c.ObservedGeneration)
	}
	waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	r.HandoverPermitted(false, "refused")
	r.CanAct(false, "standby only")
	waitCondition(t, key, v1alpha1.ConditionHandoverPermitted, metav1.ConditionFalse, v1alpha1.ReasonTakeRefused)
	waitCondition(t, key, v1alpha1.ConditionCanAct, metav1.ConditionFalse, v1alpha1.ReasonNotDefaultApp)
	r.Served(2, true, v1alpha1.ReasonServing, "serves")
	deadline := time.Now().Add(30 * time.Second)
	for {
		c = meta.FindStatusCondition(getPage(t, key).Status.Conditions, v1alpha1.ConditionServed)
		if c.ObservedGeneration == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("observedGeneration stays %d", c.ObservedGeneration)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := tr.patches.Load()
	r.Served(2, true, v1alpha1.ReasonServing, "serves")
	time.Sleep(100 * time.Millisecond)
	if n := tr.patches.Load(); n != before {
		t.Fatalf("%d writes for an unchanged state", n-before)
	}

	// A new writer (a restarted pod) takes over Served from the page.
	r2 := New(Options{Client: r.opts.Client, Page: key, Served: true})
	r2.Seed(getPage(t, key))
	if got := r2.conds[v1alpha1.ConditionServed]; got.ObservedGeneration != 2 || got.Status != metav1.ConditionTrue {
		t.Fatalf("seeded %+v", got)
	}
	for _, typ := range []string{v1alpha1.ConditionGraphAuthorized, v1alpha1.ConditionHandoverPermitted, v1alpha1.ConditionCanAct} {
		if _, ok := r2.conds[typ]; !ok {
			t.Errorf("the restarted writer did not take over %s", typ)
		}
	}
	// Its first write keeps all four.
	r2.CanAct(true, "messaging")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r2.Run(ctx)
	waitCondition(t, key, v1alpha1.ConditionCanAct, metav1.ConditionTrue, v1alpha1.ReasonReceivesConversations)
	conds := getPage(t, key).Status.Conditions
	for _, typ := range []string{v1alpha1.ConditionServed, v1alpha1.ConditionGraphAuthorized, v1alpha1.ConditionHandoverPermitted} {
		if meta.FindStatusCondition(conds, typ) == nil {
			t.Errorf("the restarted writer's apply dropped %s", typ)
		}
	}
}
