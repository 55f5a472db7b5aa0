package runner_test

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// A signed body replayed after the dedup window is acknowledged (Meta would retry a refusal)
// and ignored: an event older than one hour by its own timestamp, on the engine's clock, is
// counted as a replay and never handled, even once its dedup key is forgotten.
func TestReplayOlderThanAnHourIsIgnored(t *testing.T) {
	clock := webhooktest.NewClock()
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.Clock = clock })
	ev := textEvent("2701", "m_replayed", clock.Now().UnixMilli())
	if got := h.Post(pageBody(ev)); got != 200 {
		t.Fatalf("status %d", got)
	}
	h.Drain()
	clock.Advance(time.Hour + time.Second)
	for range 2 {
		if got := h.Post(pageBody(ev)); got != 200 {
			t.Fatalf("a replay answered %d, want 200 (acknowledged and ignored)", got)
		}
	}
	// Months old, never seen: the same.
	if got := h.Post(pageBody(textEvent("2702", "m_old", clock.Now().Add(-90*24*time.Hour).UnixMilli()))); got != 200 {
		t.Fatalf("status %d", got)
	}
	// Within the hour: handled.
	h.Post(pageBody(textEvent("2703", "m_recent", clock.Now().Add(-59*time.Minute).UnixMilli())))
	h.Drain()
	if n := len(h.Engine.Events()); n != 2 {
		t.Errorf("the engine saw %d events, want 2 (the first delivery and the recent one)", n)
	}
	if n := h.Counter("messenger_webhook_ignored_events_total", "reason", "replay"); n != 3 {
		t.Errorf("replays counted %v, want 3", n)
	}
}
