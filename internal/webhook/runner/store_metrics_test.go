package runner_test

import (
	"fmt"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// Events past the memory store's capacity within the hour show in the early-evictions metric.
func TestDedupEarlyEvictionsExported(t *testing.T) {
	h := webhooktest.NewHarness(t, func(o *runner.Options, _ *config.Page) {
		o.Store = store.NewMemory(store.MemoryOptions{MaxSeen: 32})
	})
	for i := range 100 {
		if code := h.Post(webhooktest.PageBody(webhooktest.TextEvent(fmt.Sprintf("psid-%d", i), fmt.Sprintf("m-%d", i), 1700000000000))); code != 200 {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	h.Drain()
	if got := h.Counter("messenger_webhook_dedup_early_evictions_total"); got < 100-32 {
		t.Errorf("early evictions metric %v after 100 keys in 32 slots, want >= 68", got)
	}
}
