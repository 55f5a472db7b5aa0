// Package webhook runs the webhook binary's Run in-process against a real API server (envtest)
// or a manifests directory, a fake Graph API and signed Messenger requests.
package webhook

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
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
	g.token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
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
	return rig.PostSigned(t, m.url, secret, m.body(psid, text))
}

// ask sends a message and waits for the webhook's reply to it, returning the reply's text.
func (m *messenger) ask(t *testing.T, g *fakeGraph, secret, psid string) string {
	t.Helper()
	before := len(g.replies(psid))
	if code := m.post(t, secret, psid, "hello"); code != http.StatusOK {
		t.Fatalf("POST answered %d", code)
	}
	var got []string
	rig.Eventually(t, "a reply to "+psid, func() bool {
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
	rig.Eventually(t, fmt.Sprintf("the reply %q", want), func() bool {
		got = m.ask(t, g, secret, psid)
		return got == want
	})
}
