package runner

import (
	"context"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Leaser is a shared thread store with a lease per thread (store.Redis): one replica at a time
// acts on a thread, and a replica whose lease was taken over cannot write (fencing).
type Leaser interface {
	Acquire(ctx context.Context, page, psid, holder string) (store.Lease, bool, error)
	Release(ctx context.Context, l store.Lease) error
	// SaveThread writes the state and the thread's timer (zero: none) under the lease;
	// store.ErrFenced when it was lost.
	SaveThread(ctx context.Context, l store.Lease, th handover.Thread, timerAt time.Time) error
	// ClaimDue takes the timers due at now, each once across replicas.
	ClaimDue(ctx context.Context, now time.Time, n int) ([]string, error)
}

// leaseRetry is how soon a thread leased by another replica is tried again.
const leaseRetry = 50 * time.Millisecond

// holdLease takes (or renews) the lease of q's thread before its next item. False: another
// replica holds it, or the store failed; the queue then waits and is woken to try again.
func (r *Runner) holdLease(q *userQueue) bool {
	if r.opts.Leases == nil || !r.disp.hasItems(q) {
		return true
	}
	ctx, cancel := r.storeCtx()
	l, ok, err := r.opts.Leases.Acquire(ctx, q.user.page, q.user.psid, r.opts.Holder)
	cancel()
	if r.journal != nil {
		r.journal.failed(err)
	}
	if ok {
		q.lease = &l
		return true
	}
	r.disp.wait(q)
	r.clock.AfterFunc(leaseRetry, func() { r.disp.wake(q) })
	return false
}

// releaseLease gives the thread back once its queue is empty.
func (r *Runner) releaseLease(q *userQueue) {
	if q.lease == nil {
		return
	}
	ctx, cancel := r.storeCtx()
	_ = r.opts.Leases.Release(ctx, *q.lease)
	cancel()
	q.lease = nil
}

// saveShared writes a thread's state and timer under q's lease. A lost lease drops what is left
// of the item: another replica acts on the thread now, and the event, left unacknowledged in
// the journal, is claimed and handled there.
func (r *Runner) saveShared(q *userQueue, th handover.Thread, at time.Time) {
	ctx, cancel := r.storeCtx()
	err := r.opts.Leases.SaveThread(ctx, *q.lease, th, at)
	cancel()
	if err == store.ErrFenced {
		r.log.Warn("thread lease lost to another replica: its actions are left to it", "page", q.user.page, "psid", q.user.psid)
		q.agenda, q.fenced = nil, true
		return
	}
	if r.journal != nil && r.journal.failed(err) {
		r.log.Warn("the shared store did not take a thread's state", "page", q.user.page, "psid", q.user.psid, "error", err.Error())
	}
}

// claimTimers puts a tick on the queue of each thread whose shared timer is due.
func (r *Runner) claimTimers(ctx context.Context) error {
	if r.opts.Leases == nil {
		return nil
	}
	due, err := r.opts.Leases.ClaimDue(ctx, r.clock.Now(), 256)
	for _, m := range due {
		if page, psid, ok := store.SplitTimerMember(m); ok {
			r.disp.enqueueTick(userKey{page: page, psid: psid})
		}
	}
	return err
}
