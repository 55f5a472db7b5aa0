package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// GraphCall is one call the fake Graph API received.
type GraphCall struct {
	Method, Endpoint, PSID string
	Body                   map[string]any
	Token                  string // from the Authorization header
	Proof                  string // appsecret_proof
	URL                    string // the request URI as the server saw it
}

// Graph is a small fake Graph API. Script, when set (SetScript), decides the answer per call;
// Owner is the thread_owner app id it reports ("" = idle).
type Graph struct {
	URL string

	mu     sync.Mutex
	calls  []GraphCall
	script func(c GraphCall, n int, w http.ResponseWriter) bool // n: calls so far to this endpoint
	owner  string
}

// NewGraph starts a fake Graph API until the end of the test.
func NewGraph(t testing.TB) *Graph {
	f := &Graph{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *Graph) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	c := GraphCall{Method: r.Method, Endpoint: parts[len(parts)-1], Token: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
		Proof: r.URL.Query().Get("appsecret_proof"), URL: r.RequestURI}
	if len(parts) == 2 && r.Method == "GET" {
		c.Endpoint, c.PSID = "profile", parts[1]
	}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &c.Body)
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
	if script != nil && script(c, n, w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch c.Endpoint {
	case "messages":
		_, _ = io.WriteString(w, `{"recipient_id":"`+c.PSID+`","message_id":"m_sent"}`)
	case "thread_owner":
		if owner == "" {
			_, _ = io.WriteString(w, `{"data":[]}`)
		} else {
			_, _ = io.WriteString(w, `{"data":[{"thread_owner":{"app_id":`+owner+`}}]}`)
		}
	case "profile":
		_, _ = io.WriteString(w, `{"first_name":"Peter","id":"`+c.PSID+`"}`)
	default:
		_, _ = io.WriteString(w, `{"success":true}`)
	}
}

// SetScript makes s decide the answers (return false to fall through to a success).
func (f *Graph) SetScript(s func(c GraphCall, n int, w http.ResponseWriter) bool) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

// SetOwner sets the thread owner thread_owner reports ("" = idle).
func (f *Graph) SetOwner(appID string) {
	f.mu.Lock()
	f.owner = appID
	f.mu.Unlock()
}

// All returns the calls so far.
func (f *Graph) All() []GraphCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]GraphCall(nil), f.calls...)
}

// Count returns how many calls went to endpoint.
func (f *Graph) Count(endpoint string) int {
	n := 0
	for _, c := range f.All() {
		if c.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// Answer writes a JSON answer with status; it returns true (the script handled the call).
func Answer(w http.ResponseWriter, status int, body string) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	return true
}

// SortedPSIDs returns the calls' PSIDs, sorted.
func SortedPSIDs(calls []GraphCall) []string {
	var s []string
	for _, c := range calls {
		s = append(s, c.PSID)
	}
	sort.Strings(s)
	return s
}
