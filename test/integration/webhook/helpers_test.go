// Package webhook runs the webhook binary's Run in-process against a real API server (envtest)
// or a manifests directory, a fake Graph API and signed Messenger requests.
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
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/cmd/webhook/app"
)

const (
	pageID = "1000000000000001"
	appID  = "1517776481860111"
)

// fakeGraph is a small Graph API: it records what the webhook sends and can refuse the token
// (code 190) on demand.
type fakeGraph struct {
	*httptest.Server
	refuseToken atomic.Bool

	mu    sync.Mutex
	sent  []sent
	token string // the access token of the last call
}

type sent struct{ PSID, Text string }

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	g.mu.Lock()
	g.token = r.URL.Query().Get("access_token")
	g.mu.Unlock()
	if g.refuseToken.Load() {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"Error validating access token: The session has been invalidated.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"Afake"}}`)
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/messages"):
		var body struct {
			Recipient struct{ ID string }   `json:"recipient"`
			Message   struct{ Text string } `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		g.mu.Lock()
		g.sent = append(g.sent, sent{body.Recipient.ID, body.Message.Text})
		n := len(g.sent)
		g.mu.Unlock()
		_, _ = fmt.Fprintf(w, `{"recipient_id":%q,"message_id":"m_sent_%d"}`, body.Recipient.ID, n)
	case strings.HasSuffix(path, "/thread_owner"):
		_, _ = fmt.Fprintf(w, `{"data":[{"thread_owner":{"app_id":%q}}]}`, appID)
	case r.Method == http.MethodPost:
		_, _ = io.WriteString(w, `{"success":true}`)
	default: // a user profile
		_, _ = io.WriteString(w, `{"first_name":"Ada","id":"x"}`)
	}
}

// replies returns the texts sent to psid so far.
func (g *fakeGraph) replies(psid string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, s := range g.sent {
		if s.PSID == psid {
			out = append(out, s.Text)
		}
	}
	return out
}

func (g *fakeGraph) lastToken() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.token
}

// messenger plays Meta: signed POSTs of message events to the webhook.
type messenger struct {
	url string // the webhook's URL, path included
	mid atomic.Int64
}

func (m *messenger) body(psid, text string) []byte {
	now := time.Now().UnixMilli()
	mid := fmt.Sprintf("m_test_%d_%d", now, m.mid.Add(1))
	return fmt.Appendf(nil, `{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":%q,"text":%q}}]}]}`,
		pageID, now, psid, pageID, now, mid, text)
}

// post sends a message event from psid signed with secret and returns the status code.
func (m *messenger) post(t *testing.T, secret, psid, text string) int {
	t.Helper()
	body := m.body(psid, text)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, m.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", m.url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// ask sends a message and waits for the webhook's reply to it, returning the reply's text.
func (m *messenger) ask(t *testing.T, g *fakeGraph, secret, psid string) string {
	t.Helper()
	before := len(g.replies(psid))
	if code := m.post(t, secret, psid, "hello"); code != http.StatusOK {
		t.Fatalf("POST answered %d", code)
	}
	var got []string
	eventually(t, "a reply to "+psid, func() bool {
		got = g.replies(psid)
		return len(got) > before
	})
	return got[len(got)-1]
}

// askUntil asks (a new message each time) until the reply is want: configuration changes are
// applied asynchronously, and each answer says which configuration handled the message.
func (m *messenger) askUntil(t *testing.T, g *fakeGraph, secret, psid, want string) {
	t.Helper()
	var got string
	eventually(t, fmt.Sprintf("the reply %q", want), func() bool {
		got = m.ask(t, g, secret, psid)
		return got == want
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 30*time.Second, what, cond)
}

func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logBuffer collects the webhook's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) count(s string) int { return strings.Count(b.String(), s) }

// running is a webhook started with app.Run.
type running struct {
	webURL, probeURL string
	logs             *logBuffer
	stop             func() error
}

// start runs the webhook in-process on free ports until the test ends.
func start(t *testing.T, o app.Options) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	o.Listener, o.ProbeListener = ln, pln
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				runErr = fmt.Errorf("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		// WEBHOOK_TEST_LOGS=1 shows the webhook's logs of passing tests too.
		if t.Failed() || os.Getenv("WEBHOOK_TEST_LOGS") != "" {
			t.Logf("webhook logs:\n%s", logs)
		}
	})
	return &running{webURL: "http://" + ln.Addr().String(), probeURL: "http://" + pln.Addr().String(), logs: logs, stop: stop}
}

func (r *running) ready(t *testing.T) bool {
	code, _ := get(t, r.probeURL+"/readyz")
	return code == http.StatusOK
}
