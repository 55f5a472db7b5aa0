package callback_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A client without the secret must not be able to flood the log: refused POSTs and wrong verify
// tokens are logged at a limited rate while the requests metric counts each of them.
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	h := newHarness(t)
	const n = 500
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"wrong"}, "hub.challenge": {"42"}}
	for range n {
		if code := h.PostWith(pageBody(textEvent("psid-1", "m", 1)), map[string]string{"X-Hub-Signature-256": "sha256=00"}); code != 403 {
			t.Fatalf("bad signature: %d, want 403", code)
		}
		resp, err := http.Get(h.HTTP.URL + "/webhook?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("wrong verify token: %d, want 403", resp.StatusCode)
		}
	}
	lines := strings.Count(h.Logs.String(), "refused")
	// The limit is 10 lines per 10 s; 50 leaves room for a slow run, and is far below 2n.
	if lines > 50 {
		t.Errorf("%d refusals wrote %d log lines, want at most 50", 2*n, lines)
	}
	if lines == 0 {
		t.Error("no refusal logged at all")
	}
	if got := h.Counter("messenger_webhook_requests_total", "method", "POST", "code", "403"); got != n {
		t.Errorf("requests{POST,403} = %v, want %d", got, n)
	}
	if got := h.Counter("messenger_webhook_requests_total", "method", "GET", "code", "403"); got != n {
		t.Errorf("requests{GET,403} = %v, want %d", got, n)
	}
}
