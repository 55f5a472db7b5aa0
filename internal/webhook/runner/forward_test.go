package runner_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/redistest"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// A thread's events delivered back to back to two replicas: those reaching the replica that
// does not hold the thread's lease are handed to the holder with their record, which handles
// them in its turn, in timestamp order; no replica polls for the lease (two round trips per
// event at most), and every message is answered once.
func TestEventsForwardedToTheThreadsHolder(t *testing.T) {
	srv := redistest.Start(t)
	counters := []*roundTrips{{}, {}}
	replicas := []*webhooktest.Harness{countedReplica(t, srv.URL(0), "a", counters[0]), countedReplica(t, srv.URL(0), "b", counters[1])}
	slowCall := make(chan struct{})
	var mu sync.Mutex
	answered := map[string][]string{} // psid -> the mids answered, in the order of the calls
	for _, h := range replicas {
		h.Engine.OnDecide = answerWithMID
		h.Graph.SetScript(func(c webhooktest.GraphCall, _ int, _ http.ResponseWriter) bool {
			if c.Endpoint == "messages" {
				msg, _ := c.Body["message"].(map[string]any)
				text, _ := msg["text"].(string)
				mu.Lock()
				answered[c.PSID] = append(answered[c.PSID], text)
				mu.Unlock()
				<-slowCall // the holder is still at work when the thread's next events arrive
			}
			return false
		})
	}
	const users, msgs = 10, 8
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i := range msgs {
				body := pageBody(textEvent(fmt.Sprint("42", u), fmt.Sprintf("m_fw_%d_%02d", u, i), 1700000000000+int64(i)))
				if got := replicas[i%2].Post(body); got != 200 {
					t.Errorf("status %d", got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(slowCall)
	eventually(t, "every message answered", func() bool {
		return replicas[0].Graph.Count("messages")+replicas[1].Graph.Count("messages") >= users*msgs
	})
	for _, h := range replicas {
		h.Drain()
	}
	if n := replicas[0].Graph.Count("messages") + replicas[1].Graph.Count("messages"); n != users*msgs {
		t.Fatalf("%d replies, want %d", n, users*msgs)
	}
	for psid, mids := range answered {
		if !slices.IsSorted(mids) {
			t.Fatalf("thread %s answered out of order: %v", psid, mids)
		}
	}
	var fwd, taken float64
	for _, h := range replicas {
		fwd += h.Counter("messenger_webhook_journal_forwarded_total")
		taken += h.Counter("messenger_webhook_journal_taken_total")
	}
	if fwd == 0 || taken != fwd {
		t.Fatalf("forwarded %v, taken %v: want some, all taken", fwd, taken)
	}
	events := int64(users * msgs)
	total := counters[0].n.Load() + counters[1].n.Load()
	t.Logf("%v events forwarded; %d round trips to Redis for %d events", fwd, total, events)
	if total > 2*events {
		t.Fatalf("%d round trips for %d events: more than 2 per event", total, events)
	}
}

// An event forwarded to a holder that is busy retrying one item for longer than --claim-idle
// is taken with the holder's lease renewals: it stays in work there (no replica claims it as
// left behind) and is answered after the item before it.
func TestForwardedEventStaysWithABusyHolder(t *testing.T) {
	srv := redistest.Start(t)
	fast := func(o *runner.Options) { o.RetryBase, o.RetryMax = 50*time.Millisecond, 100*time.Millisecond }
	a, b := replica(t, srv.URL(0), "a", fast), replica(t, srv.URL(0), "b", fast)
	var mu sync.Mutex
	var answered []string
	var first time.Time
	for _, h := range []*webhooktest.Harness{a, b} {
		h.Engine.OnDecide = answerWithMID
		h.Graph.SetScript(func(c webhooktest.GraphCall, _ int, w http.ResponseWriter) bool {
			if c.Endpoint != "messages" {
				return false
			}
			msg, _ := c.Body["message"].(map[string]any)
			text, _ := msg["text"].(string)
			mu.Lock()
			defer mu.Unlock()
			if first.IsZero() {
				first = time.Now()
			}
			// The first message fails for three times the claim idle time (500 ms).
			if text == "m_busy_0" && time.Since(first) < 1500*time.Millisecond {
				return webhooktest.Answer(w, 503, "")
			}
			answered = append(answered, text)
			return false
		})
	}
	if got := a.Post(pageBody(textEvent("4300", "m_busy_0", 1700000000000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	eventually(t, "the first send attempt", func() bool { mu.Lock(); defer mu.Unlock(); return !first.IsZero() })
	if got := b.Post(pageBody(textEvent("4300", "m_busy_1", 1700000000001))); got != 200 {
		t.Fatalf("status %d", got)
	}
	eventually(t, "both answered", func() bool { mu.Lock(); defer mu.Unlock(); return len(answered) == 2 })
	a.Drain()
	b.Drain()
	if !slices.Equal(answered, []string{"m_busy_0", "m_busy_1"}) {
		t.Fatalf("answered %v, want m_busy_0 then m_busy_1", answered)
	}
	if f := b.Counter("messenger_webhook_journal_forwarded_total"); f != 1 {
		t.Fatalf("forwarded %v, want 1", f)
	}
	if c := a.Counter("messenger_webhook_journal_claimed_total") + b.Counter("messenger_webhook_journal_claimed_total"); c != 0 {
		t.Fatalf("%v events claimed as left behind while their holder was at work", c)
	}
}

// answerWithMID answers each message with its mid, so that a test sees which message each
// answer is for.
func answerWithMID(ev handover.Event, th handover.Thread) handover.Decision {
	if ev.Kind != handover.KindMessage {
		return handover.Decision{Thread: th}
	}
	return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID,
		Reason: "answer", Message: &handover.OutMessage{Text: ev.MID}}}}
}
