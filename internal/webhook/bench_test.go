package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// BenchmarkIngest: a signed text event in, 200 out, and the one reply it causes sent to a local
// fake Graph API (the send is asynchronous; the benchmark waits for every reply before it ends,
// so ns/op covers ingest and delivery).
func BenchmarkIngest(b *testing.B) { benchIngest(b, nil) }

// BenchmarkIngestRedis is BenchmarkIngest with the Redis store (a real redis-server, append-only
// with an fsync per write): the record before the 200 and the commit after the send.
func BenchmarkIngestRedis(b *testing.B) {
	srv := redistest.Start(b)
	benchIngest(b, func(o *runner.Options) {
		s, err := store.NewRedis(store.RedisOptions{URL: srv.URL(0), KeyPrefix: "bench:{acme}:"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		j, err := store.NewJournal(context.Background(), s, "bench")
		if err != nil {
			b.Fatal(err)
		}
		o.Store, o.Journal, o.Leases, o.Holder = s, j, s, "bench"
	})
}

func benchIngest(b *testing.B, mod func(*runner.Options)) {
	var sends atomic.Int64
	graphSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		sends.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"recipient_id":"1","message_id":"m_fake"}`)
	}))
	defer graphSrv.Close()
	o := runner.Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Registry: prometheus.NewRegistry(),
		Engine:   &benchEngine{},
	}
	if mod != nil {
		mod(&o)
	}
	s := webhook.NewServer(o)
	s.Apply(webhooktest.Config(graphSrv.URL))
	h := s.Handler()

	const users = 1000
	var seq, busy atomic.Int64
	mkBody := func(i int64) ([]byte, string) {
		// Stamped now: an event older than the dedup window is a replay, never handled.
		ts := time.Now().UnixMilli()
		body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%d"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_bench_%d","text":"hello %d"}}]}]}`,
			webhooktest.PageID, ts, 2000000000000000+i%users, webhooktest.PageID, ts, i, i)
		return body, webhooktest.Sign(body, webhooktest.AppSecret)
	}
	b.ReportAllocs()
	b.SetParallelism(16) // deliveries arrive concurrently; with a store, each waits on it
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			i := seq.Add(1)
			body, sig := mkBody(i)
			for {
				req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
				req.Header.Set(callback.SignatureHeader, sig)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code == 200 {
					break
				}
				if w.code != 503 {
					b.Fatalf("status %d", w.code)
				}
				busy.Add(1) // the queue is full: back off like Meta's retry would
				webhooktest.Yield()
			}
		}
	})
	for sends.Load() < seq.Load() {
		if s.Pending() == 0 && sends.Load() < seq.Load() {
			b.Fatalf("%d sends for %d events", sends.Load(), seq.Load())
		}
		webhooktest.Yield()
	}
	b.StopTimer()
	b.ReportMetric(float64(busy.Load())/float64(b.N), "503/op")
}

// benchEngine answers every user message with one text and keeps nothing.
type benchEngine struct{ webhooktest.Engine }

func (*benchEngine) Decide(p *handover.Page, ev handover.Event, th handover.Thread, now time.Time) handover.Decision {
	if ev.Kind != handover.KindMessage {
		return handover.Decision{Thread: th}
	}
	th.Owner = handover.OwnerUs
	return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID, Reason: "welcome", Message: benchReply}}}
}

func (*benchEngine) Outcome(p *handover.Page, th handover.Thread, r handover.Result, now time.Time) handover.Decision {
	return handover.Decision{Thread: th}
}

var benchReply = &handover.OutMessage{Text: "Welcome! The bot is currently in control.", QuickReplies: []handover.QuickReply{{Title: "Pass to Inbox", Payload: "pass_to_inbox"}}}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return len(p), nil
}
func (d *discardWriter) WriteHeader(c int) { d.code = c }
