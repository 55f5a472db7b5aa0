package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
)

func journal(t *testing.T, s *store.Redis, consumer string) *store.Journal {
	t.Helper()
	j, err := store.NewJournal(context.Background(), s, consumer)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// An event recorded by a replica that dies before handling it is claimed by another once idle;
// one being handled (touched) or handled (done) is not; a redelivery to the other replica is a
// duplicate.
func TestJournalClaimsWhatADeadReplicaLeft(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a, b := newRedis(t, srv.URL(0)), newRedis(t, srv.URL(0))
	ja, jb := journal(t, a, "replica-a"), journal(t, b, "replica-b")
	var evs []handover.Event
	var keys []string
	for i := range 3 {
		evs = append(evs, handover.Event{Kind: handover.KindMessage, PageID: "p1", PSID: fmt.Sprint("u", i),
			MID: fmt.Sprint("m_", i), Text: "hello", Timestamp: t0})
		keys = append(keys, fmt.Sprint("m_", i))
	}
	rec, err := ja.Record(ctx, evs, keys, t0)
	if err != nil || len(rec) != 3 || rec[0].ID == "" || rec[2].ID == "" {
		t.Fatalf("record: %v %v", rec, err)
	}
	ids := []string{rec[0].ID, rec[1].ID, rec[2].ID}
	// Each new event's thread is leased to the recorder with the record (no state yet).
	for i, r := range rec {
		if r.Lease.Token <= 0 || r.Lease.Holder != "replica-a" || r.Lease.PSID != evs[i].PSID || r.Thread != (handover.Thread{}) {
			t.Fatalf("record %d: lease %+v thread %+v", i, r.Lease, r.Thread)
		}
	}
	// The same delivery at the other replica: all duplicates, and no lease.
	dup, err := jb.Record(ctx, evs, keys, t0)
	if err != nil || dup[0].ID != "" || dup[1].ID != "" || dup[2].ID != "" || dup[0].Lease.Token != 0 {
		t.Fatalf("redelivery recorded again: %v %v", dup, err)
	}
	// replica-a handles the first, is still working on the second, dies with the third.
	if err := ja.Done(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	const idle = 300 * time.Millisecond
	var claimed []store.JournalEntry
	deadline := time.Now().Add(10 * time.Second)
	for len(claimed) == 0 {
		if err := ja.Touch(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if claimed, err = jb.Claim(ctx, idle, 10); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the dead replica's event was never claimed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(claimed) != 1 || claimed[0].ID != ids[2] || !sameEvent(claimed[0].Event, evs[2]) {
		t.Fatalf("claimed %+v, want only the third event %s", claimed, ids[2])
	}
	// Claimed once: replica-a, back, finds nothing more to claim while replica-b touches it.
	_ = jb.Touch(ctx, ids[2])
	if again, _ := ja.Claim(ctx, idle, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	_ = jb.Done(ctx, ids[2])
	_ = ja.Done(ctx, ids[1])
	if n := a.Client().XLen(ctx, a.Key("events")).Val(); n != 0 {
		t.Fatalf("%d events left in the stream after all were handled", n)
	}
	if ttl := a.Client().PTTL(ctx, a.Key("events")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("stream TTL %v", ttl)
	}
}

// An event recorded survives a restart of redis-server (append-only, fsync always).
func TestJournalSurvivesRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := newRedis(t, srv.URL(0))
	ja := journal(t, a, "replica-a")
	ev := handover.Event{Kind: handover.KindMessage, PageID: "p1", PSID: "u1", MID: "m_1", Timestamp: t0}
	if _, err := ja.Record(ctx, []handover.Event{ev}, []string{"m_1"}, t0); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	jb := journal(t, newRedis(t, srv.URL(0)), "replica-b")
	got, err := jb.Claim(ctx, 0, 10)
	if err != nil || len(got) != 1 || !sameEvent(got[0].Event, ev) {
		t.Fatalf("after a restart: %+v %v", got, err)
	}
}

// sameEvent compares events up to the time zone of their timestamps.
func sameEvent(a, b handover.Event) bool {
	a.Timestamp, b.Timestamp = a.Timestamp.UTC(), b.Timestamp.UTC()
	return a == b
}

// An event recorded by a replica while another holds its thread's lease is handed to the
// holder: the holder's next commit, release or renewal returns it and keeps the lease; one the
// holder never took (it lost the lease first) goes to the next holder; one taken, claimed
// elsewhere or handled since is not returned, and a stale lease takes nothing.
func TestJournalForwardsToTheLeaseHolder(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	short := func(o *store.RedisOptions) { o.LeaseTTL = 300 * time.Millisecond }
	a, b := newRedis(t, srv.URL(0), short), newRedis(t, srv.URL(0), short)
	ja, jb := journal(t, a, "replica-a"), journal(t, b, "replica-b")
	ev := func(psid, mid string, sec int) handover.Event {
		return handover.Event{Kind: handover.KindMessage, PageID: "p1", PSID: psid, MID: mid, Text: "hi",
			Timestamp: t0.Add(time.Duration(sec) * time.Second)}
	}
	record := func(j *store.Journal, e handover.Event) store.Recorded {
		t.Helper()
		rec, err := j.Record(ctx, []handover.Event{e}, []string{e.MID}, t0)
		if err != nil || len(rec) != 1 || rec[0].ID == "" {
			t.Fatalf("record %s: %+v %v", e.MID, rec, err)
		}
		return rec[0]
	}
	pendingWith := func(id string) string {
		p := a.Client().XPendingExt(ctx, &redis.XPendingExtArgs{Stream: a.Key("events"), Group: "handlers", Start: id, End: id, Count: 1}).Val()
		if len(p) == 0 {
			return ""
		}
		return p[0].Consumer
	}
	r1 := record(ja, ev("u1", "m_1", 1))
	if r1.Forwarded || r1.Lease.Token <= 0 {
		t.Fatalf("first event of a free thread: %+v", r1)
	}
	r2 := record(jb, ev("u1", "m_2", 2))
	if !r2.Forwarded || r2.Lease.Token != 0 || pendingWith(r2.ID) != "replica-a" {
		t.Fatalf("an event of a thread replica-a holds: %+v (pending with %q), want forwarded to replica-a", r2, pendingWith(r2.ID))
	}
	if r3 := record(jb, ev("u2", "m_3", 3)); r3.Forwarded || r3.Lease.Token <= 0 {
		t.Fatalf("another thread's event was forwarded: %+v", r3)
	}
	fk := a.Key("q", "p1", "u1")
	if ttl := a.Client().PTTL(ctx, fk).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("forward list TTL %v", ttl)
	}
	// A release with a token that is not the lease's takes nothing and keeps nothing.
	if fwd, kept, err := a.Release(ctx, store.Lease{Page: "p1", PSID: "u1", Holder: "replica-a", Token: r1.Lease.Token + 100}); err != nil || kept || len(fwd) != 0 {
		t.Fatalf("stale release: %+v kept %v %v", fwd, kept, err)
	}
	// replica-a ends the first event asking for the lease back: it gets the second instead and
	// keeps the lease.
	fwd, kept, err := a.Commit(ctx, r1.Lease, store.Commit{Keep: true, JID: r1.ID, Release: true})
	if err != nil || !kept || len(fwd) != 1 || fwd[0].ID != r2.ID || !sameEvent(fwd[0].Event, ev("u1", "m_2", 2)) {
		t.Fatalf("commit returned %+v kept %v %v, want the forwarded %s", fwd, kept, err, r2.ID)
	}
	if _, _, ok, _, _ := b.Acquire(ctx, "p1", "u1", "replica-b"); ok {
		t.Fatal("the lease was given back although an event was forwarded")
	}
	if a.Client().Exists(ctx, fk).Val() != 0 {
		t.Fatal("the forward list outlived its take")
	}
	// A renewal takes what was forwarded since.
	r4 := record(jb, ev("u1", "m_4", 4))
	if _, _, ok, fwd, err := a.Acquire(ctx, "p1", "u1", "replica-a"); err != nil || !ok || len(fwd) != 1 || fwd[0].ID != r4.ID {
		t.Fatalf("renewal: %v %+v %v, want the forwarded %s", ok, fwd, err, r4.ID)
	}
	// Ending with nothing forwarded gives the lease back.
	if fwd, kept, err := a.Commit(ctx, r1.Lease, store.Commit{Keep: true, JID: r2.ID, Release: true}); err != nil || kept || len(fwd) != 0 {
		t.Fatalf("second commit: %+v kept %v %v", fwd, kept, err)
	}
	_ = ja.Done(ctx, r4.ID)
	lb, _, ok, _, _ := b.Acquire(ctx, "p1", "u1", "replica-b")
	if !ok {
		t.Fatal("the lease was kept with nothing forwarded")
	}
	// Stale forwards: one claimed by replica-c meanwhile, one handled.
	r5 := record(ja, ev("u1", "m_5", 5))
	r6 := record(ja, ev("u1", "m_6", 6))
	if !r5.Forwarded || !r6.Forwarded {
		t.Fatalf("events of a thread replica-b holds: %+v %+v", r5, r6)
	}
	if err := a.Client().XClaim(ctx, &redis.XClaimArgs{Stream: a.Key("events"), Group: "handlers",
		Consumer: "replica-c", Messages: []string{r5.ID}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := jb.Done(ctx, r6.ID); err != nil {
		t.Fatal(err)
	}
	if fwd, kept, err := b.Release(ctx, lb); err != nil || kept || len(fwd) != 0 {
		t.Fatalf("release returned stale forwards %+v kept %v %v", fwd, kept, err)
	}
	// replica-a holds the thread again; an event is forwarded to it; it loses the lease (it
	// stalls past the TTL) before taking it: the next holder takes it.
	la, _, ok, _, _ := a.Acquire(ctx, "p1", "u1", "replica-a")
	if !ok {
		t.Fatal("a released lease was not free")
	}
	// replica-b's old lease is fenced off: its commit returns nothing and takes nothing.
	if fwd, _, err := b.Commit(ctx, lb, store.Commit{Keep: true}); err != store.ErrFenced || fwd != nil {
		t.Fatalf("fenced commit: %+v %v", fwd, err)
	}
	r7 := record(jb, ev("u1", "m_7", 7))
	if !r7.Forwarded || pendingWith(r7.ID) != "replica-a" {
		t.Fatalf("not forwarded to replica-a: %+v", r7)
	}
	time.Sleep(400 * time.Millisecond)
	r8 := record(jb, ev("u1", "m_8", 8))
	if r8.Forwarded || r8.Lease.Token <= la.Token {
		t.Fatalf("after the lease expired: %+v", r8)
	}
	if fwd, kept, err := b.Commit(ctx, r8.Lease, store.Commit{Keep: true, JID: r8.ID, Release: true}); err != nil || !kept ||
		len(fwd) != 1 || fwd[0].ID != r7.ID || pendingWith(r7.ID) != "replica-b" {
		t.Fatalf("the next holder's commit: %+v kept %v %v, want %s", fwd, kept, err, r7.ID)
	}
	if fwd, kept, err := a.Release(ctx, la); err != nil || kept || len(fwd) != 0 {
		t.Fatalf("the old holder's release: %+v kept %v %v", fwd, kept, err)
	}
}

// A stream that expired (no event and no replica for an hour) or that the server lost is made
// again by the next record, with its group and TTL: the event is recorded once and delivered
// to its recorder, not taken for a duplicate. Each claim round keeps the stream's TTL.
func TestJournalMakesALostStreamAgain(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := newRedis(t, srv.URL(0))
	ja := journal(t, a, "replica-a")
	stream := a.Key("events")
	if err := a.Client().Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	ev := handover.Event{Kind: handover.KindMessage, PageID: "p1", PSID: "u1", MID: "m_1", Timestamp: t0}
	rec, err := ja.Record(ctx, []handover.Event{ev}, []string{"m_1"}, t0)
	if err != nil || len(rec) != 1 || rec[0].ID == "" || rec[0].Lease.Token <= 0 {
		t.Fatalf("record into a lost stream: %+v %v", rec, err)
	}
	p := a.Client().XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: "handlers", Start: "-", End: "+", Count: 10}).Val()
	if len(p) != 1 || p[0].ID != rec[0].ID || p[0].Consumer != "replica-a" {
		t.Fatalf("pending %+v, want %s with replica-a", p, rec[0].ID)
	}
	if ttl := a.Client().PTTL(ctx, stream).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("new stream's TTL %v", ttl)
	}
	if err := a.Client().Persist(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := ja.Claim(ctx, time.Hour, 10); err != nil {
		t.Fatal(err)
	}
	if ttl := a.Client().PTTL(ctx, stream).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("stream TTL after a claim round %v", ttl)
	}
}
