package webhooktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// Harness is one page's webhook under test: a webhook.Server with the fake Engine, Graph and
// Reporter, a memory Store, a registry, debug logs, served over HTTP.
type Harness struct {
	t        testing.TB
	Srv      *webhook.Server
	Graph    *Graph
	Engine   *Engine
	Reporter *Reporter
	Store    store.Store
	Reg      *prometheus.Registry
	Logs     *SyncBuffer
	HTTP     *httptest.Server
}

// NewHarness starts a harness until the end of the test; mod may change the runner's options and
// the page's configuration before the server is built and the configuration applied.
func NewHarness(t testing.TB, mod ...func(*runner.Options, *config.Page)) *Harness {
	t.Helper()
	h := &Harness{t: t, Graph: NewGraph(t), Engine: &Engine{}, Reporter: &Reporter{},
		Reg: prometheus.NewRegistry(), Logs: &SyncBuffer{}}
	opts := runner.Options{
		Logger:      slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Reporter:    h.Reporter,
		Registry:    h.Reg,
		Engine:      h.Engine,
		Store:       store.NewMemory(store.MemoryOptions{}),
		Clock:       NewRunningClock(),
		RetryWindow: 2 * time.Second,
		RetryBase:   time.Millisecond,
		RetryMax:    20 * time.Millisecond,
	}
	cfg := Config(h.Graph.URL)
	for _, m := range mod {
		m(&opts, &cfg)
	}
	h.Store = opts.Store
	h.Srv = webhook.NewServer(opts)
	h.Srv.Apply(cfg)
	h.HTTP = httptest.NewServer(h.Srv.Handler())
	t.Cleanup(func() {
		h.HTTP.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Srv.Shutdown(ctx)
	})
	return h
}

// Config is the harness page's configuration, calling the Graph API at graphURL.
func Config(graphURL string) config.Page {
	return config.Page{
		PageID: PageID, AppID: AppID,
		VerifyToken: []byte(VerifyToken), AppSecret: []byte(AppSecret), PageAccessToken: []byte(PageToken),
		GraphBaseURL: graphURL, GraphVersion: "v25.0",
		Handover:   &handover.Page{PageID: PageID, AppID: AppID, BusinessName: "Shop"},
		Generation: "page/1 policy/1",
	}
}

// Sign returns the X-Hub-Signature-256 value of body with secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ProofOf is the appsecret_proof of a token (reference §7.4).
func ProofOf(token, secret string) string {
	return strings.TrimPrefix(Sign([]byte(token), secret), "sha256=")
}

// Post sends a body signed with the app secret and returns the status code.
func (h *Harness) Post(body string) int {
	h.t.Helper()
	return h.PostWith(body, map[string]string{callback.SignatureHeader: Sign([]byte(body), AppSecret)})
}

// PostWith sends body with headers (no signature unless they carry one).
func (h *Harness) PostWith(body string, headers map[string]string) int {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.HTTP.URL+"/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.HTTP.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TextEvent is a messaging event from psid with mid.
func TextEvent(psid, mid string, ts int64) string {
	return fmt.Sprintf(`{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"%s","text":"hello"}}`, psid, PageID, ts, mid)
}

// PageBody is a delivery of events in one entry of the page.
func PageBody(events ...string) string {
	return `{"object":"page","entry":[{"id":"` + PageID + `","time":1700000000000,"messaging":[` + strings.Join(events, ",") + `]}]}`
}

// Eventually polls cond until it holds or the deadline passes (no wall-clock assertions).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Drain waits until every accepted event was fully handled.
func (h *Harness) Drain() {
	h.t.Helper()
	Eventually(h.t, "the queue to drain", func() bool { return h.Srv.Pending() == 0 })
}

// Counter sums the samples of the counter or gauge name whose labels include the given pairs
// (name, value, name, value...).
func (h *Harness) Counter(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.Reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		total := 0.0
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue metric
				}
			}
			if c := m.GetCounter(); c != nil {
				total += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				total += g.GetValue()
			}
		}
		return total
	}
	return 0
}

// SyncBuffer collects log output from any goroutine.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Yield lets other goroutines run a little (a full queue, a busy worker).
func Yield() { time.Sleep(100 * time.Microsecond) }
