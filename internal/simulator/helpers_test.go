package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test side of the wire: a signed-webhook receiver and a Graph client written against the
// reference, sharing no types with the simulator so the tests check the JSON it really emits.

const (
	pageID   = "1000000000000001"
	botID    = "111111111111111"
	crmID    = "222222222222222"
	psid     = "27458394012345678" // beyond 2^53: must survive as a string
	psid2    = "27458394012345679"
	botName  = "bot"
	crmName  = "crm"
	botSec   = "bot-secret-value"
	crmSec   = "crm-secret-value"
	verifyTk = "verify-me"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rx* are the receiver's own view of webhook bodies (reference §2.1, §3).
type rxBody struct {
	Object string    `json:"object"`
	Entry  []rxEntry `json:"entry"`
}

type rxEntry struct {
	ID        any       `json:"id"`
	Time      int64     `json:"time"`
	Messaging []rxEvent `json:"messaging"`
	Standby   []rxEvent `json:"standby"`
}

type rxEvent struct {
	Sender    *struct{ ID any } `json:"sender"`
	Recipient struct{ ID any }  `json:"recipient"`
	Timestamp int64             `json:"timestamp"`
	Message   *struct {
		Mid        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		AppID      any    `json:"app_id"`
		Metadata   string `json:"metadata"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		Attachments []map[string]any `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		Mid     string  `json:"mid"`
		Title   string  `json:"title"`
		Payload *string `json:"payload"`
	} `json:"postback"`
	Read    *struct{ Watermark int64 } `json:"read"`
	Pass    *rxControl                 `json:"pass_thread_control"`
	Take    *rxControl                 `json:"take_thread_control"`
	Request *struct {
		RequestedOwnerAppID any    `json:"requested_owner_app_id"`
		Metadata            string `json:"metadata"`
	} `json:"request_thread_control"`
	raw json.RawMessage
}

type rxControl struct {
	PreviousOwnerAppID any    `json:"previous_owner_app_id"`
	NewOwnerAppID      any    `json:"new_owner_app_id"`
	Metadata           string `json:"metadata"`
}

// rxGot is one event as received, with its channel.
type rxGot struct {
	channel string
	page    string
	ev      rxEvent
}

func idOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

type rxPost struct {
	body   []byte
	sig256 string
	sig1   string
	valid  bool
}

// receiver is an httptest webhook endpoint checking signatures with its own secret.
type receiver struct {
	t           *testing.T
	secret      string
	verifyToken string
	srv         *httptest.Server

	mu       sync.Mutex
	posts    []rxPost
	verifies int
	// answer decides the reply to the n-th POST (0-based): status and a delay before answering.
	answer func(n int) (int, time.Duration)
	// challengeReply overrides the verification answer.
	challengeReply func(q url.Values) (int, string)
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: secret, verifyToken: verifyTk}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet {
		q := req.URL.Query()
		r.mu.Lock()
		r.verifies++
		override := r.challengeReply
		r.mu.Unlock()
		if override != nil {
			status, body := override(q)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != r.verifyToken {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, q.Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(req.Body)
	sig := req.Header.Get("X-Hub-Signature-256")
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	valid := hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
	r.mu.Lock()
	n := len(r.posts)
	r.posts = append(r.posts, rxPost{body: body, sig256: sig, sig1: req.Header.Get("X-Hub-Signature"), valid: valid})
	answer := r.answer
	r.mu.Unlock()
	status, delay := http.StatusOK, time.Duration(0)
	if answer != nil {
		status, delay = answer(n)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
		}
	}
	if !valid {
		status = http.StatusForbidden
	}
	w.WriteHeader(status)
}

func (r *receiver) allPosts() []rxPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rxPost(nil), r.posts...)
}

// events returns every event received (each POST once, even if redelivered: dedup on body).
func (r *receiver) events() []rxGot {
	var out []rxGot
	seen := map[string]bool{}
	for _, p := range r.allPosts() {
		if seen[string(p.body)] || !p.valid {
			continue
		}
		seen[string(p.body)] = true
		out = append(out, decodeEvents(r.t, p.body)...)
	}
	return out
}

func decodeEvents(t *testing.T, body []byte) []rxGot {
	t.Helper()
	var b rxBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("webhook body is not valid JSON: %v\n%s", err, body)
	}
	if b.Object != "page" {
		t.Fatalf("object = %q, want page", b.Object)
	}
	var raw struct {
		Entry []struct {
			Messaging []json.RawMessage `json:"messaging"`
			Standby   []json.RawMessage `json:"standby"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(body, &raw)
	var out []rxGot
	for i, e := range b.Entry {
		if len(e.Messaging) > 0 && len(e.Standby) > 0 {
			t.Fatalf("an entry carries both messaging and standby: %s", body)
		}
		for j, ev := range e.Messaging {
			ev.raw = raw.Entry[i].Messaging[j]
			out = append(out, rxGot{channel: "messaging", page: idOf(e.ID), ev: ev})
		}
		for j, ev := range e.Standby {
			ev.raw = raw.Entry[i].Standby[j]
			out = append(out, rxGot{channel: "standby", page: idOf(e.ID), ev: ev})
		}
	}
	return out
}

// kindOf classifies a received event.
func kindOf(ev rxEvent) string {
	switch {
	case ev.Message != nil && ev.Message.IsEcho:
		return "echo"
	case ev.Message != nil:
		return "message"
	case ev.Postback != nil:
		return "postback"
	case ev.Pass != nil:
		return "pass"
	case ev.Take != nil:
		return "take"
	case ev.Request != nil:
		return "request"
	case ev.Read != nil:
		return "read"
	}
	return "?"
}

func (r *receiver) ofKind(kind string) []rxGot {
	var out []rxGot
	for _, g := range r.events() {
		if kindOf(g.ev) == kind {
			out = append(out, g)
		}
	}
	return out
}

// env is a simulator with a bot (default app, may take) and a crm app, each with its receiver.
type env struct {
	t     *testing.T
	sim   *Simulator
	srv   *httptest.Server
	clock *ManualClock
	bot   *receiver
	crm   *receiver
}

func newEnv(t *testing.T, mutate func(o *Options)) *env {
	t.Helper()
	e := &env{t: t, clock: NewManualClock(t0), bot: newReceiver(t, botSec), crm: newReceiver(t, crmSec)}
	opts := Options{
		Clock: e.clock,
		Pages: []PageConfig{{ID: pageID, Name: "Shop", DefaultApp: botName,
			Users: []UserConfig{{PSID: psid, FirstName: "Ada", LastName: "Lovelace"}}}},
		Apps: []AppConfig{
			{ID: botID, Name: botName, Secret: botSec, CallbackURL: e.bot.srv.URL, CanTake: true},
			{ID: crmID, Name: crmName, Secret: crmSec, CallbackURL: e.crm.srv.URL},
		},
		DeliveryTimeout: 500 * time.Millisecond,
		RetryDelay:      time.Millisecond,
	}
	if mutate != nil {
		mutate(&opts)
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.sim = sim
	e.srv = httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		sim.Close()
		e.srv.Close()
	})
	return e
}

func (e *env) token(app string) string {
	e.t.Helper()
	tok, err := e.sim.PageToken(app, pageID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

func (e *env) idle() {
	e.t.Helper()
	if err := e.sim.WaitIdle(e.ctx()); err != nil {
		e.t.Fatal(err)
	}
}

// graphResp is a decoded Graph answer.
type graphResp struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

func (g graphResp) code() (int, int) {
	errObj, _ := g.body["error"].(map[string]any)
	if errObj == nil {
		return 0, 0
	}
	c, _ := errObj["code"].(json.Number).Int64()
	var sub int64
	if s, ok := errObj["error_subcode"].(json.Number); ok {
		sub, _ = s.Int64()
	}
	return int(c), int(sub)
}

// call performs a Graph request with a JSON body (or none for GET).
func (e *env) call(method, path, token string, body any) graphResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := e.srv.URL + path
	if token != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "access_token=" + url.QueryEscape(token)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	g := e.do(req)
	// Graph answers do not wait for the webhooks they cause; the tests do.
	e.idle()
	return g
}

func (e *env) do(req *http.Request) graphResp {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	g := graphResp{status: resp.StatusCode, raw: raw, header: resp.Header}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&g.body); err != nil {
		e.t.Fatalf("%s %s: answer is not JSON: %s", req.Method, req.URL.Path, raw)
	}
	return g
}

func (e *env) send(app, text string) graphResp {
	return e.call("POST", "/v25.0/me/messages", e.token(app), map[string]any{
		"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE", "message": map[string]any{"text": text}})
}

func (e *env) handover(app, edge string, extra map[string]any) graphResp {
	body := map[string]any{"recipient": map[string]any{"id": psid}}
	for k, v := range extra {
		body[k] = v
	}
	return e.call("POST", "/v25.0/"+pageID+"/"+edge, e.token(app), body)
}

func (e *env) wantOK(g graphResp) {
	e.t.Helper()
	if g.status != 200 {
		e.t.Fatalf("want 200, got %d: %s", g.status, g.raw)
	}
}

func (e *env) wantErr(g graphResp, code, subcode int) {
	e.t.Helper()
	c, s := g.code()
	if g.status != 400 || c != code || s != subcode {
		e.t.Fatalf("want HTTP 400 code %d/%d, got %d %d/%d: %s", code, subcode, g.status, c, s, g.raw)
	}
	errObj := g.body["error"].(map[string]any)
	for _, k := range []string{"message", "type", "fbtrace_id"} {
		if v, _ := errObj[k].(string); v == "" {
			e.t.Fatalf("error JSON lacks %s: %s", k, g.raw)
		}
	}
}

func (e *env) say(text string) {
	e.t.Helper()
	if err := e.sim.Customer(pageID, psid).Say(text); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) owner() string { return e.sim.Owner(pageID, psid) }

func (e *env) wantOwner(want string) {
	e.t.Helper()
	if got := e.owner(); got != want {
		e.t.Fatalf("owner = %s, want %s\n%s", got, want, e.sim.Transcript())
	}
}

func formRequest(t *testing.T, u string, v url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func (r *receiver) setAnswer(f func(n int) (int, time.Duration)) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}
