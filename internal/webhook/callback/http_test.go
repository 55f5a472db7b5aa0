package callback_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

func TestVerify(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name   string
		query  string
		status int
		body   string
	}{
		{"ok", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1158201444", 200, "1158201444"},
		{"challenge verbatim", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=" + url.QueryEscape("<b>x</b>"), 200, "<b>x</b>"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", 403, ""},
		{"token prefix", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken[:5] + "&hub.challenge=1", 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 403, ""},
		{"no token", "hub.mode=subscribe&hub.challenge=1", 400, ""},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken, 400, ""},
		{"no mode", "hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 400, ""},
		{"nothing", "", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(h.HTTP.URL + "/webhook?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if tc.status == 200 {
				if string(b) != tc.body {
					t.Errorf("body %q, want %q", b, tc.body)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("content type %q", ct)
				}
			}
		})
	}
	if strings.Contains(h.Logs.String(), testVerifyToken) {
		t.Error("verify token in logs")
	}
}

func TestNotReadyAndOtherPaths(t *testing.T) {
	s := webhook.NewServer(runner.Options{Engine: &webhooktest.Engine{}})
	defer func() { _ = s.Shutdown(context.Background()) }()
	ts := httptestServer(t, s.Handler())
	if s.Ready() {
		t.Fatal("ready without a config")
	}
	for _, m := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(m, ts+"/webhook?hub.mode=subscribe", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("%s before Apply: %d, want 503", m, resp.StatusCode)
		}
	}
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Path = "/hooks/page-a"
	s.Apply(cfg)
	if !s.Ready() {
		t.Fatal("not ready after Apply")
	}
	for path, want := range map[string]int{"/webhook": 404, "/": 404, "/hooks/page-a": 403, "/hooks/page-a/x": 404} {
		resp, err := http.Post(ts+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("PUT", ts+"/hooks/page-a", nil)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
}

func TestPostTable(t *testing.T) {
	h := newHarness(t)
	valid := pageBody(textEvent("2000000000000001", "m_valid", 1700000000000))
	sha1sig := func(body string) string {
		m := hmac.New(sha1.New, []byte(testSecret))
		m.Write([]byte(body))
		return "sha1=" + hex.EncodeToString(m.Sum(nil))
	}
	big := `{"object":"page","entry":[],"pad":"` + strings.Repeat("x", callback.MaxBody) + `"}`
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		status  int
		ignored string // reason counted, if any
	}{
		{"no signature", valid, map[string]string{}, 403, ""},
		{"sha1 only", valid, map[string]string{"X-Hub-Signature": sha1sig(valid)}, 403, ""},
		{"short signature", valid, map[string]string{callback.SignatureHeader: "sha256=abcd"}, 403, ""},
		{"no prefix", valid, map[string]string{callback.SignatureHeader: strings.TrimPrefix(sign([]byte(valid), testSecret), "sha256=")}, 403, ""},
		{"non-hex", valid, map[string]string{callback.SignatureHeader: "sha256=" + strings.Repeat("zz", 32)}, 403, ""},
		{"wrong secret", valid, map[string]string{callback.SignatureHeader: sign([]byte(valid), "other")}, 403, ""},
		{"signature over another body", valid, map[string]string{callback.SignatureHeader: sign([]byte(valid+" "), testSecret)}, 403, ""},
		{"over 1 MiB", big, map[string]string{callback.SignatureHeader: sign([]byte(big), testSecret)}, 413, ""},
		{"malformed JSON", `{"object":"page","entry":[`, nil, 400, ""},
		{"not an object", `[1,2]`, nil, 400, ""},
		{"entry not an array", `{"object":"page","entry":"x"}`, nil, 400, ""},
		{"object instagram", strings.Replace(valid, `"object":"page"`, `"object":"instagram"`, 1), nil, 200, "object_not_page"},
		{"other page", strings.Replace(valid, `"id":"`+testPage+`","time"`, `"id":"999","time"`, 1), nil, 200, "other_page"},
		{"changes only", `{"object":"page","entry":[{"id":"` + testPage + `","time":1,"changes":[{"field":"feed","value":{}}]}]}`, nil, 200, "changes"},
		{"app_roles without sender", pageBody(`{"recipient":{"id":"` + testPage + `"},"timestamp":1458692752478,"app_roles":{"123456789":["primary_receiver"]}}`), nil, 200, "no_sender"},
		{"unknown kind", pageBody(`{"sender":{"id":"5"},"recipient":{"id":"` + testPage + `"},"timestamp":1,"brand_new_thing":{}}`), nil, 200, "unknown_kind"},
		{"entry without anything", `{"object":"page","entry":[{"id":"` + testPage + `"}]}`, nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := tc.headers
			if headers == nil {
				headers = map[string]string{callback.SignatureHeader: sign([]byte(tc.body), testSecret)}
			}
			before := 0.0
			if tc.ignored != "" {
				before = h.Counter("messenger_webhook_ignored_events_total", "reason", tc.ignored)
			}
			if got := h.PostWith(tc.body, headers); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			if tc.ignored != "" {
				if after := h.Counter("messenger_webhook_ignored_events_total", "reason", tc.ignored); after != before+1 {
					t.Errorf("ignored{%s} went %v -> %v", tc.ignored, before, after)
				}
			}
		})
	}
	h.Drain()
	if n := len(h.Graph.All()); n != 0 {
		t.Errorf("%d Graph calls for requests that must not be answered: %+v", n, h.Graph.All())
	}
	if n := len(h.Engine.Events()); n != 0 {
		t.Errorf("the engine saw %d events", n)
	}
	// The same valid body, signed, is handled.
	if got := h.Post(valid); got != 200 {
		t.Fatalf("valid: %d", got)
	}
	eventually(t, "the reply", func() bool { return h.Graph.Count("messages") == 1 })
}

func TestParseEvents(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) {})
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		return handover.Decision{Thread: th, Ignored: "test"}
	}
	// Ids as numbers (beyond 2^53) and strings, timestamps as numbers and strings, messaging and
	// standby, several entries, every kind.
	body := `{"object":"page","entry":[
	 {"id":1000000000000001,"time":1700000000000,"messaging":[
	  {"sender":{"id":9007199254740993123},"recipient":{"id":1000000000000001},"timestamp":1700000000001,"message":{"mid":"m_1","text":"hi","quick_reply":{"payload":"pass_to_inbox"}}},
	  {"sender":{"id":"` + testPage + `"},"recipient":{"id":"2001"},"timestamp":"1700000000002","message":{"mid":"m_2","is_echo":true,"app_id":263902037430900,"metadata":"agent","text":"from a person"}},
	  {"sender":{"id":"2002"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000003,"postback":{"mid":"m_3","title":"Get Started","payload":"GET_STARTED"}},
	  {"sender":{"id":"2003"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000004,"pass_thread_control":{"previous_owner_app_id":null,"new_owner_app_id":1517776481860111,"metadata":"done"}},
	  {"sender":{"id":"2004"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000005,"take_thread_control":{"previous_owner_app_id":"1517776481860111","new_owner_app_id":"263902037430900","metadata":""}},
	  {"sender":{"id":"2005"},"recipient":{"id":"2005"},"timestamp":1700000000006,"request_thread_control":{"requested_owner_app_id":263902037430900,"metadata":"please"}},
	  {"sender":{"id":"2006"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000007,"read":{"watermark":1700000000000}}
	 ]},
	 {"id":"` + testPage + `","time":1700000000100,"standby":[
	  {"sender":{"id":"2007"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000008,"message":{"mid":"m_4","text":"on standby","attachments":[{"type":"image","payload":{"url":"https://x"}}]}},
	  {"sender":{"id":"2008"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000,"postback":{"title":"Talk to us"}}
	 ]}]}`
	if got := h.Post(body); got != 200 {
		t.Fatalf("status %d", got)
	}
	h.Drain()
	evs := map[string]handover.Event{}
	for _, ev := range h.Engine.Events() {
		evs[ev.PSID] = ev
	}
	ms := func(n int64) time.Time { return time.UnixMilli(n) }
	want := map[string]handover.Event{
		"9007199254740993123": {Kind: handover.KindMessage, Channel: handover.Messaging, PageID: testPage, PSID: "9007199254740993123", Timestamp: ms(1700000000001), MID: "m_1", Text: "hi", HasQuickReply: true, QuickReplyPayload: "pass_to_inbox"},
		"2001":                {Kind: handover.KindEcho, PageID: testPage, PSID: "2001", Timestamp: ms(1700000000002), MID: "m_2", Text: "from a person", EchoAppID: "263902037430900", Metadata: "agent"},
		"2002":                {Kind: handover.KindPostback, PageID: testPage, PSID: "2002", Timestamp: ms(1700000000003), MID: "m_3", PostbackTitle: "Get Started", PostbackPayload: "GET_STARTED"},
		"2003":                {Kind: handover.KindPassThreadControl, PageID: testPage, PSID: "2003", Timestamp: ms(1700000000004), NewOwnerAppID: "1517776481860111", Metadata: "done"},
		"2004":                {Kind: handover.KindTakeThreadControl, PageID: testPage, PSID: "2004", Timestamp: ms(1700000000005), NewOwnerAppID: "263902037430900", PreviousOwnerAppID: "1517776481860111"},
		"2005":                {Kind: handover.KindRequestThreadControl, PageID: testPage, PSID: "2005", Timestamp: ms(1700000000006), RequestedOwnerAppID: "263902037430900", Metadata: "please"},
		"2006":                {Kind: handover.KindOther, PageID: testPage, PSID: "2006", Timestamp: ms(1700000000007)},
		"2007":                {Kind: handover.KindMessage, Channel: handover.Standby, PageID: testPage, PSID: "2007", Timestamp: ms(1700000000008), MID: "m_4", Text: "on standby", HasAttachments: true},
		"2008":                {Kind: handover.KindPostback, Channel: handover.Standby, PageID: testPage, PSID: "2008", Timestamp: ms(1700000000000), PostbackTitle: "Talk to us"},
	}
	if len(evs) != len(want) {
		t.Errorf("%d events, want %d", len(evs), len(want))
	}
	for psid, w := range want {
		got, ok := evs[psid]
		if !ok {
			t.Errorf("no event for %s", psid)
			continue
		}
		if !got.Timestamp.Equal(w.Timestamp) {
			t.Errorf("%s: timestamp %v, want %v", psid, got.Timestamp, w.Timestamp)
		}
		got.Timestamp, w.Timestamp = time.Time{}, time.Time{}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", psid, got, w)
		}
	}
	if got := h.Counter("messenger_webhook_events_total", "kind", "message", "channel", "standby"); got != 1 {
		t.Errorf("events{message,standby} = %v", got)
	}
	if len(h.Graph.All()) != 0 {
		t.Errorf("Graph calls without actions: %+v", h.Graph.All())
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
