package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "EAAB-page-token-SECRET-123"

// fakeGraph records requests and answers with a scripted handler.
type fakeGraph struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	reply func(w http.ResponseWriter, r *http.Request, body []byte)
}

type recorded struct {
	Method, Path string
	Query        map[string][]string
	Body         map[string]any
}

func newFakeGraph(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeGraph {
	t.Helper()
	f := &fakeGraph{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
		if len(b) > 0 {
			_ = json.Unmarshal(b, &rec.Body)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
		f.reply(w, r, b)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGraph) calls() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func ok(w http.ResponseWriter, r *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		io.WriteString(w, `{"recipient_id":"1254459154682919","message_id":"m_1"}`)
	case r.Method == "GET":
		io.WriteString(w, `{"first_name":"Peter","id":"1"}`)
	default:
		io.WriteString(w, `{"success":true}`)
	}
}

func graphError(status int, body string) func(w http.ResponseWriter, r *http.Request, _ []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newClient(t *testing.T, base string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, Version: "v25.0", PageID: "1000000000000001", Token: []byte(testToken), Timeout: 2 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendRequestShape(t *testing.T) {
	f := newFakeGraph(t, ok)
	c := newClient(t, f.URL+"/")
	res, err := c.Send(context.Background(), "1254459154682919", map[string]any{"text": "hi"}, "bot")
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID != "m_1" {
		t.Errorf("message id %q", res.MessageID)
	}
	if err := c.SendAction(context.Background(), "1254459154682919", TypingOn); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	got := calls[0]
	if got.Method != "POST" || got.Path != "/v25.0/1000000000000001/messages" {
		t.Errorf("request %s %s", got.Method, got.Path)
	}
	if q := got.Query["access_token"]; len(q) != 1 || q[0] != testToken {
		t.Errorf("access_token %v", q)
	}
	want := map[string]any{
		"recipient":      map[string]any{"id": "1254459154682919"},
		"messaging_type": "RESPONSE",
		"message":        map[string]any{"text": "hi", "metadata": "bot"},
	}
	if fmt.Sprint(got.Body) != fmt.Sprint(want) {
		t.Errorf("body %v, want %v", got.Body, want)
	}
	act := calls[1].Body
	if act["sender_action"] != "typing_on" || act["message"] != nil || act["messaging_type"] != nil {
		t.Errorf("sender action body %v: must be alone with the recipient", act)
	}
}

func TestThreadControlCalls(t *testing.T) {
	f := newFakeGraph(t, ok)
	c := newClient(t, f.URL)
	ctx := context.Background()
	for _, err := range []error{
		c.PassThreadControl(ctx, "42", "263902037430900", "to inbox"),
		c.TakeThreadControl(ctx, "42", "back"),
		c.RequestThreadControl(ctx, "42", ""),
		c.ReleaseThreadControl(ctx, "42", ""),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := f.calls()
	wantPaths := []string{"pass_thread_control", "take_thread_control", "request_thread_control", "release_thread_control"}
	for i, p := range wantPaths {
		if calls[i].Path != "/v25.0/1000000000000001/"+p {
			t.Errorf("call %d path %s", i, calls[i].Path)
		}
		if r, _ := calls[i].Body["recipient"].(map[string]any); r["id"] != "42" {
			t.Errorf("call %d recipient %v", i, calls[i].Body)
		}
	}
	if calls[0].Body["target_app_id"] != "263902037430900" || calls[0].Body["metadata"] != "to inbox" {
		t.Errorf("pass body %v", calls[0].Body)
	}
	if _, has := calls[1].Body["target_app_id"]; has {
		t.Errorf("take must not carry a target: %v", calls[1].Body)
	}
	if err := c.PassThreadControl(ctx, "42", "", ""); err == nil {
		t.Error("pass without a target accepted")
	}
}

func TestThreadControlWithoutSuccessIsAnError(t *testing.T) {
	f := newFakeGraph(t, graphError(200, `{"success":false}`))
	c := newClient(t, f.URL)
	if err := c.TakeThreadControl(context.Background(), "42", ""); err == nil {
		t.Fatal("success:false taken as success")
	}
}

func TestThreadOwner(t *testing.T) {
	for _, tc := range []struct {
		body string
		want ThreadOwner
	}{
		{`{"data":[{"thread_owner":{"app_id":"263902037430900"}}]}`, ThreadOwner{AppID: "263902037430900"}},
		{`{"data":[{"thread_owner":{"app_id":9007199254740993123}}]}`, ThreadOwner{AppID: "9007199254740993123"}},
		{`{"data":[]}`, ThreadOwner{Idle: true}},
		{`{"data":[{"thread_owner":{"expiration":1700000000}}]}`, ThreadOwner{}},
	} {
		f := newFakeGraph(t, graphError(200, tc.body))
		c := newClient(t, f.URL)
		got, err := c.ThreadOwner(context.Background(), "42")
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.body, got, tc.want)
		}
		call := f.calls()[0]
		if call.Method != "GET" || call.Path != "/v25.0/1000000000000001/thread_owner" || call.Query["recipient"][0] != "42" {
			t.Errorf("request %+v", call)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		class  Class
	}{
		{"transient 1", 500, `{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1}}`, ClassServerError},
		{"transient 2", 503, `{"error":{"message":"Service temporarily unavailable","code":2,"is_transient":true}}`, ClassServerError},
		{"5xx without body", 502, `<html>bad gateway</html>`, ClassServerError},
		{"app rate limit 4", 400, `{"error":{"code":4,"message":"(#4) Application request limit reached"}}`, ClassThrottled},
		{"user rate limit 17", 400, `{"error":{"code":17}}`, ClassThrottled},
		{"page rate limit 32", 400, `{"error":{"code":32}}`, ClassThrottled},
		{"613", 400, `{"error":{"code":613,"error_subcode":2534040}}`, ClassThrottled},
		{"BUC 80006", 400, `{"error":{"code":80006}}`, ClassThrottled},
		{"code as string", 400, `{"error":{"code":"17"}}`, ClassThrottled},
		{"token 190", 400, `{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463}}`, ClassTokenInvalid},
		{"551 unavailable", 400, `{"error":{"code":551,"error_subcode":1545041}}`, ClassRefused},
		{"outside window 2018278", 400, `{"error":{"code":10,"error_subcode":2018278}}`, ClassRefused},
		{"outside window 2534022", 400, `{"error":{"code":10,"error_subcode":2534022}}`, ClassRefused},
		{"not owner 2018300", 400, `{"error":{"code":10,"error_subcode":2018300,"message":"(#10) Message failed to send because another app is controlling this thread now."}}`, ClassRefused},
		{"100 not thread owner", 400, `{"error":{"code":100,"error_subcode":2534037}}`, ClassRefused},
		{"100 on a 500", 500, `{"error":{"code":100}}`, ClassRefused},
		{"unknown 4xx", 400, `{"error":{"code":12345}}`, ClassRefused},
		{"4xx without body", 404, ``, ClassRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t, graphError(tc.status, tc.body))
			c := newClient(t, f.URL)
			_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
			if got := Classify(err); got != tc.class {
				t.Fatalf("class %s, want %s (err %v)", got, tc.class, err)
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Status != tc.status {
				t.Fatalf("not a *graph.Error with status %d: %#v", tc.status, err)
			}
			retry := tc.class == ClassServerError || tc.class == ClassThrottled
			if Retryable(err) != retry || Permanent(err) == retry || Ambiguous(err) {
				t.Errorf("Retryable=%v Permanent=%v Ambiguous=%v", Retryable(err), Permanent(err), Ambiguous(err))
			}
			if len(f.calls()) != 1 {
				t.Errorf("the client itself retried: %d calls", len(f.calls()))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	f := newFakeGraph(t, graphError(400, `{"error":{"message":"(#10) Message failed to send because another app is controlling this thread now.","type":"OAuthException","code":10,"error_subcode":2018300,"fbtrace_id":"AbC"}}`))
	c := newClient(t, f.URL)
	_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	ge, ok := AsError(err)
	if !ok {
		t.Fatal(err)
	}
	want := Error{Endpoint: EndpointSend, Status: 400, Code: 10, Subcode: 2018300, Type: "OAuthException",
		Message: "(#10) Message failed to send because another app is controlling this thread now.", TraceID: "AbC"}
	if *ge != want {
		t.Errorf("got %+v\nwant %+v", *ge, want)
	}
}

func TestConnectionRefusedIsNotSent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := newClient(t, "http://"+addr)
	_, err = c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	if Classify(err) != ClassNotSent || !Retryable(err) || Ambiguous(err) {
		t.Fatalf("class %s for %v", Classify(err), err)
	}
	assertNoToken(t, err.Error())
}

// hangingGraph reads the request and never answers until the test ends.
func hangingGraph(t *testing.T) (*fakeGraph, *atomic.Int32) {
	var n atomic.Int32
	release := make(chan struct{})
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	return f, &n
}

func TestTimeoutAfterSendIsAmbiguous(t *testing.T) {
	f, n := hangingGraph(t)
	c := newClient(t, f.URL, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	if Classify(err) != ClassAmbiguous || Retryable(err) || !Ambiguous(err) {
		t.Fatalf("class %s for %v", Classify(err), err)
	}
	if err := c.PassThreadControl(context.Background(), "42", "263902037430900", ""); !Ambiguous(err) {
		t.Fatalf("pass: %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests reached the server", n.Load())
	}
	// A GET that timed out may be repeated: asking again changes nothing.
	_, err = c.ThreadOwner(context.Background(), "42")
	if Ambiguous(err) || !Retryable(err) {
		t.Fatalf("thread_owner timeout: class %s", Classify(err))
	}
	assertNoToken(t, err.Error())
}

func TestResetAfterSendIsAmbiguous(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST instead of FIN
			}
			conn.Close()
		}
	})
	c := newClient(t, f.URL)
	_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	if !Ambiguous(err) {
		t.Fatalf("class %s for %v", Classify(err), err)
	}
	if len(f.calls()) != 1 {
		t.Errorf("%d requests: a POST must not be repeated", len(f.calls()))
	}
}

func TestTokenNeverInErrorsOrStrings(t *testing.T) {
	// Meta's message may quote the token; the error must not.
	f := newFakeGraph(t, graphError(400, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token `+testToken+`","type":"OAuthException","code":190}}`))
	c := newClient(t, f.URL)
	_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	if !TokenInvalid(err) {
		t.Fatalf("want 190, got %v", err)
	}
	assertNoToken(t, err.Error())
	assertNoToken(t, fmt.Sprintf("%v %+v %#v %s", err, err, err, err))
	assertNoToken(t, fmt.Sprintf("%v %+v %#v %s", c, c, c, c))

	// A context cancelled mid-call: Go's url.Error would print the URL with the token.
	f2, _ := hangingGraph(t)
	c2 := newClient(t, f2.URL)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c2.ThreadOwner(ctx, "42")
	if err == nil {
		t.Fatal("no error")
	}
	assertNoToken(t, err.Error())
	assertNoToken(t, fmt.Sprintf("%#v", err))
	if _, err := New(Config{BaseURL: "::bad", Version: "v25.0", PageID: "1", Token: []byte(testToken)}); err == nil {
		t.Error("bad base URL accepted")
	} else {
		assertNoToken(t, err.Error())
	}
}

func assertNoToken(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, testToken) || strings.Contains(s, "SECRET") {
		t.Errorf("token leaked: %s", s)
	}
}

func TestUserProfileCache(t *testing.T) {
	var fail atomic.Bool
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		if fail.Load() {
			graphError(400, `{"error":{"code":100,"error_subcode":2018218,"message":"No profile available for this user."}}`)(w, r, b)
			return
		}
		ok(w, r, b)
	})
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newClient(t, f.URL, func(c *Config) {
		c.Now = clock
		c.ProfileTTL, c.ProfileFailureTTL, c.ProfileCacheSize = time.Hour, time.Minute, 2
	})
	ctx := context.Background()
	for range 3 {
		p, err := c.UserProfile(ctx, "7")
		if err != nil || p.FirstName != "Peter" {
			t.Fatalf("%+v %v", p, err)
		}
	}
	if n := len(f.calls()); n != 1 {
		t.Fatalf("%d profile calls, want 1 (cached)", n)
	}
	call := f.calls()[0]
	if call.Path != "/v25.0/7" || call.Query["fields"][0] != "first_name" {
		t.Errorf("profile request %+v", call)
	}
	fail.Store(true)
	for range 3 {
		if _, err := c.UserProfile(ctx, "8"); err == nil {
			t.Fatal("failure not reported")
		}
	}
	if n := len(f.calls()); n != 2 {
		t.Fatalf("%d calls: a failure must be cached briefly", n)
	}
	advance(2 * time.Minute)
	if _, err := c.UserProfile(ctx, "8"); err == nil {
		t.Fatal("failure not reported")
	}
	if n := len(f.calls()); n != 3 {
		t.Fatalf("%d calls: the failure must expire", n)
	}
	// The size bound holds.
	for _, p := range []string{"9", "10", "11"} {
		c.UserProfile(ctx, p)
	}
	if n := c.profiles.len(); n > 2 {
		t.Errorf("cache holds %d entries, bound 2", n)
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(10) // 100ms apart, burst 1
	now := time.Unix(1700000000, 0)
	waits := []time.Duration{}
	for range 4 {
		waits = append(waits, l.reserve(now))
	}
	want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	// After a quiet second the bucket is full again.
	if w := l.reserve(now.Add(2 * time.Second)); w != 0 {
		t.Errorf("wait %v after idle", w)
	}
	l = newLimiter(250) // burst 25
	n := 0
	for l.reserve(now) == 0 {
		n++
	}
	if n != 25 {
		t.Errorf("burst %d, want 25", n)
	}
}

func TestSendRateLimitedAndCancelled(t *testing.T) {
	f := newFakeGraph(t, ok)
	c := newClient(t, f.URL, func(c *Config) { c.MaxSendsPerSecond = 1 })
	if _, err := c.Send(context.Background(), "42", map[string]any{"text": "a"}, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, "42", map[string]any{"text": "b"}, "")
	if Classify(err) != ClassNotSent {
		t.Fatalf("waiting for the limiter then cancelled: class %s (%v)", Classify(err), err)
	}
	if len(f.calls()) != 1 {
		t.Errorf("%d calls, want 1", len(f.calls()))
	}
}

func TestSubscribedApps(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		if r.Method == "GET" {
			io.WriteString(w, `{"data":[{"id":1517776481860111,"name":"bot","subscribed_fields":["messages","standby"]}]}`)
			return
		}
		ok(w, r, b)
	})
	c := newClient(t, f.URL)
	apps, err := c.SubscribedApps(context.Background())
	if err != nil || len(apps) != 1 || apps[0].ID != "1517776481860111" || len(apps[0].SubscribedFields) != 2 {
		t.Fatalf("%+v %v", apps, err)
	}
	if err := c.Subscribe(context.Background(), []string{"messages", "standby"}); err != nil {
		t.Fatal(err)
	}
	post := f.calls()[1]
	if post.Method != "POST" || post.Path != "/v25.0/1000000000000001/subscribed_apps" || post.Query["subscribed_fields"][0] != "messages,standby" {
		t.Errorf("subscribe request %+v", post)
	}
}

func TestObserver(t *testing.T) {
	f := newFakeGraph(t, graphError(400, `{"error":{"code":17}}`))
	var mu sync.Mutex
	var seen []string
	c := newClient(t, f.URL, func(c *Config) {
		c.Observer = func(ep Endpoint, res Class, _ time.Duration) {
			mu.Lock()
			seen = append(seen, string(ep)+"="+string(res))
			mu.Unlock()
		}
	})
	c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
	c.TakeThreadControl(context.Background(), "42", "")
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[messages=throttled take_thread_control=throttled]" {
		t.Errorf("observed %v", seen)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "http://x", Version: "v25.0", PageID: "", Token: []byte("t")},
		{BaseURL: "http://x", Version: "v25.0", PageID: "1"},
		{BaseURL: "ftp://x", Version: "v25.0", PageID: "1", Token: []byte("t")},
		{BaseURL: "http://x", Version: "", PageID: "1", Token: []byte("t")},
		{BaseURL: "http://x?a=b", Version: "v25.0", PageID: "1", Token: []byte("t")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

func TestWithMetadata(t *testing.T) {
	for in, want := range map[string]string{
		`{"text":"a"}`: `{"text":"a","metadata":"m\"x"}`,
		`{}`:           `{"metadata":"m\"x"}`,
	} {
		if got := string(withMetadata([]byte(in), `m"x`)); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}

// A token in Meta's message, cut by the 300-character limit: no part of it may survive.
func TestTokenCutAtTheMessageLimitIsScrubbed(t *testing.T) {
	for start := 300 - len(testToken) + 1; start < 300; start++ {
		msg := strings.Repeat("x", start) + testToken + " rest of the message"
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": 190}})
		f := newFakeGraph(t, graphError(400, string(body)))
		c := newClient(t, f.URL)
		_, err := c.Send(context.Background(), "42", map[string]any{"text": "x"}, "")
		if err == nil {
			t.Fatal("no error")
		}
		if tail := strings.TrimRight(err.Error(), "."); strings.Contains(tail, testToken[:4]) {
			t.Fatalf("token at %d: a part of it is in the error: %q", start, tail[max(0, len(tail)-40):])
		}
	}
}
