package runner_test

import (
	"context"
	"fmt"
	"net/http"
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

// replica is a webhook harness whose runner shares the Redis store at url.
func replica(t *testing.T, url, name string, mod func(*runner.Options)) *webhooktest.Harness {
	t.Helper()
	s, j := sharedStore(t, url, name, store.RedisOptions{OpTimeout: 500 * time.Millisecond, LeaseTTL: 500 * time.Millisecond})
	return newHarness(t, func(o *runner.Options, _ *config.Page) {
		o.Store, o.Journal, o.Leases, o.Holder = s, j, s, name
		o.ClaimInterval, o.ClaimIdle = 50*time.Millisecond, 500*time.Millisecond
		if mod != nil {
			mod(o)
		}
	})
}

// sharedStore is replica name's client of the Redis store at url (the test page's prefix) and
// its journal.
func sharedStore(t *testing.T, url, name string, o store.RedisOptions) (*store.Redis, *store.Journal) {
	t.Helper()
	o.URL, o.KeyPrefix = url, "mo:{test/page/acme}:"
	s, err := store.NewRedis(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	j, err := store.NewJournal(context.Background(), s, name)
	if err != nil {
		t.Fatal(err)
	}
	return s, j
}

// The same delivery sent to two replicas at once is answered once: the dedup key is set in
// the shared store with the event, atomically.
func TestSameRedeliveryToTwoReplicasOneReply(t *testing.T) {
	srv := redistest.Start(t)
	a, b := replica(t, srv.URL(0), "a", nil), replica(t, srv.URL(0), "b", nil)
	for i := range 20 {
		body := pageBody(textEvent(fmt.Sprint("31", i), fmt.Sprint("m_twice_", i), 1700000000000))
		var wg sync.WaitGroup
		for _, h := range []*webhooktest.Harness{a, b} {
			wg.Go(func() {
				if got := h.Post(body); got != 200 {
					t.Errorf("status %d", got)
				}
			})
		}
		wg.Wait()
	}
	a.Drain()
	b.Drain()
	if n := a.Graph.Count("messages") + b.Graph.Count("messages"); n != 20 {
		t.Fatalf("%d replies to 20 messages each delivered to two replicas, want 20", n)
	}
	if d := a.Counter("messenger_webhook_ignored_events_total", "reason", "duplicate") +
		b.Counter("messenger_webhook_ignored_events_total", "reason", "duplicate"); d != 20 {
		t.Fatalf("duplicates counted %v, want 20", d)
	}
}

// With Redis, each replica's threads gauge counts the shared store's threads, those another
// replica wrote too.
func TestThreadsGaugeCountsTheSharedStore(t *testing.T) {
	srv := redistest.Start(t)
	a, b := replica(t, srv.URL(0), "a", nil), replica(t, srv.URL(0), "b", nil)
	for i := range 7 {
		b.Store.SetThread(webhooktest.PageID, fmt.Sprint("41", i), handover.Thread{Owner: handover.OwnerUs})
	}
	a.Store.SetThread(webhooktest.PageID, "500", handover.Thread{Owner: handover.OwnerOther, OwnerAppID: "263902037430900"})
	for name, h := range map[string]*webhooktest.Harness{"a": a, "b": b} {
		if n := h.Counter("messenger_webhook_threads", "owner", "bot"); n != 7 {
			t.Errorf("replica %s: messenger_webhook_threads{owner=bot} = %v, want the store's 7", name, n)
		}
		if n := h.Counter("messenger_webhook_threads", "owner", "inbox"); n != 1 {
			t.Errorf("replica %s: messenger_webhook_threads{owner=inbox} = %v, want 1", name, n)
		}
	}
}

// With the store down a delivery gets 503 (Meta retries it) and the replica is not ready;
// once the store is back, the retry is handled.
func TestStoreDownAnswers503(t *testing.T) {
	srv := redistest.Start(t)
	h := replica(t, srv.URL(0), "a", nil)
	if !h.Srv.Ready() {
		t.Fatal("not ready with the store up")
	}
	srv.Stop()
	body := pageBody(textEvent("3201", "m_down", 1700000000000))
	if got := h.Post(body); got != 503 {
		t.Fatalf("with the store down: %d, want 503", got)
	}
	if h.Srv.Ready() {
		t.Fatal("ready with the store down")
	}
	srv.Restart()
	webhooktest.Eventually(t, "ready again", h.Srv.Ready)
	if got := h.Post(body); got != 200 {
		t.Fatalf("Meta's retry: %d", got)
	}
	h.Drain()
	if n := h.Graph.Count("messages"); n != 1 {
		t.Fatalf("%d replies, want 1", n)
	}
}

// Events acknowledged by a replica that stops working on them (its process hung or died, here
// its Graph calls never return and it no longer touches the journal) are claimed and handled
// by another replica.
func TestAnotherReplicaFinishesWhatOneLeft(t *testing.T) {
	srv := redistest.Start(t)
	release := make(chan struct{})
	hung := replica(t, srv.URL(0), "hung", func(o *runner.Options) { o.ClaimInterval = time.Hour })
	t.Cleanup(func() { close(release) }) // before the harness's own cleanup, which drains it
	hung.Graph.SetScript(func(c webhooktest.GraphCall, _ int, w http.ResponseWriter) bool {
		<-release
		w.WriteHeader(http.StatusBadRequest)
		return true
	})
	const n = 10
	for i := range n {
		if got := hung.Post(pageBody(textEvent(fmt.Sprint("33", i), fmt.Sprint("m_left_", i), 1700000000000))); got != 200 {
			t.Fatalf("status %d", got)
		}
	}
	other := replica(t, srv.URL(0), "other", nil)
	webhooktest.Eventually(t, "the other replica to answer every acknowledged event", func() bool {
		return other.Graph.Count("messages") == n
	})
	if c := other.Counter("messenger_webhook_journal_claimed_total"); c != n {
		t.Fatalf("claimed %v, want %d", c, n)
	}
}

// The events of one thread delivered alternately to two replicas: one replica at a time acts
// on the thread (never two Graph calls of one thread at once), every message answered once.
func TestOneReplicaAtATimePerThread(t *testing.T) {
	srv := redistest.Start(t)
	a, b := replica(t, srv.URL(0), "a", nil), replica(t, srv.URL(0), "b", nil)
	var mu sync.Mutex
	inFlight := map[string]int{}
	var overlaps atomic.Int32
	slow := func(c webhooktest.GraphCall, _ int, _ http.ResponseWriter) bool {
		mu.Lock()
		inFlight[c.PSID]++
		if inFlight[c.PSID] > 1 {
			overlaps.Add(1)
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inFlight[c.PSID]--
		mu.Unlock()
		return false
	}
	a.Graph.SetScript(slow)
	b.Graph.SetScript(slow)
	const users, msgs = 8, 10
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i := range msgs {
				h := a
				if i%2 == 1 {
					h = b
				}
				body := pageBody(textEvent(fmt.Sprint("34", u), fmt.Sprintf("m_%d_%d", u, i), 1700000000000+int64(i)))
				if got := h.Post(body); got != 200 {
					t.Errorf("status %d", got)
				}
			}
		})
	}
	wg.Wait()
	webhooktest.Eventually(t, "every message answered", func() bool {
		return a.Graph.Count("messages")+b.Graph.Count("messages") >= users*msgs
	})
	a.Drain()
	b.Drain()
	if n := a.Graph.Count("messages") + b.Graph.Count("messages"); n != users*msgs {
		t.Fatalf("%d replies, want %d", n, users*msgs)
	}
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d Graph calls of a thread while another of the same thread was in flight", n)
	}
}

// A thread's timer is kept in the store: set by one replica, it fires once, in another replica
// when the first is gone.
func TestSharedTimerFiresOnceElsewhere(t *testing.T) {
	srv := redistest.Start(t)
	var ticks atomic.Int32
	due := time.Unix(1700000000, 0).Add(300 * time.Millisecond)
	engine := func(o *runner.Options) {
		e := &webhooktest.Engine{}
		e.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
			return handover.Decision{Thread: handover.Thread{Owner: handover.OwnerOther, PassedAt: ev.Timestamp}}
		}
		e.OnNextTick = func(th handover.Thread) time.Time {
			if th.Owner == handover.OwnerOther {
				return due
			}
			return time.Time{}
		}
		e.OnTick = func(th handover.Thread, now time.Time) handover.Decision {
			ticks.Add(1)
			return handover.Decision{Thread: handover.Thread{Owner: handover.OwnerUs}}
		}
		o.Engine = e
	}
	// The first replica sets the timer and stops claiming (as if gone) before it is due.
	first := replica(t, srv.URL(0), "first", func(o *runner.Options) { engine(o); o.ClaimInterval = time.Hour })
	if got := first.Post(pageBody(textEvent("3501", "m_timer", 1700000000000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	first.Drain()
	others := []*webhooktest.Harness{
		replica(t, srv.URL(0), "second", engine),
		replica(t, srv.URL(0), "third", engine),
	}
	webhooktest.Eventually(t, "the timer to fire", func() bool { return ticks.Load() > 0 })
	for _, h := range others {
		h.Drain()
	}
	time.Sleep(200 * time.Millisecond) // a few more claim rounds of both
	if n := ticks.Load(); n != 1 {
		t.Fatalf("the timer fired %d times, want once", n)
	}
}

// redis-server restarted mid-stream (append-only, fsync always): deliveries get 503 while it
// is down and are retried, as Meta does; every acknowledged event is answered, once.
func TestRedisRestartMidStreamLosesNothing(t *testing.T) {
	srv := redistest.Start(t)
	a, b := replica(t, srv.URL(0), "a", nil), replica(t, srv.URL(0), "b", nil)
	for _, h := range []*webhooktest.Harness{a, b} {
		h.Graph.SetScript(func(webhooktest.GraphCall, int, http.ResponseWriter) bool {
			time.Sleep(2 * time.Millisecond) // work queues when the restart lands
			return false
		})
	}
	const n = 200
	var refused, posted atomic.Int32
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				body := pageBody(textEvent(fmt.Sprint("36", i%20), fmt.Sprint("m_restart_", i), 1700000000000+int64(i)))
				for try := 0; ; try++ {
					h := a
					if (i+try)%2 == 1 {
						h = b
					}
					if h.Post(body) == 200 {
						posted.Add(1)
						time.Sleep(3 * time.Millisecond) // a stream, not a burst
						break
					}
					refused.Add(1)
					time.Sleep(20 * time.Millisecond) // Meta's retry, much sooner
				}
			}
		})
	}
	webhooktest.Eventually(t, "a quarter of the stream acknowledged", func() bool { return posted.Load() >= n/4 })
	srv.Restart()
	if p := posted.Load(); p >= n {
		t.Fatalf("the restart landed after the stream (%d of %d acknowledged)", p, n)
	}
	wg.Wait()
	webhooktest.Eventually(t, "every acknowledged event answered", func() bool {
		return a.Graph.Count("messages")+b.Graph.Count("messages") >= n
	})
	a.Drain()
	b.Drain()
	if got := a.Graph.Count("messages") + b.Graph.Count("messages"); got != n {
		t.Fatalf("%d replies to %d acknowledged events, want one each", got, n)
	}
	t.Logf("deliveries refused while redis-server restarted: %d", refused.Load())
}

// A replica stopping past its drain deadline leaves what it could not finish in the journal,
// unacknowledged (no dead letter): another replica claims those events and answers each once.
func TestDrainDeadlineLeavesEventsToOthers(t *testing.T) {
	srv := redistest.Start(t)
	stopping := replica(t, srv.URL(0), "stopping", func(o *runner.Options) { o.ClaimInterval = time.Hour })
	// The Graph API fails every call with a transient error: retried until the deadline.
	stopping.Graph.SetScript(func(_ webhooktest.GraphCall, _ int, w http.ResponseWriter) bool {
		return webhooktest.Answer(w, http.StatusServiceUnavailable, `{"error":{"message":"busy","code":2,"is_transient":true}}`)
	})
	const n = 8
	for i := range n {
		if got := stopping.Post(pageBody(textEvent(fmt.Sprint("37", i), fmt.Sprint("m_drain_", i), 1700000000000))); got != 200 {
			t.Fatalf("status %d", got)
		}
	}
	webhooktest.Eventually(t, "calls retried", func() bool { return stopping.Graph.Count("messages") >= n })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := stopping.Srv.Shutdown(ctx); err == nil {
		t.Fatal("the drain met its deadline with every call failing")
	}
	stopping.Drain()
	if d := stopping.Counter("messenger_webhook_dead_letters_total"); d != 0 {
		t.Fatalf("%v dead letters: the events were given up instead of left to another replica", d)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer func() { _ = c.Close() }()
	if left := c.XLen(context.Background(), "mo:{test/page/acme}:events").Val(); left != n {
		t.Fatalf("%d events left in the journal, want %d", left, n)
	}
	other := replica(t, srv.URL(0), "other", nil)
	webhooktest.Eventually(t, "the other replica to answer every event", func() bool {
		return other.Graph.Count("messages") == n
	})
	other.Drain()
	if got := other.Graph.Count("messages"); got != n {
		t.Fatalf("%d answers, want %d", got, n)
	}
	if left := c.XLen(context.Background(), "mo:{test/page/acme}:events").Val(); left != 0 {
		t.Fatalf("%d events left in the journal once answered", left)
	}
}

// A replica that made a pass and stopped before recording it leaves the event to another
// replica, which asks thread_owner before repeating the pass and, finding the thread passed,
// does not pass it again (the message before it may be repeated: the one duplicate allowed).
func TestClaimedEventChecksOwnerBeforeRepeatingAPass(t *testing.T) {
	srv := redistest.Start(t)
	handoff := func(o *runner.Options) {
		e := &webhooktest.Engine{}
		e.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
			pass := handover.Action{Kind: handover.ActPass, PSID: ev.PSID, TargetAppID: "263902037430900", Reason: "handoff"}
			return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID,
				Reason: "handoff", Message: &handover.OutMessage{Text: "passing you on"}, Then: []handover.Action{pass}}}}
		}
		o.Engine = e
	}
	release := make(chan struct{})
	first := replica(t, srv.URL(0), "first", func(o *runner.Options) { handoff(o); o.ClaimInterval = time.Hour })
	t.Cleanup(func() { close(release) })
	// The pass reaches Graph, and the replica never hears back (as if it died right after).
	first.Graph.SetScript(func(c webhooktest.GraphCall, _ int, _ http.ResponseWriter) bool {
		if c.Endpoint == "pass_thread_control" {
			<-release
		}
		return false
	})
	if got := first.Post(pageBody(textEvent("3801", "m_pass_once", 1700000000000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	webhooktest.Eventually(t, "the first replica's pass", func() bool { return first.Graph.Count("pass_thread_control") == 1 })
	second := replica(t, srv.URL(0), "second", handoff)
	second.Graph.SetOwner("263902037430900") // the pass took effect
	webhooktest.Eventually(t, "the second replica to finish the event", func() bool {
		return second.Counter("messenger_webhook_journal_claimed_total") == 1 && second.Srv.Pending() == 0 &&
			second.Graph.Count("thread_owner") >= 1
	})
	if n := second.Graph.Count("pass_thread_control"); n != 0 {
		t.Fatalf("the pass was repeated %d times", n)
	}
	if n := second.Graph.Count("messages"); n > 1 {
		t.Fatalf("%d messages repeated, at most one allowed", n)
	}
}
