package runner

import (
	"context"
	"sync"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Leaser is a shared thread store with a lease per thread (store.Redis): one replica at a time
// acts on a thread, and a replica whose lease was taken over cannot write (fencing).
type Leaser interface {
	// Acquire takes or renews the lease and reads the thread's state under it, with the events
	// other replicas forwarded to the thread's holder (store.Journal.Record).
	Acquire(ctx context.Context, page, psid, holder string) (store.Lease, handover.Thread, bool, []store.JournalEntry, error)
	// Release gives the lease back, unless events were forwarded to the holder: the lease is
	// then kept and the events returned.
	Release(ctx context.Context, l store.Lease) (fwd []store.JournalEntry, kept bool, err error)
	// Commit ends an item under the lease: state, timer, journal acknowledgement, the events
	// forwarded to the holder (returned; the lease is then kept) and, when asked, the lease
	// given back (kept false), at once; store.ErrFenced when the lease was lost.
	Commit(ctx context.Context, l store.Lease, c store.Commit) (fwd []store.JournalEntry, kept bool, err error)
	// ClaimDue takes the timers due at now, each once across replicas; a claimed timer is due
	// again after reclaim unless its handling rewrites it.
	ClaimDue(ctx context.Context, now time.Time, n int, reclaim time.Duration) ([]string, error)
	// LeaseTTL is how long a lease lasts unless renewed.
	LeaseTTL() time.Duration
}

// leaseRetry is how soon a thread leased by another replica is tried again.
const leaseRetry = 50 * time.Millisecond

// acquired is a lease taken with an event's record (Journal.Record), handed to the worker with
// the event so that it needs no round trip before acting.
type acquired struct {
	lease store.Lease
	th    handover.Thread
	at    time.Time // taken no earlier than this (wall clock: the TTL runs on the server)
}

// releasedLeases remembers the last token each thread's lease was given back with. A lease
// taken with a record is a renewal when this replica held the lease then; if the worker gave
// it back meanwhile, that token is dead, and the worker must take the lease again.
type releasedLeases struct{ m sync.Map } // userKey -> int64

func (rl *releasedLeases) note(u userKey, tok int64) { rl.m.Store(u, tok) }

// kept undoes note when the lease was not given back after all (events were forwarded to it).
func (rl *releasedLeases) kept(u userKey, tok int64) { rl.m.CompareAndDelete(u, tok) }

func (rl *releasedLeases) dead(u userKey, tok int64) bool {
	v, ok := rl.m.Load(u)
	return ok && tok <= v.(int64)
}

// forget drops the entries of threads whose lease is held again (a later token supersedes).
func (rl *releasedLeases) forget(u userKey, tok int64) {
	if v, ok := rl.m.Load(u); ok && v.(int64) < tok {
		rl.m.CompareAndDelete(u, v)
	}
}

// fresh says whether a lease taken at at can still be used without renewing it: a third of its
// TTL leaves the rest for the action in flight.
func (r *Runner) fresh(at time.Time) bool {
	return time.Since(at) < r.opts.Leases.LeaseTTL()/3
}

// holdLease makes q hold a fresh lease of its thread before its next item: the one taken with
// the item's record when it is usable, else one round trip. False: another replica holds it,
// or the store failed; the queue then waits and is woken to try again.
func (r *Runner) holdLease(q *userQueue) bool {
	if r.opts.Leases == nil {
		return true
	}
	acq, ok := r.disp.peek(q)
	if !ok {
		return true // nothing to do: the queue retires
	}
	if q.lease != nil && r.fresh(q.leasedAt) {
		return true
	}
	if q.lease == nil && acq != nil && r.fresh(acq.at) && !r.released.dead(q.user, acq.lease.Token) {
		q.lease, q.th, q.leasedAt = &acq.lease, acq.th, acq.at
		r.released.forget(q.user, acq.lease.Token)
		return true
	}
	if r.renew(q) {
		return true
	}
	r.disp.wait(q)
	r.clock.AfterFunc(leaseRetry, func() { r.disp.wake(q) })
	return false
}

// renew takes or renews q's lease (one round trip). A new token means the lease had been lost:
// the state read with it replaces the cached one. The events forwarded to the holder join q.
// A token this replica is giving back (a retired queue's release in flight, or one whose
// outcome is unknown) is not held: the release may land right after, so q waits and tries
// again, and gets a new token once the lease is gone (or this one again when it was kept).
func (r *Runner) renew(q *userQueue) bool {
	at := time.Now()
	ctx, cancel := r.storeCtx()
	l, th, ok, fwd, err := r.opts.Leases.Acquire(ctx, q.user.page, q.user.psid, r.opts.Holder)
	cancel()
	if r.journal != nil {
		r.journal.failed(err)
	}
	if ok && r.released.dead(q.user, l.Token) {
		r.takeForwarded(fwd)
		ok = false
	}
	if !ok {
		q.lease = nil
		return false
	}
	if q.lease == nil || q.lease.Token != l.Token {
		q.th = th
	}
	q.lease, q.leasedAt = &l, at
	r.released.forget(q.user, l.Token)
	r.takeForwarded(fwd)
	return true
}

// leaseForAction checks, before a Graph call, that q still holds its thread: a lease older than
// a third of its TTL is renewed first. False: the lease is lost (the replica paused or the
// store failed), and the rest of the item is left to the thread's new holder.
func (r *Runner) leaseForAction(q *userQueue) bool {
	if q.lease == nil || r.fresh(q.leasedAt) {
		return true
	}
	tok := q.lease.Token
	if r.renew(q) && q.lease.Token == tok {
		return true
	}
	r.log.Warn("thread lease lost before an action: the event is left to the thread's holder", "page", q.user.page, "psid", q.user.psid)
	q.agenda, q.left = nil, true
	return false
}

// releaseLease gives the thread back once its queue has retired (when the last commit did
// not). Events forwarded to this replica meanwhile keep the lease: they are queued again, and
// their queue renews it. Until they are queued, the queue counts as pending, so that a drain
// does not end in between.
func (r *Runner) releaseLease(q *userQueue) {
	if q.lease == nil {
		return
	}
	r.disp.pending.Add(1)
	defer r.disp.release(1, 0)
	r.released.note(q.user, q.lease.Token)
	// Kept with nothing to queue (every forwarded event unreadable, and dropped): again.
	for range 3 {
		ctx, cancel := r.storeCtx()
		fwd, kept, err := r.opts.Leases.Release(ctx, *q.lease)
		cancel()
		if err != nil || !kept {
			break
		}
		if len(fwd) > 0 {
			r.released.kept(q.user, q.lease.Token)
			r.takeForwarded(fwd)
			break
		}
	}
	q.lease = nil
}

// setShared keeps a thread's new state and timer in q until the item's commit.
func (q *userQueue) setShared(th handover.Thread, at time.Time) {
	q.th, q.timerAt, q.dirty = th, at, true
}

// commit ends the item in progress under q's lease in one round trip: its state and timer,
// its journal entry acknowledged, and the lease given back when no item waits. A lost lease
// leaves the event in the journal for the thread's new holder (it checks thread_owner before
// repeating a pass or a take); a failed call leaves the acknowledgement to the next rounds.
func (r *Runner) commit(q *userQueue) {
	release := !r.disp.hasItems(q)
	if release {
		r.released.note(q.user, q.lease.Token) // before the call: an accept racing it sees the token dead
	}
	c := store.Commit{Thread: q.th, TimerAt: q.timerAt, Keep: !q.dirty, JID: q.jid, Release: release}
	ctx, cancel := r.storeCtx()
	fwd, kept, err := r.opts.Leases.Commit(ctx, *q.lease, c)
	cancel()
	switch {
	case err == store.ErrFenced:
		r.log.Warn("thread lease lost to another replica: the event is left to it", "page", q.user.page, "psid", q.user.psid)
		r.leftToOthers(q.jid)
		q.lease = nil
	case err != nil:
		if r.journal != nil && r.journal.failed(err) {
			r.log.Warn("the shared store did not take the end of an event's handling", "page", q.user.page, "psid", q.user.psid, "error", err.Error())
		}
		r.undone(q.jid)
		q.lease = nil
	default:
		crashAt("committed", "")
		if r.journal != nil {
			r.journal.failed(nil)
			r.journal.inWork.Delete(q.jid)
		}
		switch {
		case release && kept:
			r.released.kept(q.user, q.lease.Token) // not given back: the forwarded events follow
		case release:
			q.lease = nil
		}
		r.takeForwarded(fwd) // q is running: they join its items, in timestamp order
	}
}

// claimTimers puts a tick on the queue of each thread whose shared timer is due.
func (r *Runner) claimTimers(ctx context.Context) error {
	if r.opts.Leases == nil {
		return nil
	}
	due, err := r.opts.Leases.ClaimDue(ctx, r.clock.Now(), 256, r.opts.ClaimIdle)
	for _, m := range due {
		if page, psid, ok := store.SplitTimerMember(m); ok {
			r.disp.enqueueTick(userKey{page: page, psid: psid})
		}
	}
	return err
}
