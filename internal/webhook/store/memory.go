package store

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// MemoryOptions bound a Memory store's size.
type MemoryOptions struct {
	// MaxThreads kept; beyond it the least recently used of a small sample is forgotten (its
	// owner becomes unknown again and is asked of Graph). Default 50000 (~9 MB).
	MaxThreads int
	// MaxSeen dedup keys kept (about 36 bytes each with the map); the oldest go first. Default
	// 200000 (~7 MB).
	MaxSeen int
	// SeenTTL is how long after the event's own timestamp its key is remembered. Meta retries
	// within minutes; default 1 hour.
	SeenTTL time.Duration
}

const storeShards = 32

// Memory is the in-process Store: the API allows one webhook replica per page, so the
// process is the only writer. It is sharded so that no single lock serialises the hot path.
type Memory struct {
	seed    maphash.Seed
	threads [storeShards]threadShard
	seen    [storeShards]seenShard
	ttl     time.Duration
	early   atomic.Uint64 // keys forgotten before their TTL because the ring was full
}

type threadKey struct{ page, psid string }

type threadEntry struct {
	th   handover.Thread
	used int64 // logical clock of the last use, for eviction
}

type threadShard struct {
	mu   sync.Mutex
	m    map[threadKey]*threadEntry
	max  int
	tick int64
}

// seenShard is a hash set with expiry and a FIFO ring that bounds it: keys are 64-bit hashes
// (a false duplicate among 200k keys has a probability around 1e-9).
type seenShard struct {
	mu   sync.Mutex
	m    map[uint64]int64 // hash -> expiry (unix ns)
	ring []seenRec
	head int
	n    int
}

type seenRec struct {
	h   uint64
	exp int64
}

// NewMemory builds an empty Memory store.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxThreads <= 0 {
		o.MaxThreads = 50000
	}
	if o.MaxSeen <= 0 {
		o.MaxSeen = 200000
	}
	if o.SeenTTL <= 0 {
		o.SeenTTL = DedupWindow
	}
	s := &Memory{seed: maphash.MakeSeed(), ttl: o.SeenTTL}
	perThreads := max(1, (o.MaxThreads+storeShards-1)/storeShards)
	perSeen := max(1, (o.MaxSeen+storeShards-1)/storeShards)
	for i := range s.threads {
		s.threads[i].m = make(map[threadKey]*threadEntry)
		s.threads[i].max = perThreads
		s.seen[i].m = make(map[uint64]int64)
		s.seen[i].ring = make([]seenRec, perSeen)
	}
	return s
}

func (s *Memory) Thread(pageID, psid string) handover.Thread {
	sh := &s.threads[maphash.String(s.seed, psid)%storeShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[threadKey{pageID, psid}]; ok {
		sh.tick++
		e.used = sh.tick
		return e.th
	}
	return handover.Thread{}
}

func (s *Memory) SetThread(pageID, psid string, th handover.Thread) {
	sh := &s.threads[maphash.String(s.seed, psid)%storeShards]
	k := threadKey{pageID, psid}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.tick++
	if e, ok := sh.m[k]; ok {
		e.th, e.used = th, sh.tick
		return
	}
	if th == (handover.Thread{}) {
		return // unknown is what a missing entry means already
	}
	if len(sh.m) >= sh.max {
		sh.evict()
	}
	sh.m[k] = &threadEntry{th: th, used: sh.tick}
}

// evict forgets the least recently used of a few entries (map order is random enough), like an
// approximate LRU without a list to maintain on every access.
func (sh *threadShard) evict() {
	var victim threadKey
	oldest := int64(-1)
	n := 0
	for k, e := range sh.m {
		if oldest < 0 || e.used < oldest {
			victim, oldest = k, e.used
		}
		if n++; n == 8 {
			break
		}
	}
	delete(sh.m, victim)
}

func (s *Memory) FirstSeen(key string, at, now time.Time) bool {
	h := maphash.String(s.seed, key)
	sh := &s.seen[h%storeShards]
	t := now.UnixNano()
	exp := at.UnixNano() + int64(s.ttl) // the window runs on the event's own time
	if exp <= t {
		return false // past the window: the replay cut-off, never recorded
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if exp, ok := sh.m[h]; ok && exp > t {
		return false
	}
	// Drop expired keys at the front, then make room if the ring is full.
	for sh.n > 0 && (sh.ring[sh.head].exp <= t || sh.n == len(sh.ring)) {
		r := sh.ring[sh.head]
		if r.exp > t {
			s.early.Add(1) // the dedup window is shorter than the TTL from here on
		}
		if sh.m[r.h] == r.exp {
			delete(sh.m, r.h)
		}
		sh.head = (sh.head + 1) % len(sh.ring)
		sh.n--
	}
	sh.m[h] = exp
	sh.ring[(sh.head+sh.n)%len(sh.ring)] = seenRec{h: h, exp: exp}
	sh.n++
	return true
}

// EarlyEvictions counts the dedup keys forgotten before their TTL because MaxSeen was reached:
// with the defaults, from about 55 keyed events a second on (200000 keys per hour).
func (s *Memory) EarlyEvictions() uint64 { return s.early.Load() }

// EachThread calls f with every thread the store holds, a shard at a time (under its lock: f
// must be quick and must not call the store).
func (s *Memory) EachThread(f func(pageID string, th *handover.Thread)) {
	for i := range s.threads {
		sh := &s.threads[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			f(k.page, &e.th)
		}
		sh.mu.Unlock()
	}
}
