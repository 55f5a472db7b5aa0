package simulator

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if err := e.sim.Advance(d); err != nil {
		e.t.Fatal(err)
	}
	e.idle()
}

func (e *env) subscribed(app string) bool {
	e.t.Helper()
	g := e.call("GET", "/v25.0/me/subscribed_apps", e.token(app), nil)
	return strings.Contains(string(g.raw), e.sim.AppID(app))
}

// A body that keeps failing is retried with growing gaps on the simulator clock; the attempt an
// hour after the first failure disables the webhook (reference §2.3).
func TestLateRetriesOverTheHourThenWebhooksDisabled(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxDeliveryAttempts = 2 })
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 500, 0 })
	e.say("one")
	if n := len(e.bot.allPosts()); n != 2 {
		t.Fatalf("posts after the first burst = %d, want 2", n)
	}
	e.advance(59 * time.Second)
	if n := len(e.bot.allPosts()); n != 2 {
		t.Fatalf("a retry came before its time: %d posts", n)
	}
	e.advance(time.Second)
	posts := e.bot.allPosts()
	if len(posts) != 3 || !bytes.Equal(posts[2].body, posts[0].body) || posts[2].sig256 != posts[0].sig256 {
		t.Fatalf("the late attempt is not the same body: %d posts", len(posts))
	}
	if !e.subscribed(botName) {
		t.Fatal("unsubscribed too early")
	}
	e.advance(2 * time.Hour)
	var at []time.Duration
	for _, d := range e.sim.Deliveries(botName) {
		at = append(at, d.At.Sub(t0))
	}
	want := []time.Duration{0, 0, time.Minute, 3 * time.Minute, 7 * time.Minute, 15 * time.Minute,
		30 * time.Minute, 45 * time.Minute, 60 * time.Minute}
	if len(at) != len(want) {
		t.Fatalf("attempts at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
	}
	d := e.sim.Deliveries(botName)
	if last := d[len(d)-1]; !last.Final || last.Attempt != 9 || !last.NextAttempt.IsZero() {
		t.Fatalf("last attempt = %+v", last)
	}
	if e.sim.PendingRetries(botName) != 0 {
		t.Fatal("a retry is still pending after the webhook was disabled")
	}
	tr := e.sim.Transcript()
	alerts, disabled := tr.Kinds(StepDeliveryAlert), tr.Kinds(StepDisabled)
	if len(alerts) != 1 || !alerts[0].Time.Equal(t0.Add(15*time.Minute)) || len(disabled) != 1 || !disabled[0].Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("alert and disable steps:\n%s", tr)
	}
	if e.subscribed(botName) {
		t.Fatal("still subscribed after an hour of failures")
	}
	// crm, which answered, is still subscribed; the bot gets nothing until it re-subscribes.
	if !e.subscribed(crmName) {
		t.Fatal("crm lost its subscription")
	}
	n := len(e.bot.allPosts())
	e.say("two")
	if len(e.bot.allPosts()) != n {
		t.Fatal("delivered after disabling")
	}
	e.bot.setAnswer(nil)
	e.wantOK(e.call("POST", "/v25.0/me/subscribed_apps", e.token(botName), map[string]any{"subscribed_fields": strings.Join(PageFields, ",")}))
	e.say("three")
	if got := e.bot.ofKind("message"); got[len(got)-1].ev.Message.Text != "three" {
		t.Fatal("no delivery after re-subscribing")
	}
}

// The callback comes back within the hour: the next late attempt is acknowledged, the streak
// ends, no alert.
func TestLateRetryDeliversOnceTheCallbackIsBack(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxDeliveryAttempts = 1 })
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 502, 0 })
	e.say("hi")
	e.bot.setAnswer(nil)
	// The test moves the clock itself, not through the simulator: the retry still wakes up.
	e.clock.Advance(time.Minute)
	if err := e.sim.WaitIdle(e.ctx()); err != nil {
		t.Fatal(err)
	}
	e.idleUntil(func() bool { return len(e.sim.Deliveries(botName)) == 2 })
	d := e.sim.Deliveries(botName)
	if !d[1].OK || !d[1].Final || d[1].Attempt != 2 {
		t.Fatalf("deliveries = %+v", d)
	}
	e.advance(2 * time.Hour)
	if len(e.sim.Transcript().Kinds(StepDeliveryAlert, StepDisabled)) != 0 || !e.subscribed(botName) {
		t.Fatalf("streak not ended:\n%s", e.sim.Transcript())
	}
}

// Events that come while an earlier body waits for its late attempt overtake it: the receiver
// sees them out of order and must sort by timestamp (§2.3).
func TestNewEventsOvertakeAFailingBody(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxDeliveryAttempts = 2 })
	e.bot.setAnswer(func(n int) (int, time.Duration) {
		if n < 2 {
			return 500, 0
		}
		return 200, 0
	})
	e.say("one")
	e.advance(10 * time.Second)
	e.say("two")
	e.advance(time.Minute)
	var acked []rxGot
	for _, d := range e.sim.Deliveries(botName) {
		if d.OK {
			acked = append(acked, decodeEvents(t, d.Body)...)
		}
	}
	if len(acked) != 2 || acked[0].ev.Message.Text != "two" || acked[1].ev.Message.Text != "one" || acked[1].ev.Timestamp >= acked[0].ev.Timestamp {
		t.Fatalf("acknowledged in this order: %+v", acked)
	}
}

func TestGiveUpAfterImmediateRetries(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.MaxDeliveryAttempts = 2
		o.Behaviour.GiveUpAfterImmediateRetries = true
	})
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 500, 0 })
	e.say("hi")
	d := e.sim.Deliveries(botName)
	if len(d) != 2 || !d[1].Final || e.sim.PendingRetries(botName) != 0 {
		t.Fatalf("deliveries = %+v", d)
	}
	e.advance(2 * time.Hour)
	if n := len(e.bot.allPosts()); n != 2 {
		t.Fatalf("posts = %d after giving up", n)
	}
}

func TestDuplicateDeliveryAfterA200(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DuplicateEvery = 2 })
	e.say("one")
	e.say("two")
	posts := e.bot.allPosts()
	if len(posts) != 3 || !bytes.Equal(posts[1].body, posts[2].body) || bytes.Equal(posts[0].body, posts[1].body) {
		t.Fatalf("posts = %d, want the second body twice", len(posts))
	}
	d := e.sim.Deliveries(botName)
	if !d[2].Duplicate || d[2].Attempt != 2 || !d[2].OK || d[1].Duplicate {
		t.Fatalf("deliveries = %+v", d)
	}
	e.sim.DuplicateNext(1)
	before := len(e.crm.allPosts()) + len(e.bot.allPosts())
	e.say("three")
	if got := len(e.crm.allPosts()) + len(e.bot.allPosts()) - before; got != 3 {
		t.Fatalf("posts for one event to two apps with one forced duplicate = %d, want 3", got)
	}
}

func (e *env) idleUntil(cond func() bool) {
	e.t.Helper()
	if err := e.sim.Await(e.ctx(), cond); err != nil {
		e.t.Fatalf("%v\n%s", err, e.sim.Transcript())
	}
}

// With DisableAfter < 0 Meta never disables the webhook; a failing body is still given up after
// 36 hours, as generic Graph webhooks do (reference §2.3).
func TestNeverDisabledBodyGivenUpAfter36Hours(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.MaxDeliveryAttempts = 1
		o.DisableAfter = -1
		o.RetryBackoff = []time.Duration{time.Hour}
	})
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 500, 0 })
	e.say("hi")
	e.advance(40 * time.Hour)
	d := e.sim.Deliveries(botName)
	last := d[len(d)-1]
	if len(d) != 37 || !last.Final || !last.At.Equal(t0.Add(36*time.Hour)) || e.sim.PendingRetries(botName) != 0 {
		t.Fatalf("%d attempts, last %+v", len(d), last)
	}
	if !e.subscribed(botName) || len(e.sim.Transcript().Kinds(StepDisabled)) != 0 {
		t.Fatal("disabled although DisableAfter < 0")
	}
}

// racingClock moves forward by step inside the first moved call after it is armed: a move that
// lands between a worker's reading of the clock and its wait, which a manual clock's Advance from
// another goroutine can do at any time.
type racingClock struct {
	*ManualClock
	armed atomic.Bool
	step  time.Duration
}

func (c *racingClock) moved() <-chan struct{} {
	if c.armed.CompareAndSwap(true, false) {
		c.Advance(c.step)
	}
	return c.ManualClock.moved()
}

// A late attempt that falls due by a move of the clock while the app's worker is between reading
// the clock and waiting is still made.
func TestLateRetryDueByAMoveDuringTheWorkersWait(t *testing.T) {
	rc := &racingClock{step: time.Minute}
	e := newEnv(t, func(o *Options) {
		o.MaxDeliveryAttempts = 1
		rc.ManualClock = o.Clock.(*ManualClock)
		o.Clock = rc
	})
	// The bot's worker alone: the move must meet its wait, not another app's.
	e.wantOK(e.call("DELETE", "/v25.0/me/subscribed_apps", e.token(crmName), nil))
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 502, 0 })
	e.say("hi")
	e.bot.setAnswer(nil)
	e.idleUntil(func() bool { return e.sim.PendingRetries(botName) == 1 })
	time.Sleep(20 * time.Millisecond) // the worker parks (without it the race may just not happen)
	rc.armed.Store(true)
	e.sim.dq.kick() // wakes the worker without moving the clock: its next wait meets the move
	e.idleUntil(func() bool { return len(e.sim.Deliveries(botName)) == 2 })
	if d := e.sim.Deliveries(botName); !d[1].OK || d[1].Attempt != 2 {
		t.Fatalf("deliveries = %+v", d)
	}
}
