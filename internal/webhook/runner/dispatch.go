package runner

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// The dispatcher runs the events of one user one at a time, in timestamp order, while users run
// in parallel on a fixed pool of workers:
//
//   - every user with work has a userQueue, found through a sharded map (no global lock);
//   - a queue is idle (not in the map), ready (in the ready channel, once), running (owned by
//     one worker) or waiting (a retry backoff timer will make it ready again);
//   - a worker runs a user's queue until it is empty or waits for a retry; a retry therefore
//     holds up only that user, not a worker.

const queueShards = 64

type qstate uint8

const (
	stateIdle qstate = iota
	stateReady
	stateRunning
	stateWaiting
)

// work is one item of a user's queue: an event, or a timer tick.
type work struct {
	ev   handover.Event
	tick bool
	user userKey // for ticks
	size int64   // counted against the queue's byte budget
	jid  string  // the event's id in the shared journal; "" without one
	// acq is the lease of the thread taken with the event's record; nil without one.
	acq *acquired
	// claimed: taken over from a replica that stopped working on it, which may have made
	// some of its Graph calls already.
	claimed bool
}

// userKey names a conversation: a user (PSID) of a page. PSIDs are page-scoped, and a webhook of
// an app serves several pages: ordering, timers and retries are per (page, user).
type userKey struct{ page, psid string }

// eventSize estimates what a queued event holds in memory.
func eventSize(ev *handover.Event) int64 {
	return int64(unsafe.Sizeof(work{})) + int64(len(ev.PSID)+len(ev.MID)+len(ev.Text)+len(ev.QuickReplyPayload)+
		len(ev.PostbackTitle)+len(ev.PostbackPayload)+len(ev.EchoAppID)+len(ev.Metadata)+
		len(ev.NewOwnerAppID)+len(ev.PreviousOwnerAppID)+len(ev.RequestedOwnerAppID))
}

func (w *work) key() userKey {
	if w.tick {
		return w.user
	}
	return userKey{page: w.ev.PageID, psid: w.ev.PSID}
}

// step is an action the worker still has to run for the item in progress.
type step struct {
	act     handover.Action
	depth   int       // how many Outcome rounds led here (bounded against engine loops)
	attempt int       // failed attempts so far
	first   time.Time // first failure, for the retry window
	kind    string    // the event kind, for logs
	trigger string    // what set the decision off, for the audit (triggerOf)
	// awaySince is the thread's PassedAt before the decision (the idle timeout clears it at
	// once), for the time with an agent when a take succeeds.
	awaySince time.Time
}

type userQueue struct {
	user  userKey
	shard *qshard
	state qstate // guarded by shard.mu
	items []work // pending items, guarded by shard.mu

	// Owned by the worker that runs the queue (handed over through the ready channel).
	agenda []step
	busy   bool   // an item was taken and its agenda is not done yet
	size   int64  // its size, released with it
	jid    string // its journal id, forgotten once done
	// repeat: the item was claimed from a replica that stopped (a possible repeat).
	repeat bool
	// left: the item is left in the journal, unacknowledged, for another replica (its lease was
	// lost, or the process stops before it is done).
	left bool

	// With a shared store: the thread's lease, when it was taken or last renewed, and the
	// thread's state and timer as this holder last wrote them (dirty: written since the item
	// began), committed at the end of the item.
	lease    *store.Lease
	leasedAt time.Time
	th       handover.Thread
	timerAt  time.Time
	dirty    bool
}

type qshard struct {
	mu    sync.Mutex
	users map[userKey]*userQueue
}

type dispatcher struct {
	seed    maphash.Seed
	shards  [queueShards]qshard
	ready   chan *userQueue
	pending atomic.Int64 // accepted items not fully handled
	bytes   atomic.Int64 // their estimated size
	max     int64
	maxB    int64
	run     func(q *userQueue) // runs a ready queue (Runner.runQueue)
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newDispatcher(maxQueued int, maxBytes int64, workers int, run func(*userQueue)) *dispatcher {
	d := &dispatcher{
		seed:  maphash.MakeSeed(),
		ready: make(chan *userQueue, maxQueued+1024),
		max:   int64(maxQueued),
		maxB:  maxBytes,
		run:   run,
		stop:  make(chan struct{}),
	}
	for i := range d.shards {
		d.shards[i].users = make(map[userKey]*userQueue)
	}
	d.wg.Add(workers)
	for range workers {
		go d.worker()
	}
	return d
}

func (d *dispatcher) worker() {
	defer d.wg.Done()
	for {
		select {
		case q := <-d.ready:
			d.run(q)
		case <-d.stop:
			return
		}
	}
}

// reserve makes room for n events of size bytes in all, or says the queue is full.
func (d *dispatcher) reserve(n int, size int64) bool {
	p := d.pending.Add(int64(n))
	b := d.bytes.Add(size)
	if p > d.max || b > d.maxB {
		d.pending.Add(-int64(n))
		d.bytes.Add(-size)
		return false
	}
	return true
}

// release gives back reserved room (duplicates) or marks an item done.
func (d *dispatcher) release(n int, size int64) {
	d.pending.Add(-int64(n))
	d.bytes.Add(-size)
}

// enqueue adds an item whose room was reserved.
func (d *dispatcher) enqueue(w work) {
	key := w.key()
	sh := &d.shards[maphash.Comparable(d.seed, key)%queueShards]
	sh.mu.Lock()
	q := sh.users[key]
	if q == nil {
		q = &userQueue{user: key, shard: sh}
		sh.users[key] = q
	}
	// Keep pending events in timestamp order (Meta does not promise order across deliveries);
	// equal timestamps keep their arrival order, ticks go last.
	i := len(q.items)
	if !w.tick {
		for i > 0 && !q.items[i-1].tick && q.items[i-1].ev.Timestamp.After(w.ev.Timestamp) {
			i--
		}
	}
	q.items = append(q.items, work{})
	copy(q.items[i+1:], q.items[i:])
	q.items[i] = w
	wake := q.state == stateIdle
	if wake {
		q.state = stateReady
	}
	sh.mu.Unlock()
	if wake {
		d.ready <- q
	}
}

// enqueueTick adds a timer tick, outside the queue bound: timers must not be lost.
func (d *dispatcher) enqueueTick(user userKey) {
	d.pending.Add(1)
	d.enqueue(work{tick: true, user: user})
}

// next hands the running worker the next item, or retires the queue when there is none.
func (d *dispatcher) next(q *userQueue) (work, bool) {
	sh := q.shard
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(q.items) == 0 {
		q.state = stateIdle
		delete(sh.users, q.user)
		return work{}, false
	}
	w := q.items[0]
	q.items[0] = work{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go
	}
	return w, true
}

// peek says whether q has an item waiting and gives the lease taken with its record (nil when
// none was).
func (d *dispatcher) peek(q *userQueue) (*acquired, bool) {
	q.shard.mu.Lock()
	defer q.shard.mu.Unlock()
	if len(q.items) == 0 {
		return nil, false
	}
	return q.items[0].acq, true
}

// hasItems says whether q has an item waiting.
func (d *dispatcher) hasItems(q *userQueue) bool {
	q.shard.mu.Lock()
	defer q.shard.mu.Unlock()
	return len(q.items) > 0
}

// wait parks a running queue until wake.
func (d *dispatcher) wait(q *userQueue) {
	q.shard.mu.Lock()
	q.state = stateWaiting
	q.shard.mu.Unlock()
}

// wake makes a waiting queue ready again.
func (d *dispatcher) wake(q *userQueue) {
	q.shard.mu.Lock()
	ok := q.state == stateWaiting
	if ok {
		q.state = stateReady
	}
	q.shard.mu.Unlock()
	if ok {
		d.ready <- q
	}
}

func (d *dispatcher) markRunning(q *userQueue) {
	q.shard.mu.Lock()
	q.state = stateRunning
	q.shard.mu.Unlock()
}

func (d *dispatcher) depth() int64 { return d.pending.Load() }

func (d *dispatcher) shutdown() {
	close(d.stop)
	d.wg.Wait()
}
