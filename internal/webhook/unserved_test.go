package webhook

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestUnservedEntriesAreCountedAndToldOncePerHour(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	var (
		mu     sync.Mutex
		events []string
		wg     sync.WaitGroup
	)
	u := newUnserved(reg, slog.New(slog.NewTextHandler(&logs, nil)), func(id string) {
		defer wg.Done()
		mu.Lock()
		events = append(events, id)
		mu.Unlock()
	})
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	u.now = func() time.Time { return now }

	wg.Add(2)
	for range 3 {
		u.entry("1000000000000012")
	}
	u.entry("1000000000000013")
	now = now.Add(59 * time.Minute)
	u.entry("1000000000000012")
	wg.Wait()
	if got := testutil.ToFloat64(u.counter); got != 5 {
		t.Fatalf("counted %v entries, want 5", got)
	}
	if n := strings.Count(logs.String(), "entryPage=1000000000000012"); n != 1 {
		t.Fatalf("page logged %d times within the hour, want 1", n)
	}
	if len(events) != 2 {
		t.Fatalf("events %v, want one per page", events)
	}

	wg.Add(1)
	now = now.Add(time.Minute)
	u.entry("1000000000000012")
	wg.Wait()
	if n := strings.Count(logs.String(), "entryPage=1000000000000012"); n != 2 || len(events) != 3 {
		t.Fatalf("after an hour: logged %d times, %d events", n, len(events))
	}
	// No page label: page ids are not a fixed set.
	if n, _ := testutil.GatherAndCount(reg, "messenger_webhook_unserved_entries_total"); n != 1 {
		t.Fatalf("%d series", n)
	}
}
