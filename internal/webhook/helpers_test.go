package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

const (
	testPage        = "1000000000000001"
	testApp         = "1517776481860111"
	testSecret      = "app-secret-S3CR3T"
	testVerifyToken = "verify-token-V3R1FY"
	testPageToken   = "EAAB-page-token-T0K3N"
)

// --- a small fake Graph API -------------------------------------------------------------------

type graphCall struct {
	Method, Endpoint, PSID string
	Body                   map[string]any
	Token                  string // from the Authorization header
	Proof                  string // appsecret_proof
	URL                    string // the request URI as the server saw it
}

// fakeGraph answers Graph calls; script, when set, decides the answer per call (return false to
// fall through to a success).
type fakeGraph struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []graphCall
	script func(c graphCall, n int, w http.ResponseWriter) bool // n: calls so far to this endpoint
	owner  string                                               // thread_owner app id; "" = idle
	notify chan struct{}
}

func newFakeGraph(t testing.TB) *fakeGraph {
	f := &fakeGraph{notify: make(chan struct{}, 1)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	c := graphCall{Method: r.Method, Endpoint: parts[len(parts)-1], Token: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
		Proof: r.URL.Query().Get("appsecret_proof"), URL: r.RequestURI}
	if len(parts) == 2 && r.Method == "GET" {
		c.Endpoint, c.PSID = "profile", parts[1]
	}
	if len(b) > 0 {
		json.Unmarshal(b, &c.Body)
		if rc, ok := c.Body["recipient"].(map[string]any); ok {
			c.PSID, _ = rc["id"].(string)
		}
	}
	if c.Endpoint == "thread_owner" {
		c.PSID = r.URL.Query().Get("recipient")
	}
	f.mu.Lock()
	n := 0
	for _, x := range f.calls {
		if x.Endpoint == c.Endpoint {
			n++
		}
	}
	f.calls = append(f.calls, c)
	script, owner := f.script, f.owner
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
	if script != nil && script(c, n, w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch c.Endpoint {
	case "messages":
		io.WriteString(w, `{"recipient_id":"`+c.PSID+`","message_id":"m_sent"}`)
	case "thread_owner":
		if owner == "" {
			io.WriteString(w, `{"data":[]}`)
		} else {
			io.WriteString(w, `{"data":[{"thread_owner":{"app_id":`+owner+`}}]}`)
		}
	case "profile":
		io.WriteString(w, `{"first_name":"Peter","id":"`+c.PSID+`"}`)
	default:
		io.WriteString(w, `{"success":true}`)
	}
}

func (f *fakeGraph) setScript(s func(c graphCall, n int, w http.ResponseWriter) bool) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

func (f *fakeGraph) all() []graphCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]graphCall(nil), f.calls...)
}

func (f *fakeGraph) count(endpoint string) int {
	n := 0
	for _, c := range f.all() {
		if c.Endpoint == endpoint {
			n++
		}
	}
	return n
}

func answer(w http.ResponseWriter, status int, body string) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
	return true
}

// --- a tiny engine, independent of the real one's texts --------------------------------------

// fakeEngine answers every user message or postback with one text send; decide/outcome/tick
// can be replaced per test. It records what it was given.
type fakeEngine struct {
	mu       sync.Mutex
	decided  []handover.Event
	results  []handover.Result
	ticks    int
	decide   func(ev handover.Event, th handover.Thread) handover.Decision
	outcome  func(th handover.Thread, r handover.Result) handover.Decision
	tick     func(th handover.Thread, now time.Time) handover.Decision
	nextTick func(th handover.Thread) time.Time
	refused  func(r handover.Result) bool
}

func (e *fakeEngine) Decide(p *handover.Page, ev handover.Event, th handover.Thread, now time.Time) handover.Decision {
	e.mu.Lock()
	e.decided = append(e.decided, ev)
	f := e.decide
	e.mu.Unlock()
	if f != nil {
		return f(ev, th)
	}
	if ev.Kind == handover.KindMessage || ev.Kind == handover.KindPostback {
		return handover.Decision{Thread: th, Actions: []handover.Action{{
			Kind: handover.ActSend, PSID: ev.PSID, Reason: "welcome",
			Message: &handover.OutMessage{Text: "reply to " + ev.MID},
		}}}
	}
	return handover.Decision{Thread: th, Ignored: "not_user_input"}
}

func (e *fakeEngine) Outcome(p *handover.Page, th handover.Thread, r handover.Result, now time.Time) handover.Decision {
	e.mu.Lock()
	e.results = append(e.results, r)
	f := e.outcome
	e.mu.Unlock()
	if f != nil {
		return f(th, r)
	}
	return handover.Decision{Thread: th}
}

func (e *fakeEngine) Tick(p *handover.Page, th handover.Thread, now time.Time) handover.Decision {
	e.mu.Lock()
	e.ticks++
	f := e.tick
	e.mu.Unlock()
	if f != nil {
		return f(th, now)
	}
	return handover.Decision{Thread: th}
}

func (e *fakeEngine) NextTick(p *handover.Page, th handover.Thread) time.Time {
	if e.nextTick != nil {
		return e.nextTick(th)
	}
	return time.Time{}
}

func (e *fakeEngine) Render(m *handover.OutMessage, firstName, businessName string) map[string]any {
	if m.Buttons != nil {
		return map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "button", "text": m.Buttons.Text}}}
	}
	return map[string]any{"text": strings.ReplaceAll(m.Text, "{{first_name}}", firstName)}
}

func (e *fakeEngine) RenderFallback(m *handover.OutMessage, firstName, businessName string) map[string]any {
	return map[string]any{"text": "fallback: " + m.Text}
}

func (e *fakeEngine) TakeRefused(r handover.Result) bool {
	if e.refused != nil {
		return e.refused(r)
	}
	return r.Action.Kind == handover.ActTake && !r.OK && r.Failure == handover.FailTakeRefused
}

func (e *fakeEngine) events() []handover.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]handover.Event(nil), e.decided...)
}

func (e *fakeEngine) outcomes() []handover.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]handover.Result(nil), e.results...)
}

// --- reporter, logs ---------------------------------------------------------------------------

type fakeReporter struct {
	mu      sync.Mutex
	auth    []string
	permits []string
}

func (r *fakeReporter) GraphAuthorized(ok bool, msg string) {
	r.mu.Lock()
	r.auth = append(r.auth, fmt.Sprintf("%v: %s", ok, msg))
	r.mu.Unlock()
}

func (r *fakeReporter) HandoverPermitted(ok bool, msg string) {
	r.mu.Lock()
	r.permits = append(r.permits, fmt.Sprintf("%v: %s", ok, msg))
	r.mu.Unlock()
}

func (r *fakeReporter) get() (auth, permits []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...), append([]string(nil), r.permits...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --- a server under test ----------------------------------------------------------------------

type harness struct {
	t        testing.TB
	srv      *Server
	graph    *fakeGraph
	engine   *fakeEngine
	reporter *fakeReporter
	reg      *prometheus.Registry
	logs     *syncBuffer
	http     *httptest.Server
}

func newHarness(t testing.TB, mod ...func(*Options, *Config)) *harness {
	t.Helper()
	h := &harness{t: t, graph: newFakeGraph(t), engine: &fakeEngine{}, reporter: &fakeReporter{},
		reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := Options{
		Logger:      slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Reporter:    h.reporter,
		Registry:    h.reg,
		Engine:      h.engine,
		RetryWindow: 2 * time.Second,
		RetryBase:   time.Millisecond,
		RetryMax:    20 * time.Millisecond,
	}
	cfg := testConfig(h.graph.srv.URL)
	for _, m := range mod {
		m(&opts, &cfg)
	}
	h.srv = New(opts)
	h.srv.Apply(cfg)
	h.http = httptest.NewServer(h.srv.Handler())
	t.Cleanup(func() {
		h.http.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.srv.Shutdown(ctx)
	})
	return h
}

func testConfig(graphURL string) Config {
	return Config{
		PageID: testPage, AppID: testApp,
		VerifyToken: []byte(testVerifyToken), AppSecret: []byte(testSecret), PageAccessToken: []byte(testPageToken),
		GraphBaseURL: graphURL, GraphVersion: "v25.0",
		Page:       &handover.Page{PageID: testPage, AppID: testApp, BusinessName: "Shop"},
		Generation: "page/1 policy/1",
	}
}

// proofOf is the appsecret_proof of a token (reference §7.4).
func proofOf(token, secret string) string {
	return strings.TrimPrefix(sign([]byte(token), secret), "sha256=")
}

func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// post sends a signed body and returns the status code.
func (h *harness) post(body string) int {
	h.t.Helper()
	return h.postWith(body, map[string]string{SignatureHeader: sign([]byte(body), testSecret)})
}

func (h *harness) postWith(body string, headers map[string]string) int {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// textEvent is a messaging event from psid with mid.
func textEvent(psid, mid string, ts int64) string {
	return fmt.Sprintf(`{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"%s","text":"hello"}}`, psid, testPage, ts, mid)
}

func pageBody(events ...string) string {
	return `{"object":"page","entry":[{"id":"` + testPage + `","time":1700000000000,"messaging":[` + strings.Join(events, ",") + `]}]}`
}

// eventually polls cond until it holds or the deadline passes (no wall-clock assertions).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// drain waits until every accepted event was fully handled.
func (h *harness) drain() {
	h.t.Helper()
	eventually(h.t, "the queue to drain", func() bool { return h.srv.disp.depth() == 0 })
}

func (h *harness) counter(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
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

func sortedPSIDs(calls []graphCall) []string {
	var s []string
	for _, c := range calls {
		s = append(s, c.PSID)
	}
	sort.Strings(s)
	return s
}

// fakeClock is a Clock moved by hand; due timers fire in their own goroutines, as AfterFunc's do.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1700000000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.at.After(c.now) {
			t.fired = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		go t.f()
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			n++
		}
	}
	return n
}

func newTestHTTP(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func runtimeGosched() { time.Sleep(100 * time.Microsecond) }
