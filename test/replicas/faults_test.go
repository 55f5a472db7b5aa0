package replicas

import (
	"flag"
	"testing"
	"time"
)

var conversationCount = flag.Int("conversations", 1000, "conversations of each fault run")

// faultRun plays the conversations over three replicas with the Graph API slowed to about
// 300 ms a call (so that accepted work queues when the fault lands), runs fault once a tenth
// of them are over, and checks that no accepted event was lost; duplicates only where a
// replica was killed between a Graph call and its record.
func faultRun(t *testing.T, fault func(r *rig), killed bool) {
	r := newRig(t, 3, 3*time.Second)
	r.graphDelay.Store(int64(300 * time.Millisecond))
	for _, p := range r.replicas {
		p.start("")
	}
	convs := r.conversations(*conversationCount)
	start := time.Now()
	r.play(convs, 100, len(convs)/10, func() { fault(r) })
	maxDup := 0
	if killed {
		// At most one per thread in flight at the kill: bounded by the conversations in play.
		maxDup = 100
	}
	dups := r.check(convs, maxDup)
	t.Logf("%d conversations in %v; %d duplicate messages", len(convs), time.Since(start).Round(time.Second), dups)
}

// kill -9 of one replica mid-stream, restarted a little later.
func TestKillOneReplicaMidStream(t *testing.T) {
	faultRun(t, func(r *rig) {
		r.replicas[1].kill()
		time.Sleep(2 * time.Second)
		r.replicas[1].start("")
	}, true)
}

// redis-server restarted mid-stream (append-only, fsync always): deliveries get 503 while it is
// down and the simulator redelivers them.
func TestRestartRedisMidStream(t *testing.T) {
	faultRun(t, func(r *rig) { r.redis.Restart() }, false)
}

// The replicas restarted one by one (SIGTERM: drain, exit; then started again), as a rollout.
func TestRollingRestart(t *testing.T) {
	faultRun(t, func(r *rig) {
		for _, p := range r.replicas {
			p.stop()
			p.start("")
		}
	}, false)
}
