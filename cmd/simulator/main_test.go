package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// webhook is a minimal signed receiver standing in for our webhook.
type webhook struct {
	secret string
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
}

func newWebhook(t *testing.T, secret string) *webhook {
	w := &webhook{secret: secret}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if r.Header.Get("X-Hub-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			rw.WriteHeader(http.StatusForbidden)
			return
		}
		w.mu.Lock()
		w.bodies = append(w.bodies, string(body))
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.bodies...)
}

// start runs the command until the test ends and returns its base URL and log.
func start(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	urlCh := make(chan string, 1)
	errCh := make(chan error, 1)
	go func() { errCh <- run(ctx, args, logs, func(u string) { urlCh <- u }) }()
	select {
	case u := <-urlCh:
		t.Cleanup(func() {
			cancel()
			if err := <-errCh; err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return u, logs
	case err := <-errCh:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("simulator did not start")
	}
	return "", nil
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

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunWithFlags(t *testing.T) {
	wh := newWebhook(t, "flag-secret")
	base, logs := start(t, "-listen", "127.0.0.1:0", "-app-secret", "flag-secret", "-page-token", "EAAflagtoken",
		"-callback", wh.srv.URL, "-page-id", "42", "-clock", "manual")

	// The control API drives the customer; the webhook gets a signed POST before the answer.
	if st, body := post(t, base+"/_sim/customer/say", `{"psid":"7","text":"hi there"}`); st != 200 || !strings.Contains(body, `"owner":"bot"`) {
		t.Fatalf("say: %d %s", st, body)
	}
	if got := wh.got(); len(got) != 1 || !strings.Contains(got[0], `"text":"hi there"`) || !strings.Contains(got[0], `"id":"42"`) {
		t.Fatalf("webhook got %v", got)
	}
	// The webhook answers through the Graph API with the known token.
	st, body := post(t, base+"/v25.0/me/messages?access_token=EAAflagtoken",
		`{"recipient":{"id":"7"},"messaging_type":"RESPONSE","message":{"text":"Hello!"}}`)
	if st != 200 || !strings.Contains(body, `"message_id":"m_`) {
		t.Fatalf("send: %d %s", st, body)
	}
	st, body = post(t, base+"/v25.0/me/messages?access_token=wrong", `{}`)
	if st != 400 || !strings.Contains(body, `"code":190`) {
		t.Fatalf("bad token: %d %s", st, body)
	}
	if st, body = post(t, base+"/_sim/clock/advance", `{"duration":"25h"}`); st != 200 {
		t.Fatalf("advance: %d %s", st, body)
	}
	_, tr := get(t, base+"/_sim/transcript")
	for _, want := range []string{"customer  > hi there", "bot       < Hello!", "control of bot expired", "[owner: none]"} {
		if !strings.Contains(tr, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, tr)
		}
	}
	if l := logs.String(); strings.Contains(l, "flag-secret") || strings.Contains(l, "EAAflagtoken") {
		t.Fatalf("a secret reached the log:\n%s", l)
	}
}

func TestRunWithConfigFile(t *testing.T) {
	wh := newWebhook(t, "cfg-secret")
	cfg := `{
  "listen": "127.0.0.1:0",
  "clock": "manual", "start": "2026-03-01T12:00:00Z",
  "ids": "numbers",
  "behaviour": {"standby_quick_reply_without_payload": true},
  "pages": [{"id": "100", "name": "Shop", "default_app": "none", "users": [{"psid": "9", "first_name": "Ada"}]}],
  "apps": [
    {"id": "111", "name": "bot", "secret": "cfg-secret", "callback_url": "` + wh.srv.URL + `", "can_take": true},
    {"id": "222", "name": "crm", "secret": "crm-secret", "honour_requests": true}
  ],
  "tokens": [{"app": "bot", "page": "100", "token": "EAAcfgtoken"}]
}`
	path := filepath.Join(t.TempDir(), "sim.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, "-config", path)
	_, state := get(t, base+"/_sim/state")
	if !strings.Contains(state, `"zero_config":true`) || !strings.Contains(state, `"crm"`) || strings.Contains(state, "cfg-secret") || strings.Contains(state, "crm-secret") {
		t.Fatalf("state: %s", state)
	}
	post(t, base+"/_sim/customer/say", `{"psid":"9","text":"hi"}`)
	if got := wh.got(); len(got) != 1 || !strings.Contains(got[0], `"id":9}`) || !strings.Contains(got[0], `"messaging"`) {
		t.Fatalf("webhook got %v", got)
	}
	// Zero-config: take is blocked for our app.
	st, body := post(t, base+"/v25.0/100/take_thread_control?access_token=EAAcfgtoken", `{"recipient":{"id":"9"}}`)
	if st != 400 || !strings.Contains(body, `"code":10`) {
		t.Fatalf("take: %d %s", st, body)
	}
	// The scripted crm owns after its request on the idle thread; the bot's request is honoured.
	if st, body = post(t, base+"/_sim/app/crm/request", `{"psid":"9"}`); st != 200 || !strings.Contains(body, `"owner":"crm"`) {
		t.Fatalf("crm request: %d %s", st, body)
	}
	post(t, base+"/v25.0/100/request_thread_control?access_token=EAAcfgtoken", `{"recipient":{"id":"9"}}`)
	if _, body = get(t, base+"/_sim/owner?psid=9"); !strings.Contains(body, `"owner":"bot"`) {
		t.Fatalf("owner after honoured request: %s", body)
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"-listen", "127.0.0.1:0"}, "app-secret"},
		{"unknown field", []string{"-config", write("a.json", `{"pagez":[]}`)}, "unknown field"},
		{"bad duration", []string{"-config", write("b.json", `{"delivery_timeout":"soon","pages":[{"id":"1"}]}`)}, "delivery_timeout"},
		{"bad clock", []string{"-config", write("c.json", `{"clock":"sundial","pages":[{"id":"1"}]}`)}, "clock"},
		{"no pages", []string{"-config", write("d.json", `{}`)}, "page"},
		{"default app unknown", []string{"-config", write("e.json", `{"pages":[{"id":"1","default_app":"ghost"}]}`)}, "default app"},
		{"missing file", []string{"-config", filepath.Join(dir, "nope.json")}, "reading config"},
		{"bad reorder", []string{"-config", write("f.json", `{"reorder":"sometimes","pages":[{"id":"1"}]}`)}, "reorder"},
		{"bad backoff", []string{"-config", write("g.json", `{"retry_backoff":["1m","later"],"pages":[{"id":"1"}]}`)}, "retry_backoff[1]"},
		{"zero backoff", []string{"-config", write("h.json", `{"retry_backoff":["0s"],"pages":[{"id":"1"}]}`)}, "RetryBackoff"},
	}
	t.Setenv("SIM_APP_SECRET", "")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, io.Discard, func(string) { t.Fatal("started with a bad configuration") })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// The platform's newer behaviours through the process: configuration keys, the welcome screen,
// late retries on the manual clock, inbox automations and the timeline.
func TestRunWithFidelityConfig(t *testing.T) {
	wh := newWebhook(t, "fid-secret")
	var fail sync.Once
	failing := make(chan struct{})
	// The webhook fails once (the first POST), then answers.
	wrapped := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		first := false
		fail.Do(func() { first = true; close(failing) })
		if first {
			rw.WriteHeader(http.StatusInternalServerError)
			return
		}
		wh.srv.Config.Handler.ServeHTTP(rw, r)
	}))
	t.Cleanup(wrapped.Close)
	cfg := `{
  "listen": "127.0.0.1:0", "clock": "manual", "start": "2026-03-01T12:00:00Z",
  "max_delivery_attempts": 1, "retry_backoff": ["30s", "2m"], "reorder": "across_users", "seed": 3,
  "limits": {"sends_per_second": 2, "calls_per_engaged_user": -1},
  "behaviour": {"standby_postback_payload": true, "request_with_default_app": true, "thread_owner_flat": false},
  "pages": [{"id": "100", "name": "Shop", "default_app": "bot", "get_started_payload": "GO", "instant_reply": "Thanks!",
             "users": [{"psid": "9", "first_name": "Ada", "locale": "en_US", "app_roles": ["bot"]}]}],
  "apps": [{"id": "111", "name": "bot", "secret": "fid-secret", "callback_url": "` + wrapped.URL + `", "can_take": true, "standard_access": true}],
  "tokens": [{"app": "bot", "page": "100", "token": "EAAfidtoken"}]
}`
	path := filepath.Join(t.TempDir(), "sim.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, "-config", path)
	if _, body := get(t, base+"/_sim/welcome?psid=9&format=text"); !strings.Contains(body, "[Get Started]") {
		t.Fatalf("welcome: %s", body)
	}
	if st, body := post(t, base+"/_sim/customer/get_started", `{"psid":"9"}`); st != 200 {
		t.Fatalf("get started: %d %s", st, body)
	}
	<-failing
	if _, body := get(t, base+"/_sim/retries?app=bot"); !strings.Contains(body, `"pending":1`) {
		t.Fatalf("retries: %s", body)
	}
	post(t, base+"/_sim/clock/advance", `{"duration":"30s"}`)
	post(t, base+"/_sim/wait_idle", `{"timeout":"10s"}`)
	got := strings.Join(wh.got(), "\n")
	if !strings.Contains(got, `"payload":"GO"`) {
		t.Fatalf("the late attempt did not deliver the postback: %s", got)
	}
	post(t, base+"/_sim/customer/say", `{"psid":"9","text":"hi"}`)
	if got := strings.Join(wh.got(), "\n"); !strings.Contains(got, `"text":"Thanks!"`) || !strings.Contains(got, `"app_id":"263902037430900"`) {
		t.Fatalf("no instant reply echo: %s", got)
	}
	for i, want := range []int{200, 200, 400} {
		st, _ := post(t, base+"/v25.0/me/messages?access_token=EAAfidtoken",
			`{"recipient":{"id":"9"},"messaging_type":"RESPONSE","message":{"text":"x"}}`)
		if st != want {
			t.Fatalf("send %d: status %d, want %d (2 sends a second)", i, st, want)
		}
	}
	_, tl := get(t, base+"/_sim/timeline?since=0")
	for _, want := range []string{`"kind":"delivery"`, `"next_attempt":"2026-03-01T12:00:30Z"`, `"kind":"graph"`, `"code":613`, `"kind":"owner"`} {
		if !strings.Contains(tl, want) {
			t.Fatalf("timeline lacks %s: %s", want, tl)
		}
	}
	if strings.Contains(tl, "EAAfidtoken") {
		t.Fatal("a token reached the timeline")
	}
}
