package platform

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// passed starts a harness and has the customer pass the conversation to the inbox.
func passed(t *testing.T, o wt.SimOptions) *wt.SimHarness {
	t.Helper()
	s := wt.NewSimHarness(t, o)
	must(t, s.Customer().Say("Hello"))
	s.Settle()
	must(t, s.Customer().Tap("Pass to Inbox"))
	s.Settle()
	if o := s.Owner(); o != simulator.InboxName {
		t.Fatalf("owner after the pass: %q", o)
	}
	return s
}

// advance moves the one clock of the simulator and the webhook, and lets what it caused settle.
func advance(s *wt.SimHarness, d time.Duration) {
	s.Clock.Advance(d)
	s.Settle()
}

// noTags: the bot never tags a message (HUMAN_AGENT is for people; the other tags are dead).
func noTags(t *testing.T, s *wt.SimHarness) {
	t.Helper()
	for _, m := range s.Sim.Messages(wt.PageID, wt.SimPSID) {
		if m.From == wt.SimAppName && m.Tag != "" {
			t.Errorf("the bot sent %q with the tag %s", m.Text, m.Tag)
		}
	}
}

// The 24 h window: an agent idle timeout over a day (allowed by its opt-in) takes the thread
// back without the take-back message, which the window suppresses and the metric counts; one
// inside the day sends it.
func TestIdleTimeoutAndTheWindow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		messages int // the bot's, after the welcome and the handoff message
	}{
		{"inside the window", 2 * time.Hour, 1},
		{"beyond the window", 30 * time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: &metav1.Duration{Duration: tc.timeout}, AgentIdleTimeoutBeyondWindow: tc.timeout > 24*time.Hour}
			s := passed(t, wt.SimOptions{Policy: spec})
			advance(s, tc.timeout-time.Minute)
			if o := s.Owner(); o == wt.SimAppName {
				t.Fatalf("taken back before the timeout")
			}
			advance(s, 2*time.Minute)
			wt.Eventually(t, "the take-back", func() bool { return s.Owner() == wt.SimAppName })
			s.Settle()
			if got := len(s.BotMessages()) - 2; got != tc.messages {
				t.Errorf("%d messages after the take-back: %q", got, s.BotMessages())
			}
			if n := s.Counter("messenger_webhook_suppressed_messages_total", "reason", handover.SuppressedWindowClosed); n != float64(1-tc.messages) {
				t.Errorf("suppressed %v", n)
			}
			noTags(t, s)
		})
	}
}

// Ownership expires after 24 h of inactivity without any webhook: the customer who writes on
// the next day is the bot's again (social routing to the default app), and the bot answers.
func TestOwnershipExpiry(t *testing.T) {
	s := passed(t, wt.SimOptions{})
	advance(s, 23*time.Hour)
	must(t, s.Customer().Say("Still there?"))
	s.Settle()
	if got := count(s.BotMessages(), welcome); got != 1 {
		t.Fatalf("the bot answered on the inbox's thread: %q", s.BotMessages())
	}
	advance(s, 25*time.Hour)
	must(t, s.Customer().Say("Hello again"))
	s.Settle()
	if o := s.Owner(); o != wt.SimAppName {
		t.Fatalf("owner %q after the expiry", o)
	}
	if got := count(s.BotMessages(), welcome); got != 2 {
		t.Errorf("the bot did not answer after the expiry: %q", s.BotMessages())
	}
}

// HUMAN_AGENT: an agent may answer for 7 days (the inbox tags late replies), the bot only for
// 24 h. On day 3 the agent replies and marks the conversation Done: the Done message is
// suppressed by the window, and the bot never tags anything.
func TestHumanAgentWeek(t *testing.T) {
	s := passed(t, wt.SimOptions{})
	in := s.Sim.Inbox(wt.PageID)
	advance(s, 72*time.Hour)
	must(t, in.Reply(wt.SimPSID, "Sorry for the wait, your parcel left today"))
	s.Settle()
	must(t, in.Done(wt.SimPSID))
	s.Settle()
	if o := s.Owner(); o != wt.SimAppName {
		t.Fatalf("owner after Done: %q", o)
	}
	if got := len(s.BotMessages()); got != 2 {
		t.Errorf("the bot wrote outside the window: %q", s.BotMessages())
	}
	if n := s.Counter("messenger_webhook_suppressed_messages_total", "reason", handover.SuppressedWindowClosed); n != 1 {
		t.Errorf("suppressed %v", n)
	}
	var tagged bool
	for _, m := range s.Sim.Messages(wt.PageID, wt.SimPSID) {
		tagged = tagged || m.From == simulator.InboxName && m.Tag == "HUMAN_AGENT"
	}
	if !tagged {
		t.Error("the agent's late reply carried no HUMAN_AGENT tag")
	}
	noTags(t, s)
	// Past 7 days even the agent cannot answer.
	advance(s, 5*24*time.Hour)
	if err := in.Reply(wt.SimPSID, "Anything else?"); err == nil {
		t.Error("an agent reply after 8 days went out")
	}
}

// The tutorial's conversation with an agent: the bot stays quiet while the agent talks, greets
// the customer again on Done; the idle timeout counts from the agent's last message, and the
// customer writing does not keep the agent's timer alive.
func TestAgentConversation(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: &metav1.Duration{Duration: 30 * time.Minute}}
	s := passed(t, wt.SimOptions{Policy: spec})
	in := s.Sim.Inbox(wt.PageID)
	c := s.Customer()
	must(t, c.Say("Is anyone there?")) // standby: left alone
	s.Settle()
	advance(s, 10*time.Minute)
	must(t, in.Reply(wt.SimPSID, "Hi, I'm Anna"))
	s.Settle()
	advance(s, 10*time.Minute)
	must(t, c.Say("ok, waiting"))
	s.Settle()
	advance(s, 19*time.Minute)
	if o, n := s.Owner(), len(s.BotMessages()); o != simulator.InboxName || n != 2 {
		t.Fatalf("before the timeout: owner %q, bot said %q", o, s.BotMessages())
	}
	advance(s, 2*time.Minute) // 31 minutes after the agent's message
	wt.Eventually(t, "the take-back", func() bool { return s.Owner() == wt.SimAppName })
	s.Settle()
	if got := count(s.BotMessages(), takeBack); got != 1 {
		t.Errorf("take-back message sent %d times: %q", got, s.BotMessages())
	}
	// Passed again; the agent answers and marks it Done: the Done message.
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	must(t, in.Reply(wt.SimPSID, "Back again?"))
	s.Settle()
	must(t, in.Done(wt.SimPSID))
	s.Settle()
	if got := count(s.BotMessages(), "You passed control back"); got != 1 || s.Owner() != wt.SimAppName {
		t.Errorf("owner %q, bot said %q", s.Owner(), s.BotMessages())
	}
	must(t, c.Say("thanks"))
	s.Settle()
	if got := count(s.BotMessages(), welcome); got != 2 {
		t.Errorf("after Done: %q", s.BotMessages())
	}
	noTags(t, s)
}
