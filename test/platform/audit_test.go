package platform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// auditRecord is one line of the handover audit.
type auditRecord struct {
	Msg, Audit, Page, User, From, To, Trigger, Reason, Outcome string
}

// auditOf reads the audit lines of a JSON log.
func auditOf(t *testing.T, log string) []auditRecord {
	t.Helper()
	var out []auditRecord
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var r auditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Msg == "handover" {
			out = append(out, r)
		}
	}
	return out
}

// The handover audit of a whole conversation: each handover of the bot is one decision line and
// one owner line, each change another app makes one owner line; the user is the HMAC of the
// PSID with the audit key, and no line holds the PSID or any message's text. The handover
// metrics count the same conversation.
func TestHandoverAuditOfAConversation(t *testing.T) {
	key := []byte("audit-key-of-the-app")
	spec := &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: &metav1.Duration{Duration: 2 * time.Hour}}
	s := wt.NewSimHarness(t, wt.SimOptions{Policy: spec, Runner: func(ro *runner.Options, _ *config.Page) { ro.AuditKey = key }})
	c, inbox := s.Customer(), s.Sim.Inbox(wt.PageID)
	texts := []string{"Hello there", "Hi, I am Anna from the shop", "My parcel has not arrived"}
	steps := []func() error{
		func() error { return c.Say(texts[0]) },
		func() error { return c.Tap("Pass to Inbox") },                 // 1: the bot passes
		func() error { s.Clock.Advance(90 * time.Second); return nil }, // the agent takes 90 s to answer
		func() error { return inbox.Reply(wt.SimPSID, texts[1]) },
		func() error { return c.Say(texts[2]) },
		func() error { s.Clock.Advance(10 * time.Minute); return nil },
		func() error { return inbox.Done(wt.SimPSID) },              // 2: the inbox passes back
		func() error { return c.Tap("Pass to Inbox") },              // 3
		func() error { return c.Tap("Take From Inbox") },            // 4: the bot takes back
		func() error { return c.Tap("Pass to Inbox") },              // 5
		func() error { s.Clock.Advance(3 * time.Hour); return nil }, // 6: the idle timeout takes back
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		s.Settle()
	}
	wt.Eventually(t, "the idle take-back", func() bool { return s.Owner() == wt.SimAppName })
	s.Settle()

	m := hmac.New(sha256.New, key)
	m.Write([]byte(wt.SimPSID))
	user := hex.EncodeToString(m.Sum(nil)[:16])
	type line struct{ audit, from, to, trigger, reason string }
	want := []line{
		{"decision", "bot", "inbox", "quick_reply", "handoff"},
		{"owner", "bot", "inbox", "quick_reply", "handoff"},
		{"owner", "inbox", "bot", "pass_thread_control", "done"},
		{"decision", "bot", "inbox", "quick_reply", "handoff"},
		{"owner", "bot", "inbox", "quick_reply", "handoff"},
		{"decision", "inbox", "bot", "quick_reply", "take_back"},
		{"owner", "inbox", "bot", "quick_reply", "take_back"},
		{"decision", "bot", "inbox", "quick_reply", "handoff"},
		{"owner", "bot", "inbox", "quick_reply", "handoff"},
		{"decision", "inbox", "bot", "idle_timer", "idle_timeout"},
		{"owner", "inbox", "bot", "idle_timer", "idle_timeout"},
	}
	log := s.Logs.String()
	got := auditOf(t, log)
	if len(got) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%s", len(got), len(want), grepAudit(log))
	}
	for i, r := range got {
		w := want[i]
		if (line{r.Audit, r.From, r.To, r.Trigger, r.Reason}) != w || r.Outcome != "ok" || r.Page != wt.PageID || r.User != user {
			t.Errorf("audit line %d: %+v, want %+v, outcome ok, page %s, user %s", i, r, w, wt.PageID, user)
		}
	}
	for _, l := range strings.Split(grepAudit(log), "\n") {
		if strings.Contains(l, wt.SimPSID) {
			t.Errorf("an audit line holds the PSID: %s", l)
		}
	}
	for _, text := range texts {
		if strings.Contains(log, text) {
			t.Errorf("the log holds the message %q", text)
		}
	}

	// The metrics of the same conversation.
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"direction", "to_inbox", "reason", "handoff"}, 3},
		{[]string{"direction", "to_bot", "reason", "done"}, 1},
		{[]string{"direction", "to_bot", "reason", "take_back"}, 1},
		{[]string{"direction", "to_bot", "reason", "idle_timeout"}, 1},
		{[]string{"page", wt.PageID}, 6},
	} {
		if n := s.Counter("messenger_webhook_handovers_total", c.labels...); n != c.want {
			t.Errorf("handovers %v: %v, want %v", c.labels, n, c.want)
		}
	}
	if n := s.Counter("messenger_webhook_idle_takebacks_total", "page", wt.PageID); n != 1 {
		t.Errorf("idle take-backs: %v", n)
	}
	if n := s.Counter("messenger_webhook_threads", "page", wt.PageID, "owner", "bot"); n != 1 {
		t.Errorf("threads owned by the bot: %v\n%s", n, s.Metrics())
	}
	if n := s.Counter("messenger_webhook_threads", "owner", "inbox"); n != 0 {
		t.Errorf("threads owned by the inbox: %v", n)
	}
	metrics := s.Metrics()
	for _, want := range []string{
		// One first reply, after 90 s: in the 120 s bucket, not in the 60 s one.
		`messenger_webhook_inbox_first_reply_seconds_bucket{page="` + wt.PageID + `",le="60"} 0`,
		`messenger_webhook_inbox_first_reply_seconds_bucket{page="` + wt.PageID + `",le="120"} 1`,
		`messenger_webhook_inbox_first_reply_seconds_count{page="` + wt.PageID + `"} 1`,
		// Three stays with an agent: Done after ~11.5 min, the take-back at once, the idle take-back after 3 h.
		`messenger_webhook_agent_conversation_seconds_count{page="` + wt.PageID + `"} 3`,
		`messenger_webhook_agent_conversation_seconds_bucket{page="` + wt.PageID + `",le="60"} 1`,
		`messenger_webhook_agent_conversation_seconds_bucket{page="` + wt.PageID + `",le="1800"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, "seconds"))
		}
	}
}

func grepAudit(log string) string { return grepLines(log, `"msg":"handover"`) }

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
