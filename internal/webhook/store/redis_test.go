package store_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
)

var t0 = time.Unix(1_700_000_000, 0)

const prefix = "mo:{test/app/acme}:"

func newRedis(t *testing.T, url string, mod ...func(*store.RedisOptions)) *store.Redis {
	t.Helper()
	o := store.RedisOptions{URL: url, KeyPrefix: prefix}
	for _, m := range mod {
		m(&o)
	}
	s, err := store.NewRedis(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Two replicas (two clients) share the dedup set: a key recorded by one is seen by the other;
// the window is one hour of the event's own time, and an event past it is never recorded.
func TestRedisDedupAcrossClients(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newRedis(t, srv.URL(0)), newRedis(t, srv.URL(0))
	ctx := context.Background()
	now := t0.Add(10 * time.Minute)
	if ok, err := a.SeenFirst(ctx, "m_1", t0, now); err != nil || !ok {
		t.Fatalf("first sight: %v %v", ok, err)
	}
	if ok, err := b.SeenFirst(ctx, "m_1", t0, now); err != nil || ok {
		t.Fatalf("the other replica found it new: %v %v", ok, err)
	}
	ttl := a.Client().PTTL(ctx, a.Key("d", "m_1")).Val()
	if ttl <= 0 || ttl > 50*time.Minute {
		t.Fatalf("dedup key TTL %v, want at most the hour left of the event's window (50m)", ttl)
	}
	if ok, _ := b.SeenFirst(ctx, "m_old", t0.Add(-2*time.Hour), now); ok {
		t.Fatal("an event older than the window was new")
	}
	if n := a.Client().Exists(ctx, a.Key("d", "m_old")).Val(); n != 0 {
		t.Fatal("an event past the window was recorded")
	}
	// The Store method says the same.
	if b.FirstSeen("m_1", t0, now) || !b.FirstSeen("m_2", t0, now) {
		t.Fatal("FirstSeen disagrees with SeenFirst")
	}
}

// A lease is exclusive; a crashed holder loses it after its TTL; a new holder gets a larger
// fencing token, and the old holder, paused past its lease, can no longer write.
func TestRedisLeaseExpiryAndFencing(t *testing.T) {
	srv := redistest.Start(t)
	short := func(o *store.RedisOptions) { o.LeaseTTL = 300 * time.Millisecond }
	a, b := newRedis(t, srv.URL(0), short), newRedis(t, srv.URL(0), short)
	ctx := context.Background()
	la, _, ok, _, err := a.Acquire(ctx, "p1", "u1", "replica-a")
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if _, _, ok, _, _ := b.Acquire(ctx, "p1", "u1", "replica-b"); ok {
		t.Fatal("two holders at once")
	}
	if _, _, ok, _, _ := b.Acquire(ctx, "p1", "u2", "replica-b"); !ok {
		t.Fatal("another thread's lease was refused")
	}
	renewed, _, ok, _, _ := a.Acquire(ctx, "p1", "u1", "replica-a")
	if !ok || renewed.Token != la.Token {
		t.Fatalf("renewal: %+v %v, want token %d", renewed, ok, la.Token)
	}
	us := handover.Thread{Owner: handover.OwnerUs, LastUserAt: t0}
	if err := save(ctx, a, la, us, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// replica-a stops renewing (crashed or paused): replica-b gets the lease once it expires.
	var lb store.Lease
	deadline := time.Now().Add(10 * time.Second)
	for {
		if lb, _, ok, _, err = b.Acquire(ctx, "p1", "u1", "replica-b"); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease of a holder that stopped renewing never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lb.Token <= la.Token {
		t.Fatalf("new token %d, want > %d", lb.Token, la.Token)
	}
	other := handover.Thread{Owner: handover.OwnerOther, OwnerAppID: "263902037430900", PassedAt: t0}
	if err := save(ctx, a, la, other, t0); err != store.ErrFenced {
		t.Fatalf("a write under a lost lease: %v, want ErrFenced", err)
	}
	if th, _ := b.LoadThread(ctx, "p1", "u1"); th != us {
		t.Fatalf("the fenced write changed the thread: %+v", th)
	}
	if err := save(ctx, b, lb, other, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if th, _ := a.LoadThread(ctx, "p1", "u1"); th != other {
		t.Fatalf("thread %+v, want %+v", th, other)
	}
	// Release by the old holder does nothing; by the holder frees the thread.
	_, _, _ = a.Release(ctx, la)
	if _, _, ok, _, _ := a.Acquire(ctx, "p1", "u1", "replica-a"); ok {
		t.Fatal("a stale release freed another holder's lease")
	}
	_, _, _ = b.Release(ctx, lb)
	if _, _, ok, _, _ := a.Acquire(ctx, "p1", "u1", "replica-a"); !ok {
		t.Fatal("a released lease was not free")
	}
}

// Due timers are claimed once across replicas racing for them; timers not yet due stay.
func TestRedisTimerClaimRace(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	clients := []*store.Redis{newRedis(t, srv.URL(0)), newRedis(t, srv.URL(0)), newRedis(t, srv.URL(0))}
	const n = 300
	for i := range n {
		psid := fmt.Sprint("u", i)
		l, _, ok, _, err := clients[0].Acquire(ctx, "p1", psid, "setter")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		at := t0.Add(time.Duration(i%3) * time.Minute) // a third due at t0, a third at +1m, +2m
		if err := save(ctx, clients[0], l, handover.Thread{Owner: handover.OwnerOther, PassedAt: t0}, at); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(90 * time.Second) // the first two thirds are due
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := c.ClaimDue(ctx, now, 7, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						claimed[m]++
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(claimed) != 2*n/3 {
		t.Fatalf("%d timers claimed, want %d", len(claimed), 2*n/3)
	}
	for m, k := range claimed {
		if k != 1 {
			t.Fatalf("timer %s claimed %d times", m, k)
		}
		page, psid, ok := store.SplitTimerMember(m)
		var i int
		_, _ = fmt.Sscanf(psid, "u%d", &i)
		if !ok || page != "p1" || i%3 == 2 {
			t.Fatalf("claimed %q (not due)", m)
		}
	}
	if left, _ := clients[1].ClaimDue(ctx, t0.Add(2*time.Minute), n, 0); len(left) != n/3 {
		t.Fatalf("%d timers left, want %d", len(left), n/3)
	}
	// A claimed timer that nobody handled (its claimer died) is due again after the reclaim
	// time: every one of them, once more.
	if again, _ := clients[2].ClaimDue(ctx, now.Add(time.Hour), n, time.Hour); len(again) != n {
		t.Fatalf("%d timers due again after the reclaim time, want %d", len(again), n)
	}
}

// Every key the store writes has the webhook's prefix and a TTL; thread states hold ids, owners
// and times only.
func TestRedisKeysHavePrefixAndTTL(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedis(t, srv.URL(0))
	ctx := context.Background()
	s.FirstSeen("m_1", t0, t0)
	l, _, _, _, _ := s.Acquire(ctx, "p1", "u1", "r")
	th := handover.Thread{Owner: handover.OwnerOther, OwnerAppID: "263902037430900", PassedAt: t0, AgentActive: true,
		LastAgentAt: t0.Add(time.Second), Unreachable: true, HandoverAt: t0.Add(2 * time.Second),
		LastUserAt: t0.Add(3 * time.Second), ErrorAt: t0.Add(4 * time.Second)}
	if err := save(ctx, s, l, th, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.SetThread("p1", "u2", handover.Thread{Owner: handover.OwnerUs})
	if got := s.Thread("p1", "u1"); got != th {
		t.Fatalf("thread %+v, want %+v", got, th)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer func() { _ = c.Close() }()
	keys := c.Keys(ctx, "*").Val()
	if len(keys) < 5 {
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q without the prefix", k)
		}
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %q has no TTL (%v)", k, ttl)
		}
	}
	if s.Errors() != 0 {
		t.Fatalf("%d errors", s.Errors())
	}
}

// The URL never appears in an error (it may hold a password); a store that cannot be reached
// fails its calls instead of answering from nothing.
func TestRedisURLNeverInErrors(t *testing.T) {
	_, err := store.NewRedis(store.RedisOptions{URL: "http://:hunter2@x"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
	srv := redistest.Start(t)
	s := newRedis(t, "redis://:hunter2@"+srv.Addr+"/0", func(o *store.RedisOptions) { o.OpTimeout = 200 * time.Millisecond })
	srv.Stop()
	if _, err := s.SeenFirst(context.Background(), "m", t0, t0); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a call to a stopped server: %v", err)
	}
}

// The Redis store lists every thread it holds, by page, for the threads-by-owner gauge: what
// another client of the same store wrote too, and nothing of another prefix.
func TestRedisEachThread(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newRedis(t, srv.URL(0)), newRedis(t, srv.URL(0))
	other := newRedis(t, srv.URL(0), func(o *store.RedisOptions) { o.KeyPrefix = "other:" })
	a.SetThread("111", "u1", handover.Thread{Owner: handover.OwnerUs})
	b.SetThread("111", "u2", handover.Thread{Owner: handover.OwnerOther, OwnerAppID: "263902037430900"})
	b.SetThread("222", "u1", handover.Thread{Owner: handover.OwnerIdle})
	other.SetThread("333", "u1", handover.Thread{Owner: handover.OwnerUs})
	for i := range 1200 { // more than one SCAN batch
		a.SetThread("222", fmt.Sprintf("bulk%d", i), handover.Thread{Owner: handover.OwnerUs})
	}
	got := map[string]int{}
	a.EachThread(func(page string, th *handover.Thread) { got[fmt.Sprintf("%s/%d", page, th.Owner)]++ })
	want := map[string]int{
		fmt.Sprintf("111/%d", handover.OwnerUs):    1,
		fmt.Sprintf("111/%d", handover.OwnerOther): 1,
		fmt.Sprintf("222/%d", handover.OwnerIdle):  1,
		fmt.Sprintf("222/%d", handover.OwnerUs):    1200,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("threads %v, want %v", got, want)
	}
	if a.Errors() != 0 {
		t.Fatalf("%d store errors", a.Errors())
	}
}

// save writes a thread's state and timer under l, as a commit without a journal entry.
func save(ctx context.Context, s *store.Redis, l store.Lease, th handover.Thread, timerAt time.Time) error {
	_, _, err := s.Commit(ctx, l, store.Commit{Thread: th, TimerAt: timerAt})
	return err
}
