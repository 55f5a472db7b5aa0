package platform

import (
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// No silent drops: every reason of the fixed set shows at 0 from the start, and an event
// ignored after an owner check (zero-config Page: the user's message reaches every app on
// messaging while the inbox owns the thread) is counted and logged at debug with its reason.
func TestIgnoredEventsAreCountedAndLogged(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{Page: func(p *simulator.PageConfig) { p.DefaultApp = "" }})
	for _, reason := range append(append([]string{}, handover.IgnoredReasons...), callback.IgnoreReasons...) {
		if !strings.Contains(s.Metrics(), `messenger_webhook_ignored_events_total{reason="`+reason+`"} 0`) {
			t.Errorf("reason %q not registered up front", reason)
		}
	}
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	if o := s.Owner(); o != simulator.InboxName {
		t.Fatalf("owner after the pass: %q", o)
	}
	must(t, c.Say("I need help with my order"))
	s.Settle()
	if n := s.Counter("messenger_webhook_ignored_events_total", "reason", handover.IgnoredNotOwner); n != 1 {
		t.Errorf("not_owner after the owner check counted %v times; logs:\n%s", n, s.Logs)
	}
	if !strings.Contains(s.Logs.String(), `"msg":"event ignored","kind":"message","page":"`+wt.PageID+`","psid":"`+wt.SimPSID+`","reason":"not_owner"`) {
		t.Errorf("no debug log of the ignored message:\n%s", s.Logs)
	}
	if got := count(s.BotMessages(), welcome); got != 1 {
		t.Errorf("bot answered on the inbox's thread: %q", s.BotMessages())
	}
}
