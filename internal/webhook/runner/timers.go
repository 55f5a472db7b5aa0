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
	fire   func(psid string)
	count  atomic.Int64 // pending timers; lets the common "no timer" case skip the locks
	shards [16]timerShard
}

type timerShard struct {
	mu sync.Mutex
	m  map[string]*tickTimer
}

type tickTimer struct {
	at time.Time
	t  Timer
}

func newTickTimers(clock Clock, fire func(string)) *tickTimers {
	tt := &tickTimers{seed: maphash.MakeSeed(), clock: clock, fire: fire}
	for i := range tt.shards {
		tt.shards[i].m = make(map[string]*tickTimer)
	}
	return tt
}

// schedule makes psid's tick due at at; the zero time cancels it.
func (tt *tickTimers) schedule(psid string, at time.Time) {
	if at.IsZero() && tt.count.Load() == 0 {
		return
	}
	sh := &tt.shards[maphash.String(tt.seed, psid)%uint64(len(tt.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[psid]
	if old != nil {
		if old.at.Equal(at) {
			return
		}
		old.t.Stop()
		delete(sh.m, psid)
		tt.count.Add(-1)
	}
	if at.IsZero() {
		return
	}
	e := &tickTimer{at: at}
	delay := max(at.Sub(tt.clock.Now()), 0)
	e.t = tt.clock.AfterFunc(delay, func() {
		sh.mu.Lock()
		if sh.m[psid] != e {
			sh.mu.Unlock()
			return // replaced or cancelled meanwhile
		}
		delete(sh.m, psid)
		tt.count.Add(-1)
		sh.mu.Unlock()
		tt.fire(psid)
	})
	sh.m[psid] = e
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
