package runner_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// roundTrips counts the client's round trips to the server: one per command sent alone, one
// per pipeline.
type roundTrips struct{ n atomic.Int64 }

// perConnection are the commands of a new connection's handshake: the pool's cost, not an
// event's.
var perConnection = map[string]bool{"hello": true, "auth": true, "select": true, "client": true}

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if perConnection[cmd.Name()] {
			return next(ctx, cmd)
		}
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !perConnection[cmd.Name()] {
				c.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// countedReplica is a replica sharing the Redis store at url whose round trips to it are
// counted, with no background rounds (timers, claims): only the hot path is counted.
func countedReplica(t *testing.T, url, name string, rt *roundTrips) *webhooktest.Harness {
	t.Helper()
	s, j := sharedStore(t, url, name, store.RedisOptions{})
	s.Client().AddHook(rt)
	return newHarness(t, func(o *runner.Options, _ *config.Page) {
		o.Store, o.Journal, o.Leases, o.Holder = s, j, s, name
		o.ClaimInterval = time.Hour
	})
}

// The hot path costs at most two round trips to Redis per event: the record (dedup, journal,
// the thread's lease and state) before the 200, and the commit (state, timer, acknowledgement,
// the lease given back) after the actions. Conversations go round-robin over two replicas,
// each message after the answer to the one before, like people typing; every message gets a
// reply and a pass, which changes the thread's state.
func TestHotPathAtMostTwoRoundTripsPerEvent(t *testing.T) {
	srv := redistest.Start(t)
	counters := []*roundTrips{{}, {}}
	replicas := []*webhooktest.Harness{countedReplica(t, srv.URL(0), "a", counters[0]), countedReplica(t, srv.URL(0), "b", counters[1])}
	for _, h := range replicas {
		h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
			if ev.Kind != handover.KindMessage {
				return handover.Decision{Thread: th}
			}
			th.Owner, th.LastUserAt = handover.OwnerUs, ev.Timestamp
			pass := handover.Action{Kind: handover.ActPass, PSID: ev.PSID, TargetAppID: "263902037430900", Reason: "handoff"}
			return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID,
				Reason: "handoff", Message: &handover.OutMessage{Text: "passing you on"}, Then: []handover.Action{pass}}}}
		}
	}
	const users, msgs = 20, 6
	replies := func() int { return replicas[0].Graph.Count("messages") + replicas[1].Graph.Count("messages") }
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer func() { _ = c.Close() }()
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i := range msgs {
				h := replicas[(u+i)%2]
				body := pageBody(textEvent(fmt.Sprint("41", u), fmt.Sprintf("m_rt_%d_%d", u, i), 1700000000000+int64(i)))
				if got := h.Post(body); got != 200 {
					t.Errorf("status %d", got)
					return
				}
				// The next message of this user comes once this one is handled: its lease given
				// back with the commit.
				webhooktest.Eventually(t, "the handling", func() bool {
					return c.Exists(context.Background(), fmt.Sprintf("mo:{test/page/acme}:l:%s:41%d", testPage, u)).Val() == 0
				})
			}
		})
	}
	wg.Wait()
	webhooktest.Eventually(t, "every message answered", func() bool { return replies() == users*msgs })
	for _, h := range replicas {
		h.Drain()
	}
	events := int64(users * msgs)
	total := counters[0].n.Load() + counters[1].n.Load()
	t.Logf("%d round trips to Redis for %d events (%.2f per event)", total, events, float64(total)/float64(events))
	if total > 2*events {
		t.Fatalf("%d round trips for %d events: more than 2 per event", total, events)
	}
	// The work was done: a reply and a pass per message, the journal empty.
	if p := replicas[0].Graph.Count("pass_thread_control") + replicas[1].Graph.Count("pass_thread_control"); p != users*msgs {
		t.Fatalf("%d passes, want %d", p, users*msgs)
	}
	if n := c.XLen(context.Background(), "mo:{test/page/acme}:events").Val(); n != 0 {
		t.Fatalf("%d events left in the journal", n)
	}
}
