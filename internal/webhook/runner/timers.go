package runner

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// tickTimers keeps at most one pending engine tick per user (the idle timeout). A fired timer
// puts a tick on the user's queue, so ticks run in line with the user's events.
type tickTimers struct {
	seed   maphash.Seed
	clock  Clock
	fire   func(userKey)
	count  atomic.Int64 // pending timers; lets the common "no timer" case skip the locks
	shards [16]timerShard
}

type timerShard struct {
	mu sync.Mutex
	m  map[userKey]*tickTimer
}

type tickTimer struct {
	at time.Time
	t  Timer
}

func newTickTimers(clock Clock, fire func(userKey)) *tickTimers {
	tt := &tickTimers{seed: maphash.MakeSeed(), clock: clock, fire: fire}
	for i := range tt.shards {
		tt.shards[i].m = make(map[userKey]*tickTimer)
	}
	return tt
}

// schedule makes the user's tick due at at; the zero time cancels it.
func (tt *tickTimers) schedule(user userKey, at time.Time) {
	if at.IsZero() && tt.count.Load() == 0 {
		return
	}
	sh := &tt.shards[maphash.Comparable(tt.seed, user)%uint64(len(tt.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[user]
	if old != nil {
		if old.at.Equal(at) {
			return
		}
		old.t.Stop()
		delete(sh.m, user)
		tt.count.Add(-1)
	}
	if at.IsZero() {
		return
	}
	e := &tickTimer{at: at}
	delay := max(at.Sub(tt.clock.Now()), 0)
	e.t = tt.clock.AfterFunc(delay, func() {
		sh.mu.Lock()
		if sh.m[user] != e {
			sh.mu.Unlock()
			return // replaced or cancelled meanwhile
		}
		delete(sh.m, user)
		tt.count.Add(-1)
		sh.mu.Unlock()
		tt.fire(user)
	})
	sh.m[user] = e
	tt.count.Add(1)
}

// stopAll cancels every pending tick (after shutdown).
func (tt *tickTimers) stopAll() {
	for i := range tt.shards {
		sh := &tt.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			e.t.Stop()
			delete(sh.m, k)
			tt.count.Add(-1)
		}
		sh.mu.Unlock()
	}
}
