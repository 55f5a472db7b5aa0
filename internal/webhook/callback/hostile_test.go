package callback_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// hostileCase is one request an attacker, a broken proxy or a confused platform could send.
// headers nil means "signed correctly with the app secret"; reply is the PSID that must get
// exactly one answer ("" when the request must cause no Graph call at all).
type hostileCase struct {
	name    string
	body    string
	headers map[string]string
	chunked bool // no Content-Length: the limit must hold while reading
	status  int
	reply   string
}

func hostileCases() []hostileCase {
	msg := func(psid, mid, text string) string {
		return fmt.Sprintf(`{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":1700000000000,"message":{"mid":"%s","text":%q}}`, psid, testPage, mid, text)
	}
	valid := pageBody(msg("3000000000000001", "m_h_valid", "hi"))
	sig := func(body, secret string) map[string]string {
		return map[string]string{callback.SignatureHeader: sign([]byte(body), secret)}
	}
	sha1Hex := func(body string) string {
		m := hmac.New(sha1.New, []byte(testSecret))
		m.Write([]byte(body))
		return hex.EncodeToString(m.Sum(nil))
	}
	goodHex := strings.TrimPrefix(sign([]byte(valid), testSecret), "sha256=")
	over := `{"object":"page","entry":[],"pad":"` + strings.Repeat("x", callback.MaxBody) + `"}`
	// Exactly callback.MaxBody bytes, valid and signed: the limit is inclusive.
	edgeHead := pageBody(msg("3000000000000010", "m_h_edge", "edge"))
	edge := edgeHead[:len(edgeHead)-1] + `,"pad":"` + strings.Repeat("p", callback.MaxBody-len(edgeHead)-9) + `"}`
	huge := strings.Repeat("ä", 300_000) // 600 KB of two-byte runes
	deepUnknown := `{"object":"page","x":` + strings.Repeat(`{"a":`, 100_000) + `1` + strings.Repeat(`}`, 100_000) + `}`
	deepInEvent := pageBody(`{"sender":{"id":"3000000000000099"},"message":{"mid":"m_deep","text":"x","nlp":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}}`)
	ev := func(inner string) string { return pageBody(inner) }

	return []hostileCase{
		// Signatures: every wrong form is 403, before the body is even parsed.
		{name: "no signature", body: valid, headers: map[string]string{}, status: 403},
		{name: "empty sha256=", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256="}, status: 403},
		{name: "short signature", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256=" + goodHex[:40]}, status: 403},
		{name: "long signature", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256=" + goodHex + "00"}, status: 403},
		{name: "signature with an inner space", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256= " + goodHex[1:]}, status: 403},
		{name: "prefix in upper case", body: valid, headers: map[string]string{callback.SignatureHeader: "SHA256=" + goodHex}, status: 403},
		{name: "non-hex signature", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256=" + strings.Repeat("g", 64)}, status: 403},
		{name: "no sha256= prefix", body: valid, headers: map[string]string{callback.SignatureHeader: goodHex}, status: 403},
		{name: "other algorithm prefix", body: valid, headers: map[string]string{callback.SignatureHeader: "sha512=" + goodHex}, status: 403},
		{name: "wrong secret", body: valid, headers: sig(valid, "not-the-app-secret"), status: 403},
		{name: "sha1-only header", body: valid, headers: map[string]string{"X-Hub-Signature": "sha1=" + sha1Hex(valid)}, status: 403},
		{name: "sha1 value in the sha256 header", body: valid, headers: map[string]string{callback.SignatureHeader: "sha256=" + sha1Hex(valid)}, status: 403},
		{name: "signature over a different body", body: valid, headers: sig(strings.Replace(valid, "hi", "ho", 1), testSecret), status: 403},
		{name: "signature over a prefix of the body", body: valid + " ", headers: sig(valid, testSecret), status: 403},
		// Size.
		{name: "body over 1 MiB", body: over, status: 413},
		{name: "body over 1 MiB without Content-Length", body: over, chunked: true, status: 413},
		{name: "body of exactly 1 MiB", body: edge, status: 200, reply: "3000000000000010"},
		// JSON.
		{name: "empty body", body: "", status: 400},
		{name: "truncated JSON", body: valid[:len(valid)/2], status: 400},
		{name: "truncated in a string", body: `{"object":"page","entry":[{"id":"` + testPage, status: 400},
		{name: "data after the object", body: valid + `{}`, status: 400},
		{name: "JSON array", body: `[` + valid + `]`, status: 400},
		{name: "JSON string", body: `"page"`, status: 400},
		{name: "byte order mark", body: "\ufeff" + valid, status: 400},
		{name: "NUL byte", body: "{\x00}", status: 400},
		{name: "deeply nested unknown key (100000 levels)", body: deepUnknown, status: 400},
		{name: "deeply nested unknown key inside an event (1000 levels)", body: deepInEvent, status: 200, reply: "3000000000000099"},
		{name: "entry is a string", body: `{"object":"page","entry":"x"}`, status: 400},
		{name: "message is a string", body: ev(`{"sender":{"id":"3000000000000098"},"message":"hi"}`), status: 400},
		{name: "sender is a number", body: ev(`{"sender":3000000000000097,"message":{"mid":"m","text":"t"}}`), status: 400},
		// Shapes that are valid JSON but carry nothing to act on: 200, nothing called.
		{name: "no object", body: `{"entry":[{"id":"` + testPage + `","messaging":[` + msg("3000000000000096", "m_h_1", "x") + `]}]}`, status: 200},
		{name: "object user", body: strings.Replace(valid, `"object":"page"`, `"object":"user"`, 1), status: 200},
		{name: "no entry", body: `{"object":"page"}`, status: 200},
		{name: "entry null", body: `{"object":"page","entry":null}`, status: 200},
		{name: "entry empty", body: `{"object":"page","entry":[]}`, status: 200},
		{name: "entry without events", body: `{"object":"page","entry":[{"id":"` + testPage + `","time":1700000000000}]}`, status: 200},
		{name: "entry with empty messaging", body: `{"object":"page","entry":[{"id":"` + testPage + `","messaging":[],"standby":null}]}`, status: 200},
		{name: "entry without id", body: `{"object":"page","entry":[{"messaging":[` + msg("3000000000000095", "m_h_2", "x") + `]}]}`, status: 200},
		{name: "event without sender", body: ev(`{"recipient":{"id":"` + testPage + `"},"timestamp":1,"message":{"mid":"m_h_3","text":"x"}}`), status: 200},
		{name: "sender null", body: ev(`{"sender":null,"message":{"mid":"m_h_4","text":"x"}}`), status: 200},
		{name: "sender without id", body: ev(`{"sender":{},"message":{"mid":"m_h_5","text":"x"}}`), status: 200},
		{name: "sender id empty", body: ev(`{"sender":{"id":""},"message":{"mid":"m_h_6","text":"x"}}`), status: 200},
		{name: "sender id an object", body: ev(`{"sender":{"id":{"id":"3000000000000094"}},"message":{"mid":"m_h_7","text":"x"}}`), status: 200},
		{name: "sender id a boolean", body: ev(`{"sender":{"id":true},"message":{"mid":"m_h_8","text":"x"}}`), status: 200},
		{name: "sender id a fraction", body: ev(`{"sender":{"id":3000000000000093.5},"message":{"mid":"m_h_9","text":"x"}}`), status: 200},
		{name: "sender id negative", body: ev(`{"sender":{"id":-3000000000000093},"message":{"mid":"m_h_10","text":"x"}}`), status: 200},
		{name: "sender id in exponent form", body: ev(`{"sender":{"id":3e15},"message":{"mid":"m_h_11","text":"x"}}`), status: 200},
		{name: "echo without recipient", body: ev(`{"sender":{"id":"` + testPage + `"},"message":{"mid":"m_h_12","is_echo":true,"text":"x"}}`), status: 200},
		{name: "unknown event kind", body: ev(`{"sender":{"id":"3000000000000092"},"recipient":{"id":"` + testPage + `"},"timestamp":1,"payment_pre_checkout":{"amount":1}}`), status: 200},
		{name: "event with no kind at all", body: ev(`{"sender":{"id":"3000000000000091"},"recipient":{"id":"` + testPage + `"},"timestamp":1}`), status: 200},
		{name: "event that is null", body: ev(`null`), status: 200},
		{name: "read receipt", body: ev(`{"sender":{"id":"3000000000000090"},"read":{"watermark":1}}`), status: 200},
		{name: "page id as a number for another page", body: strings.Replace(valid, `"id":"`+testPage+`","time"`, `"id":1000000000000002,"time"`, 1), status: 200},
		{name: "page id as a float that rounds to ours", body: strings.Replace(valid, `"id":"`+testPage+`","time"`, `"id":1000000000000001.0,"time"`, 1), status: 200},
		{name: "page id with a space", body: strings.Replace(valid, `"id":"`+testPage+`"`, `"id":" `+testPage+`"`, 1), status: 200},
		{name: "huge unknown key", body: ev(`{"sender":{"id":"3000000000000089"},"` + strings.Repeat("k", 500_000) + `":1}`), status: 200},
		// Valid events in unusual forms: handled, one answer each, to the right PSID.
		{name: "ids as numbers", body: `{"object":"page","entry":[{"id":` + testPage + `,"time":1700000000000,"messaging":[{"sender":{"id":30000000000000881234},"recipient":{"id":` + testPage + `},"timestamp":1700000000000,"message":{"mid":"m_h_num","text":"x"}}]}]}`, status: 200, reply: "30000000000000881234"},
		{name: "ids as strings, timestamp as a string", body: ev(`{"sender":{"id":"3000000000000087"},"recipient":{"id":"` + testPage + `"},"timestamp":"1700000000000","message":{"mid":"m_h_str","text":"x"}}`), status: 200, reply: "3000000000000087"},
		{name: "huge text", body: ev(msg("3000000000000086", "m_h_huge", huge)), status: 200, reply: "3000000000000086"},
		{name: "huge mid", body: ev(msg("3000000000000085", "m_"+strings.Repeat("9", 200_000), "x")), status: 200, reply: "3000000000000085"},
		{name: "non-UTF-8 text", body: ev("{\"sender\":{\"id\":\"3000000000000084\"},\"message\":{\"mid\":\"m_h_utf\",\"text\":\"bad \xff\xfe\xc3 bytes\"}}"), status: 200, reply: "3000000000000084"},
		{name: "non-UTF-8 key and mid", body: ev("{\"sender\":{\"id\":\"3000000000000083\"},\"\xff\":1,\"message\":{\"mid\":\"m_h_\xc0\xaf\",\"text\":\"x\"}}"), status: 200, reply: "3000000000000083"},
		{name: "escaped control characters and surrogates", body: ev(`{"sender":{"id":"3000000000000082"},"message":{"mid":"m_h_esc","text":"\u0000\u001f\ud800\udfff\ud800"}}`), status: 200, reply: "3000000000000082"},
		{name: "keys in another case", body: `{"OBJECT":"page","Entry":[{"ID":"` + testPage + `","Messaging":[{"Sender":{"Id":"3000000000000081"},"MESSAGE":{"mid":"m_h_case","text":"x"}}]}]}`, status: 200, reply: "3000000000000081"},
	}
}

func send(t testing.TB, h *webhooktest.Harness, tc hostileCase) int {
	t.Helper()
	headers := tc.headers
	if headers == nil {
		headers = map[string]string{callback.SignatureHeader: sign([]byte(tc.body), testSecret)}
	}
	var body io.Reader = strings.NewReader(tc.body)
	if tc.chunked {
		body = io.MultiReader(strings.NewReader(tc.body)) // hides the length from net/http
	}
	req, _ := http.NewRequest("POST", h.HTTP.URL+"/webhook", body)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s: %v (did the handler crash?)", tc.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if tc.chunked && req.ContentLength > 0 {
		t.Fatalf("%s: the request had a Content-Length", tc.name)
	}
	return resp.StatusCode
}

// TestHostileRequests sends every hostile request of the table: each gets its status code,
// rejected and empty ones cause no Graph call and reach no engine, accepted ones one answer to
// exactly the PSID they came from, and the server keeps serving.
func TestHostileRequests(t *testing.T) {
	h := newHarness(t)
	var want []string
	for _, tc := range hostileCases() {
		if got := send(t, h, tc); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.status)
		}
		if tc.reply != "" {
			want = append(want, tc.reply)
		}
	}
	h.Drain()
	calls := h.Graph.All()
	got := sortedPSIDs(calls)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Graph calls went to %v, want exactly one each to %v", got, want)
	}
	for _, c := range calls {
		if c.Endpoint != "messages" || c.Token != testPageToken {
			t.Errorf("unexpected Graph call %s %s", c.Method, c.Endpoint)
		}
	}
	for _, ev := range h.Engine.Events() {
		if ev.Kind != handover.KindOther && !slices.Contains(want, ev.PSID) {
			t.Errorf("the engine was given an event from %q", ev.PSID)
		}
	}
	// Text is decoded as encoding/json would: invalid UTF-8 becomes U+FFFD, nothing is lost.
	for _, ev := range h.Engine.Events() {
		switch ev.MID {
		case "m_h_huge":
			if n := len([]rune(ev.Text)); n != 300_000 {
				t.Errorf("huge text arrived with %d runes", n)
			}
		case "m_h_utf":
			if ev.Text != "bad \ufffd\ufffd\ufffd bytes" {
				t.Errorf("non-UTF-8 text arrived as %q", ev.Text)
			}
		}
	}
	if c := h.Counter("messenger_webhook_requests_total", "method", "POST", "code", "403"); c < 14 {
		t.Errorf("403s counted: %v", c)
	}
	// Still serving, and a good request is handled.
	if code := h.Post(pageBody(textEvent("3000000000000999", "m_h_after", 1700000000000))); code != 200 {
		t.Fatalf("a valid request after the hostile ones: %d", code)
	}
	eventually(t, "the answer to the valid request", func() bool { return h.Graph.Count("messages") == len(want)+1 })
	for _, secret := range []string{testSecret, testPageToken, testVerifyToken} {
		if strings.Contains(h.Logs.String(), secret) {
			t.Errorf("a secret reached the logs")
		}
	}
}

// TestHostileRequestsRealEngine runs the table through the real handover engine: what must not
// be answered causes no Graph call at all (no thread_owner lookup, no profile, no send).
func TestHostileRequestsRealEngine(t *testing.T) {
	spec := v1alpha1.DefaultHandoverPolicySpec()
	pol, err := handover.Compile(testPage, testApp, "Shop", &spec)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *runner.Options, c *config.Page) {
		o.Engine = runner.HandoverEngine{}
		c.Handover.Policy = pol
	})
	answered := map[string]bool{}
	for _, tc := range hostileCases() {
		if got := send(t, h, tc); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.status)
		}
		if tc.reply != "" {
			answered[tc.reply] = true
		}
	}
	h.Drain()
	sends := map[string]int{}
	for _, c := range h.Graph.All() {
		if !answered[c.PSID] {
			t.Errorf("Graph call %s for %q, which must not be answered", c.Endpoint, c.PSID)
		}
		if c.Endpoint == "messages" {
			sends[c.PSID]++
		}
	}
	for psid := range answered {
		if sends[psid] != 1 {
			t.Errorf("%s got %d messages, want 1", psid, sends[psid])
		}
	}
}

// TestHostileVerification: the GET handshake with hostile queries answers 400 or 403 and never
// echoes a challenge without the token.
func TestHostileVerification(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"challenge over 1 KiB", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=" + strings.Repeat("1", 1025), 400},
		{"token with a NUL", "hub.mode=subscribe&hub.verify_token=" + url.QueryEscape(testVerifyToken+"\x00") + "&hub.challenge=1", 403},
		{"token longer", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "x&hub.challenge=1", 403},
		{"token in another case", "hub.mode=subscribe&hub.verify_token=" + strings.ToUpper(testVerifyToken) + "&hub.challenge=1", 403},
		{"huge token", "hub.mode=subscribe&hub.verify_token=" + strings.Repeat("v", 32<<10) + "&hub.challenge=1", 403},
		{"token twice, wrong first", "hub.mode=subscribe&hub.verify_token=x&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 403},
		{"mode in another case", "hub.mode=SUBSCRIBE&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 403},
		{"non-UTF-8 challenge", "hub.mode=subscribe&hub.verify_token=" + url.QueryEscape("\xff") + "&hub.challenge=%ff", 403},
	} {
		resp, err := http.Get(h.HTTP.URL + "/webhook?" + tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, resp.StatusCode, tc.status, b)
		}
	}
	if n := len(h.Graph.All()); n != 0 {
		t.Errorf("%d Graph calls", n)
	}
}
