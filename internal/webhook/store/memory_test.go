package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestMemoryThreads(t *testing.T) {
	s := NewMemory(MemoryOptions{})
	if th := s.Thread("p1", "u1"); th != (handover.Thread{}) {
		t.Fatalf("unknown thread = %+v, want the zero Thread", th)
	}
	s.SetThread("p1", "u1", handover.Thread{Owner: handover.OwnerUs})
	if th := s.Thread("p1", "u1"); th.Owner != handover.OwnerUs {
		t.Fatalf("thread = %+v", th)
	}
	if th := s.Thread("p2", "u1"); th != (handover.Thread{}) {
		t.Fatalf("another page's thread of the same user = %+v", th)
	}
	s.SetThread("p1", "u1", handover.Thread{})
	if th := s.Thread("p1", "u1"); th != (handover.Thread{}) {
		t.Fatalf("reset thread = %+v", th)
	}
}

// The thread table is bounded: beyond MaxThreads some threads are forgotten (their owner becomes
// unknown again), the recently used ones last.
func TestMemoryThreadsAreBounded(t *testing.T) {
	const max = 64
	s := NewMemory(MemoryOptions{MaxThreads: max})
	us := handover.Thread{Owner: handover.OwnerUs}
	for i := range 10 * max {
		s.SetThread("p", fmt.Sprint(i), us)
	}
	known := 0
	for i := range 10 * max {
		if s.Thread("p", fmt.Sprint(i)) == us {
			known++
		}
	}
	if known == 0 || known > max {
		t.Fatalf("%d threads kept, want 1..%d", known, max)
	}
}

func TestMemoryFirstSeen(t *testing.T) {
	s := NewMemory(MemoryOptions{SeenTTL: time.Minute})
	if !s.FirstSeen("m_1", t0, t0) {
		t.Fatal("a new key was seen before")
	}
	if s.FirstSeen("m_1", t0, t0.Add(59*time.Second)) {
		t.Fatal("a key within its window was new")
	}
	// The window runs on the event's own time: the same event past it is a replay, never new.
	if s.FirstSeen("m_1", t0, t0.Add(2*time.Minute)) {
		t.Fatal("an event past its window was new")
	}
	if s.FirstSeen("m_2", t0.Add(-2*time.Minute), t0) {
		t.Fatal("an event older than the window was new")
	}
	// A key whose window ended is forgotten: a later event with the same key is new.
	if !s.FirstSeen("m_1", t0.Add(2*time.Minute), t0.Add(2*time.Minute)) {
		t.Fatal("a key past its window was still seen")
	}
}

// The dedup set is bounded: beyond MaxSeen the oldest keys go first.
func TestMemoryFirstSeenIsBounded(t *testing.T) {
	const max = 64
	s := NewMemory(MemoryOptions{MaxSeen: max})
	for i := range 10 * max {
		s.FirstSeen(fmt.Sprint("m_", i), t0, t0)
	}
	if !s.FirstSeen("m_0", t0, t0) {
		t.Error("the oldest key was kept beyond the bound")
	}
	if s.FirstSeen(fmt.Sprint("m_", 10*max-1), t0, t0) {
		t.Error("the newest key was forgotten")
	}
}

// Keys pushed out of a full ring before their TTL are counted; keys that expired are not.
func TestMemoryEarlyEvictionsCounted(t *testing.T) {
	s := NewMemory(MemoryOptions{MaxSeen: storeShards, SeenTTL: time.Hour}) // one key per shard
	now := time.Unix(1700000000, 0)
	for i := range 1000 {
		s.FirstSeen(fmt.Sprintf("expired-%d", i), now, now)
		now = now.Add(time.Hour) // each key has expired when the next arrives
	}
	if n := s.EarlyEvictions(); n != 0 {
		t.Fatalf("expired keys counted as early evictions: %d", n)
	}
	for i := range 1000 {
		s.FirstSeen(fmt.Sprintf("live-%d", i), now, now)
	}
	if n := s.EarlyEvictions(); n < 1000-storeShards {
		t.Fatalf("early evictions %d after 1000 keys within the TTL in %d slots, want >= %d", n, storeShards, 1000-storeShards)
	}
}
