package controllers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// graphWork never blocks its caller, runs at most graphConcurrency checks at once, wakes the
// object of each finished check, reuses a result until the interval passes, backs off after
// failures, and drops the result of a check made from stale inputs.
func TestGraphWork(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	g := newGraphWork[subscriptionResult](clock)

	release := make(chan struct{})
	var running, peak atomic.Int32
	hang := func(ctx context.Context) subscriptionResult {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
		return subscriptionResult{reason: "done"}
	}
	pages := make([]*messengerv1alpha1.MessengerPage, 10)
	for i := range pages {
		pages[i] = &messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: string(rune('a' + i))}}
		res, wait := g.check(pages[i], [32]byte{1}, time.Hour, time.Minute, hang)
		if res != nil || wait != 0 {
			t.Fatalf("a result before any check: %v %v", res, wait)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() < graphConcurrency && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if running.Load() != graphConcurrency {
		t.Fatalf("%d checks running, want %d", running.Load(), graphConcurrency)
	}
	// Asking again while a check runs starts nothing more.
	g.check(pages[0], [32]byte{1}, time.Hour, time.Minute, hang)
	close(release)
	woken := map[string]bool{}
	for len(woken) < len(pages) {
		select {
		case e := <-g.out:
			woken[e.Object.GetName()] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("woken %v", woken)
		}
	}
	if peak.Load() > graphConcurrency {
		t.Fatalf("%d checks at once", peak.Load())
	}
	res, wait := g.check(pages[0], [32]byte{1}, time.Hour, time.Minute, hang)
	if res == nil || res.reason != "done" || wait != time.Hour {
		t.Fatalf("result %v wait %v", res, wait)
	}

	// Failures back off: 1m, then 2m.
	var calls atomic.Int32
	fail := func(context.Context) subscriptionResult {
		calls.Add(1)
		return subscriptionResult{failed: true}
	}
	p := pages[1]
	g.check(p, [32]byte{2}, time.Hour, time.Minute, fail) // new inputs: a new check
	<-g.out
	if res, wait := g.check(p, [32]byte{2}, time.Hour, time.Minute, fail); res == nil || !res.failed || wait != time.Minute {
		t.Fatalf("after a failure: %v %v", res, wait)
	}
	advance(time.Minute)
	if _, wait := g.check(p, [32]byte{2}, time.Hour, time.Minute, fail); wait != 0 {
		t.Fatalf("not retried after the backoff: %v", wait)
	}
	<-g.out
	if _, wait := g.check(p, [32]byte{2}, time.Hour, time.Minute, fail); wait != 2*time.Minute {
		t.Fatalf("second backoff %v", wait)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls", calls.Load())
	}
}

// A finished check's object goes ahead of the objects already waiting at the default priority
// (new pages), and waiting reports how long a check without a result has been asked for, or
// its result once there is one.
func TestGraphResultPriority(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("graphwork-test")
	defer q.ShutDown()
	waitingPage := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "new"}}
	q.Add(waitingPage)
	checked := &messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "checked"}}
	graphResultHandler.Generic(context.Background(), event.GenericEvent{Object: checked}, q)
	deadline := time.Now().Add(10 * time.Second)
	for q.Len() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the queue takes adds through a buffer
	}
	first, priority, _ := q.GetWithPriority()
	if first.Name != "checked" || priority != graphResultPriority {
		t.Fatalf("first out: %s at priority %d", first, priority)
	}

	now := time.Unix(1000, 0)
	g := newGraphWork[subscriptionResult](func() time.Time { return now })
	if res, _, ok := g.waiting(checked); ok || res != nil {
		t.Fatal("waiting before any check was asked")
	}
	release := make(chan struct{})
	g.check(checked, [32]byte{1}, time.Hour, time.Minute, func(context.Context) subscriptionResult { <-release; return subscriptionResult{reason: "answered"} })
	now = now.Add(time.Second)
	if res, d, ok := g.waiting(checked); !ok || d != time.Second || res != nil {
		t.Fatalf("waiting %v %v %v, want 1s", res, d, ok)
	}
	close(release)
	<-g.out
	// The answer, should it come between check and waiting (a closed port answers at once).
	if res, _, ok := g.waiting(checked); ok || res == nil || res.reason != "answered" {
		t.Fatalf("waiting after the answer: %v %v", res, ok)
	}
}
