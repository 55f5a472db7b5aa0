package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

const (
	// graphConcurrency bounds the Graph checks in flight per controller.
	graphConcurrency = 4
	// graphBackoffMax bounds the wait after repeated failures of one object's check.
	graphBackoffMax = 10 * time.Minute
)

// graphWork runs the Graph calls of a controller off its reconcile workers: a reconcile asks
// for a check and reads the last result, never waiting for Meta. At most graphConcurrency checks
// run at once; a failed check is retried with a backoff per object (doubling from retry); each
// finished check wakes its object through events, a source of the controller (Source). A Graph
// API that never answers thus holds a check slot, never a worker.
type graphWork[R graphResult] struct {
	now   func() time.Time
	slots chan struct{}
	out   chan event.GenericEvent

	mu   sync.Mutex
	jobs map[types.NamespacedName]*graphJob[R]
}

// graphResult is the outcome of one check.
type graphResult interface{ hasFailed() bool }

func (r subscriptionResult) hasFailed() bool { return r.failed }

// graphJob is the state of one object's checks.
type graphJob[R graphResult] struct {
	inputs [32]byte
	// asked is when a check of inputs was first asked for.
	asked    time.Time
	running  bool
	done     bool // result holds the outcome of a check of inputs
	at       time.Time
	result   R
	failures int
}

func newGraphWork[R graphResult](now func() time.Time) *graphWork[R] {
	return &graphWork[R]{now: now, slots: make(chan struct{}, graphConcurrency), out: make(chan event.GenericEvent, 1024),
		jobs: map[types.NamespacedName]*graphJob[R]{}}
}

// graphResultPriority puts the object of a finished check ahead of the objects waiting in the
// work queue at the default priority (0: creates, most changes): its pass was begun already (a
// new page's first status waits for its token check, tokenFirstWait), and the checks in flight
// are few (graphConcurrency), so new objects are not starved.
const graphResultPriority = 1

// Source wakes the object of each finished check, at graphResultPriority.
func (g *graphWork[R]) Source() source.Source {
	return source.Channel(g.out, graphResultHandler)
}

var graphResultHandler = handler.Funcs{
	GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		enqueueWithPriority(q, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)}, graphResultPriority)
	},
}

// enqueueWithPriority adds req at priority when the queue has priorities (controller-runtime's
// default queue), else plainly.
func enqueueWithPriority(q workqueue.TypedRateLimitingInterface[reconcile.Request], req reconcile.Request, priority int) {
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, req)
		return
	}
	q.Add(req)
}

// check returns the last result for obj when it was computed from the same inputs (nil when
// there is none yet), and starts run in the background when there is none, when interval has
// passed since it, or when it failed and its backoff (from retry) has passed. wait is when to
// look again (0: a finished check will wake the object).
func (g *graphWork[R]) check(obj client.Object, inputs [32]byte, interval, retry time.Duration,
	run func(context.Context) R) (res *R, wait time.Duration) {
	key := client.ObjectKeyFromObject(obj)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	j := g.jobs[key]
	if j == nil || j.inputs != inputs {
		j = &graphJob[R]{inputs: inputs, asked: now}
		if old := g.jobs[key]; old != nil {
			j.running = old.running // a stale check still holds its slot; its result is dropped
		}
		g.jobs[key] = j
	}
	if j.done {
		r := j.result
		res = &r
	}
	due := !j.done
	if j.done {
		next := interval
		if j.result.hasFailed() {
			next = min(retry<<min(j.failures-1, 10), graphBackoffMax, interval)
		}
		if elapsed := now.Sub(j.at); elapsed < next {
			return res, next - elapsed
		}
		due = true
	}
	if due && !j.running {
		j.running = true
		wake := obj.DeepCopyObject().(client.Object)
		go g.run(key, j, wake, run)
	}
	return res, 0
}

func (g *graphWork[R]) run(key types.NamespacedName, j *graphJob[R], wake client.Object, run func(context.Context) R) {
	g.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), subscriptionTimeout)
	res := run(ctx)
	cancel()
	<-g.slots
	g.mu.Lock()
	j.running = false
	current := g.jobs[key] == j
	if current {
		j.done, j.at, j.result = true, g.now(), res
		if res.hasFailed() {
			j.failures++
		} else {
			j.failures = 0
		}
	} else if cur := g.jobs[key]; cur != nil {
		cur.running = false
	}
	g.mu.Unlock()
	g.out <- event.GenericEvent{Object: wake}
}

// waiting says how long obj's check of its current inputs has been asked for without a result
// (ok); when the check has answered, its result instead: a check that answers at once may finish
// between check and waiting, and its answer must not read as "never asked".
func (g *graphWork[R]) waiting(obj client.Object) (res *R, waited time.Duration, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	j := g.jobs[client.ObjectKeyFromObject(obj)]
	switch {
	case j == nil:
		return nil, 0, false
	case j.done:
		r := j.result
		return &r, 0, false
	}
	return nil, g.now().Sub(j.asked), true
}

// forget drops an object's state (deleted, or no longer checked).
func (g *graphWork[R]) forget(key types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.jobs, key)
}

func keyOf(obj client.Object) types.NamespacedName { return client.ObjectKeyFromObject(obj) }
