package graph

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testToken  = "EAAB-page-token-SECRET-123"
	testSecret = "app-secret-SECRET-456"
	testPage   = "1000000000000001"
)

// fakeGraph records requests and answers with a scripted handler.
type fakeGraph struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	reply func(w http.ResponseWriter, r *http.Request, body []byte)
}

type recorded struct {
	Method, Path string
	URI          string // the request URI as the server saw it
	Auth         string // the Authorization header
	Query        map[string][]string
	Body         map[string]any
	Form         map[string][]string
}

func newFakeGraph(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeGraph {
	t.Helper()
	f := &fakeGraph{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, URI: r.RequestURI, Auth: r.Header.Get("Authorization"), Query: r.URL.Query()}
		if len(b) > 0 {
			if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
				rec.Form, _ = url.ParseQuery(string(b))
			} else {
				_ = json.Unmarshal(b, &rec.Body)
			}
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
		_, _ = io.WriteString(w, `{"recipient_id":"1254459154682919","message_id":"m_1"}`)
	case r.Method == "GET":
		_, _ = io.WriteString(w, `{"first_name":"Peter","id":"1"}`)
	default:
		_, _ = io.WriteString(w, `{"success":true}`)
	}
}

func graphError(status int, body string) func(w http.ResponseWriter, r *http.Request, _ []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newClient(t *testing.T, base string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, Version: "v25.0", PageID: testPage, Token: []byte(testToken), AppSecret: []byte(testSecret), Timeout: 2 * time.Second}
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
	if err := c.Send(context.Background(), "1254459154682919", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	got := calls[0]
	if got.Method != "POST" || got.Path != "/v25.0/1000000000000001/messages" {
		t.Errorf("request %s %s", got.Method, got.Path)
	}
	want := map[string]any{
		"recipient":      map[string]any{"id": "1254459154682919"},
		"messaging_type": "RESPONSE",
		"message":        map[string]any{"text": "hi"},
	}
	if fmt.Sprint(got.Body) != fmt.Sprint(want) {
		t.Errorf("body %v, want %v", got.Body, want)
	}
}

func TestThreadControlCalls(t *testing.T) {
	f := newFakeGraph(t, ok)
	c := newClient(t, f.URL)
	ctx := context.Background()
	for _, err := range []error{
		c.PassThreadControl(ctx, "42", "263902037430900", "to inbox"),
		c.TakeThreadControl(ctx, "42", "back"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := f.calls()
	wantPaths := []string{"pass_thread_control", "take_thread_control"}
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

func TestSendAnswerThatIsNotJSONIsAnError(t *testing.T) {
	f := newFakeGraph(t, graphError(200, `<html>a proxy's page</html>`))
	err := newClient(t, f.URL).Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != Refused {
		t.Fatalf("meaning %s (%v)", MeaningOf(err), err)
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

// Meta's answers, as the reference and Meta's documentation quote them, and what they mean.
func TestErrorMeanings(t *testing.T) {
	const (
		notOwnerSend = `{"error":{"message":"(#10) Message failed to send because another app is controlling this thread now.","type":"OAuthException","code":10,"error_subcode":2018300,"fbtrace_id":"AbC1"}}`
		notOwner     = `{"error":{"message":"(#100) The action is invalid since it's not the thread owner.","type":"OAuthException","code":100,"error_subcode":2534037,"fbtrace_id":"AbC2"}}`
		hopDisabled  = `{"error":{"message":"(#100) Handover Protocol APIs disabled for this page","type":"OAuthException","code":100,"fbtrace_id":"AbC3"}}`
		noTake       = `{"error":{"message":"(#10) Application does not have permission to take thread control","type":"OAuthException","code":10,"fbtrace_id":"AbC4"}}`
		proofMissing = `{"error":{"message":"API calls from the server require an appsecret_proof argument","type":"GraphMethodException","code":100,"fbtrace_id":"AbC5"}}`
	)
	for _, tc := range []struct {
		name   string
		call   string // send, take, pass, owner, profile, subscribe, register
		status int
		body   string
		want   Meaning
	}{
		{"not owner 10/2018300", "send", 400, notOwnerSend, NotOwner},
		{"not thread owner 100/2534037 on a pass", "pass", 400, notOwner, NotOwner},
		{"visibility denied 100/2018234", "owner", 400, `{"error":{"message":"(#100) Secondary receivers cannot see thread owners other than themselves. Denying visibility","type":"OAuthException","code":100,"error_subcode":2018234}}`, NotOwner},
		{"not thread owner 100/2534037 on a take", "take", 400, notOwner, TakeRefused},
		{"take not allowed (10)", "take", 400, noTake, TakeRefused},
		{"Handover Protocol APIs disabled", "take", 400, hopDisabled, TakeRefused},
		{"already the owner", "take", 400, `{"error":{"message":"(#100) The app is already the thread owner.","type":"OAuthException","code":100}}`, AlreadyOwner},
		{"outside the window 10/2018278", "send", 400, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}`, OutsideWindow},
		{"outside the window 10/2534022", "send", 400, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2534022}}`, OutsideWindow},
		{"cannot receive now 10/2018108", "send", 400, `{"error":{"message":"(#10) This person cannot receive messages at this time.","type":"OAuthException","code":10,"error_subcode":2018108}}`, Refused},
		{"cannot receive now 10/2018108 on a take", "take", 400, `{"error":{"code":10,"error_subcode":2018108}}`, Refused},
		{"unavailable 551", "send", 400, `{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041}}`, Unreachable},
		{"token 190/460", "send", 400, `{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460}}`, TokenInvalid},
		{"token 190/463", "owner", 400, `{"error":{"message":"Error validating access token: Session has expired on Friday, 09-Jan-26 10:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463}}`, TokenInvalid},
		{"session 102", "send", 400, `{"error":{"message":"Session key invalid or no longer valid","type":"OAuthException","code":102}}`, TokenInvalid},
		{"appsecret_proof missing", "send", 400, proofMissing, NotAuthorized},
		{"appsecret_proof wrong", "profile", 400, `{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException","code":100}}`, NotAuthorized},
		{"app not reviewed 200/2018028", "send", 403, `{"error":{"message":"(#200) The app has not been approved for pages_messaging","type":"OAuthException","code":200,"error_subcode":2018028}}`, NotAuthorized},
		{"pages_messaging missing 230", "send", 403, `{"error":{"message":"(#230) Requires pages_messaging permission to manage the object","type":"OAuthException","code":230}}`, NotAuthorized},
		{"needs a page token 210", "subscribe", 400, `{"error":{"message":"(#210) This call requires a Page access token.","type":"OAuthException","code":210}}`, NotAuthorized},
		{"permission to subscribe (10)", "subscribe", 403, `{"error":{"message":"(#10) To use 'Page Public Metadata Access', your use of this endpoint must be reviewed and approved by Facebook.","type":"OAuthException","code":10}}`, NotAuthorized},
		{"profile access (10) is not the app's authorisation", "profile", 400, `{"error":{"message":"(#10) Application does not have the capability to make this API call.","type":"OAuthException","code":10}}`, Refused},
		{"callback not verified 2200", "register", 400, `{"error":{"message":"(#2200) Callback verification failed with the following errors: HTTP Status Code = 403","type":"OAuthException","code":2200}}`, CallbackUnverified},
		{"app rate limit 4", "send", 400, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true}}`, Throttled},
		{"user rate limit 17", "send", 400, `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17}}`, Throttled},
		{"page rate limit 32", "send", 400, `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32}}`, Throttled},
		{"613", "send", 400, `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"error_subcode":2534040}}`, Throttled},
		{"business use case 80006", "send", 400, `{"error":{"message":"(#80006) There have been too many messages sent to this Messenger account. Please wait a while before sending another message.","type":"OAuthException","code":80006}}`, Throttled},
		{"code as a string", "send", 400, `{"error":{"code":"17"}}`, Throttled},
		{"unknown error 1", "send", 500, `{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"is_transient":true}}`, Transient},
		{"unexpected error 2", "send", 503, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`, Transient},
		{"automated flow 2018321", "send", 400, `{"error":{"message":"(#100) The thread is controlled by Messenger during an automated flow.","code":100,"error_subcode":2018321}}`, Transient},
		{"5xx without body", "send", 502, `<html>bad gateway</html>`, Transient},
		{"invalid parameter", "send", 400, `{"error":{"message":"(#100) Param message[attachment][payload][elements] must be non-empty.","type":"OAuthException","code":100}}`, BadRequest},
		{"100 on a 500", "send", 500, `{"error":{"message":"(#100) Invalid parameter","code":100}}`, BadRequest},
		{"no matching user 100/2018001", "send", 400, `{"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001}}`, Refused},
		{"unknown 4xx", "send", 400, `{"error":{"code":12345}}`, Refused},
		{"4xx without body", "send", 404, ``, Refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t, graphError(tc.status, tc.body))
			c := newClient(t, f.URL)
			ctx := context.Background()
			var err error
			switch tc.call {
			case "send":
				err = c.Send(ctx, "42", map[string]any{"text": "x"})
			case "take":
				err = c.TakeThreadControl(ctx, "42", "")
			case "pass":
				err = c.PassThreadControl(ctx, "42", "263902037430900", "")
			case "owner":
				_, err = c.ThreadOwner(ctx, "42")
			case "profile":
				_, err = c.UserProfile(ctx, "42")
			case "subscribe":
				err = c.SubscribePage(ctx, []string{"messages"})
			case "register":
				err = c.RegisterCallback(ctx, "111", "https://example.com/webhook", []byte("verify-me"), []string{"messages"})
			}
			if got := MeaningOf(err); got != tc.want {
				t.Fatalf("meaning %s, want %s (err %v)", got, tc.want, err)
			}
			var ge *apiError
			if !errors.As(err, &ge) || ge.Status != tc.status {
				t.Fatalf("not an *apiError with status %d: %#v", tc.status, err)
			}
			if retry := tc.want == Transient || tc.want == Throttled; tc.want.Retry() != retry {
				t.Errorf("Retry() = %v", tc.want.Retry())
			}
			if len(f.calls()) != 1 {
				t.Errorf("the client itself retried: %d calls", len(f.calls()))
			}
		})
	}
	if MeaningOf(nil) != OK || OK.Retry() || Ambiguous.Retry() || !NotSent.Retry() {
		t.Error("meanings of nil, ok, ambiguous, not sent")
	}
}

func TestErrorFields(t *testing.T) {
	f := newFakeGraph(t, graphError(400, `{"error":{"message":"(#10) Message failed to send because another app is controlling this thread now.","type":"OAuthException","code":10,"error_subcode":2018300,"fbtrace_id":"AbC"}}`))
	c := newClient(t, f.URL)
	err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
	var ge *apiError
	if !errors.As(err, &ge) {
		t.Fatal(err)
	}
	want := apiError{Endpoint: EndpointSend, Status: 400, Code: 10, Subcode: 2018300, Type: "OAuthException",
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
	err = c.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != NotSent {
		t.Fatalf("meaning %s for %v", MeaningOf(err), err)
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
	err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != Ambiguous {
		t.Fatalf("meaning %s for %v", MeaningOf(err), err)
	}
	if err := c.PassThreadControl(context.Background(), "42", "263902037430900", ""); MeaningOf(err) != Ambiguous {
		t.Fatalf("pass: %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests reached the server", n.Load())
	}
	// A GET that timed out may be repeated: asking again changes nothing.
	_, err = c.ThreadOwner(context.Background(), "42")
	if MeaningOf(err) != NotSent {
		t.Fatalf("thread_owner timeout: meaning %s", MeaningOf(err))
	}
	assertNoToken(t, err.Error())
}

func TestResetAfterSendIsAmbiguous(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST instead of FIN
			}
			conn.Close()
		}
	})
	c := newClient(t, f.URL)
	err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != Ambiguous {
		t.Fatalf("meaning %s for %v", MeaningOf(err), err)
	}
	if len(f.calls()) != 1 {
		t.Errorf("%d requests: a POST must not be repeated", len(f.calls()))
	}
}

func TestTokenNeverInErrorsOrStrings(t *testing.T) {
	// Meta's message may quote the token; the error must not.
	f := newFakeGraph(t, graphError(400, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token `+testToken+` signed with `+testSecret+`","type":"OAuthException","code":190}}`))
	c := newClient(t, f.URL)
	err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != TokenInvalid {
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
	if _, err := New(Config{BaseURL: "::bad", Version: "v25.0", PageID: "1", Token: []byte(testToken), AppSecret: []byte(testSecret)}); err == nil {
		t.Error("bad base URL accepted")
	} else {
		assertNoToken(t, err.Error())
	}
}

func assertNoToken(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, testToken) || strings.Contains(s, testSecret) || strings.Contains(s, "SECRET") {
		t.Errorf("secret leaked: %s", s)
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
	c := newClient(t, f.URL, func(c *Config) { c.Now = clock })
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
	advance(6 * time.Minute)
	if _, err := c.UserProfile(ctx, "8"); err == nil {
		t.Fatal("failure not reported")
	}
	if n := len(f.calls()); n != 3 {
		t.Fatalf("%d calls: the failure must expire after 5 minutes", n)
	}
	if _, err := c.UserProfile(ctx, "7"); err != nil || len(f.calls()) != 3 {
		t.Fatalf("a profile must stay a day: %v, %d calls", err, len(f.calls()))
	}
	advance(24 * time.Hour)
	fail.Store(false)
	if _, err := c.UserProfile(ctx, "7"); err != nil || len(f.calls()) != 4 {
		t.Fatalf("a profile must expire after a day: %v, %d calls", err, len(f.calls()))
	}
	// The size bound holds, least recently used first out.
	c.profiles = newProfileCache(2, clock)
	for _, p := range []string{"9", "10", "9", "11"} {
		_, _ = c.UserProfile(ctx, p)
	}
	if keys := c.profiles.Keys(); len(keys) != 2 || fmt.Sprint(keys) != "[9 11]" {
		t.Errorf("cache holds %v, bound 2, 10 the least recently used", keys)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newLimiter(10) // 100ms apart, burst 1
	waits := []time.Duration{}
	for range 4 {
		waits = append(waits, l.l.ReserveN(now, 1).DelayFrom(now))
	}
	want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	// After a quiet second the bucket is full again.
	if w := l.l.ReserveN(now.Add(2*time.Second), 1).DelayFrom(now.Add(2 * time.Second)); w != 0 {
		t.Errorf("wait %v after idle", w)
	}
	l = newLimiter(250) // burst 25
	n := 0
	for l.l.ReserveN(now, 1).DelayFrom(now) == 0 {
		n++
	}
	if n != 25 {
		t.Errorf("burst %d, want 25", n)
	}
}

func TestSendRateLimitedAndCancelled(t *testing.T) {
	f := newFakeGraph(t, ok)
	c := newClient(t, f.URL, func(c *Config) { c.MaxSendsPerSecond = 1 })
	if err := c.Send(context.Background(), "42", map[string]any{"text": "a"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.Send(ctx, "42", map[string]any{"text": "b"})
	if MeaningOf(err) != NotSent {
		t.Fatalf("waiting for the limiter then cancelled: meaning %s (%v)", MeaningOf(err), err)
	}
	if len(f.calls()) != 1 {
		t.Errorf("%d calls, want 1", len(f.calls()))
	}
}

func TestPageSubscription(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		if r.Method == "GET" {
			_, _ = io.WriteString(w, `{"data":[{"id":"999","subscribed_fields":["feed"]},{"id":1517776481860111,"name":"bot","subscribed_fields":["messages","standby"]}]}`)
			return
		}
		ok(w, r, b)
	})
	c := newClient(t, f.URL)
	fields, subscribed, err := c.PageSubscription(context.Background(), "1517776481860111")
	if err != nil || !subscribed || fmt.Sprint(fields) != "[messages standby]" {
		t.Fatalf("%v %v %v", fields, subscribed, err)
	}
	if _, subscribed, _ := c.PageSubscription(context.Background(), "42"); subscribed {
		t.Error("an app not listed is subscribed")
	}
	if err := c.SubscribePage(context.Background(), []string{"messages", "standby"}); err != nil {
		t.Fatal(err)
	}
	post := f.calls()[2]
	if post.Method != "POST" || post.Path != "/v25.0/1000000000000001/subscribed_apps" || fmt.Sprint(post.Form["subscribed_fields"]) != "[messages,standby]" {
		t.Errorf("subscribe request %+v", post)
	}
}

func TestObserver(t *testing.T) {
	f := newFakeGraph(t, graphError(400, `{"error":{"code":17}}`))
	var mu sync.Mutex
	var seen []string
	c := newClient(t, f.URL, func(c *Config) {
		c.Observer = func(ep Endpoint, res Meaning, _ time.Duration) {
			mu.Lock()
			seen = append(seen, string(ep)+"="+string(res))
			mu.Unlock()
		}
	})
	_ = c.Send(context.Background(), "42", map[string]any{"text": "x"})
	_ = c.TakeThreadControl(context.Background(), "42", "")
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[messages=throttled take_thread_control=throttled]" {
		t.Errorf("observed %v", seen)
	}
}

func TestNewValidates(t *testing.T) {
	tok, sec := []byte("t0ken"), []byte("s3cret")
	for _, cfg := range []Config{
		{BaseURL: "http://x", Version: "v25.0", PageID: "1"},
		{BaseURL: "http://x", Version: "v25.0", PageID: "1", Token: tok},
		{BaseURL: "http://x", Version: "v25.0", PageID: "1", AppSecret: sec},
		{BaseURL: "ftp://x", Version: "v25.0", PageID: "1", Token: tok, AppSecret: sec},
		{BaseURL: "http://x", Version: "", PageID: "1", Token: tok, AppSecret: sec},
		{BaseURL: "http://x?a=b", Version: "v25.0", PageID: "1", Token: tok, AppSecret: sec},
		{BaseURL: "http://x", Version: "v25.0", PageID: "me", Token: tok, AppSecret: sec},
		{BaseURL: "http://x", Version: "v25.0", PageID: "1", Token: []byte("two words"), AppSecret: sec},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

// The token travels in the Authorization header only, never in a URL, and every call, with a
// page token or an app token, carries the appsecret_proof of that token.
func TestAuthorizationHeaderAndProofOnEveryCall(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/thread_owner"):
			_, _ = io.WriteString(w, `{"data":[]}`)
		case strings.HasSuffix(r.URL.Path, "/subscribed_apps") && r.Method == "GET":
			_, _ = io.WriteString(w, `{"data":[]}`)
		case strings.HasSuffix(r.URL.Path, "/subscriptions") && r.Method == "GET":
			_, _ = io.WriteString(w, `{"data":[]}`)
		default:
			ok(w, r, b)
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		token string
		calls func(c *Client) []error
	}{
		{"page token", testToken, func(c *Client) []error {
			send := c.Send(ctx, "42", map[string]any{"text": "x"})
			_, profile := c.UserProfile(ctx, "42")
			_, owner := c.ThreadOwner(ctx, "42")
			_, _, subscribed := c.PageSubscription(ctx, "111")
			return []error{send, profile, owner, subscribed, c.PassThreadControl(ctx, "42", "263902037430900", ""),
				c.TakeThreadControl(ctx, "42", ""), c.SubscribePage(ctx, []string{"messages"})}
		}},
		{"app token", "111|" + testSecret, func(c *Client) []error {
			_, sub := c.AppSubscription(ctx, "111")
			return []error{sub, c.RegisterCallback(ctx, "111", "https://example.com/webhook", []byte("verify-me"), []string{"messages"})}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.calls())
			c := newClient(t, f.URL, func(c *Config) { c.Token = []byte(tc.token) })
			errs := tc.calls(c)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			mac := hmac.New(sha256.New, []byte(testSecret))
			mac.Write([]byte(tc.token))
			proof := hex.EncodeToString(mac.Sum(nil))
			calls := f.calls()[before:]
			if len(calls) != len(errs) {
				t.Fatalf("%d requests for %d calls", len(calls), len(errs))
			}
			for _, r := range calls {
				if r.Auth != "Bearer "+tc.token {
					t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
				}
				for _, secret := range []string{tc.token, url.QueryEscape(tc.token), testSecret} {
					if strings.Contains(r.URI, secret) {
						t.Errorf("%s: a secret in the URL %s", r.Method, r.URI)
					}
				}
				if _, has := r.Query["access_token"]; has {
					t.Errorf("%s %s: access_token parameter", r.Method, r.URI)
				}
				if got := r.Query["appsecret_proof"]; len(got) != 1 || got[0] != proof {
					t.Errorf("%s %s: appsecret_proof %v, want %s", r.Method, r.Path, got, proof)
				}
			}
		})
	}
}

// A token in Meta's message, cut by the 300-character limit: no part of it may survive.
func TestTokenCutAtTheMessageLimitIsScrubbed(t *testing.T) {
	for start := 300 - len(testToken) + 1; start < 300; start++ {
		msg := strings.Repeat("x", start) + testToken + " rest of the message"
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": 190}})
		f := newFakeGraph(t, graphError(400, string(body)))
		c := newClient(t, f.URL)
		err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
		if err == nil {
			t.Fatal("no error")
		}
		if tail := strings.TrimRight(err.Error(), "."); strings.Contains(tail, testToken[:4]) {
			t.Fatalf("token at %d: a part of it is in the error: %q", start, tail[max(0, len(tail)-40):])
		}
	}
}
