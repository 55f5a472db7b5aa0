package runner_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
)

// gatedLeaser makes the first commit that would give a lease back keep it, with nothing
// forwarded (as when every forwarded event was unreadable), so that the retired queue gives it
// back itself; that first Release waits at the gate.
type gatedLeaser struct {
	runner.Leaser
	kept          atomic.Bool
	once          sync.Once
	entered, gate chan struct{}
}

func (g *gatedLeaser) Commit(ctx context.Context, l store.Lease, c store.Commit) ([]store.JournalEntry, bool, error) {
	if c.Release && g.kept.CompareAndSwap(false, true) {
		c.Release = false
		_, _, err := g.Leaser.Commit(ctx, l, c)
		return nil, true, err
	}
	return g.Leaser.Commit(ctx, l, c)
}

func (g *gatedLeaser) Release(ctx context.Context, l store.Lease) ([]store.JournalEntry, bool, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.gate
		ctx = context.Background() // the call's deadline passed at the gate
	})
	return g.Leaser.Release(ctx, l)
}

// A thread's next event that arrives while the replica is giving the thread's lease back (its
// queue retired) waits for that: the same token renewed meanwhile is dead once the release lands,
// and acting under it could overlap another replica's action on the thread.
func TestEventDuringTheLeasesReleaseWaitsForIt(t *testing.T) {
	srv := redistest.Start(t)
	s, j := sharedStore(t, srv.URL(0), "a", store.RedisOptions{})
	g := &gatedLeaser{Leaser: s, entered: make(chan struct{}), gate: make(chan struct{})}
	h := newHarness(t, func(o *runner.Options, _ *config.Page) {
		o.Store, o.Journal, o.Leases, o.Holder = s, j, g, "a"
		o.ClaimInterval = time.Hour
	})
	h.Engine.OnDecide = answerWithMID
	if got := h.Post(pageBody(textEvent("5100", "m_rel_1", 1700000000000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the queue never gave its lease back")
	}
	if got := h.Post(pageBody(textEvent("5100", "m_rel_2", 1700000001000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	time.Sleep(300 * time.Millisecond) // room for the second event to be handled, if it could be
	if n := h.Graph.Count("messages"); n != 1 {
		close(g.gate)
		t.Fatalf("%d replies while the lease's release was in flight, want 1 (the second event acted under a lease being given back)", n)
	}
	close(g.gate)
	eventually(t, "the second event answered after the release", func() bool { return h.Graph.Count("messages") == 2 })
	h.Drain()
	if n := h.Graph.Count("messages"); n != 2 {
		t.Fatalf("%d replies, want 2", n)
	}
}
