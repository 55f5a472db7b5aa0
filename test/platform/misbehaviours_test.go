// Package platform runs the webhook (callback, runner and the real engine) in-process against
// the Messenger Platform simulator, with the webhook following the simulator's clock: the
// platform's behaviours the reference is unsure about are switched on and off, and time moves
// instead of being waited for.
package platform

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

const (
	welcome  = "Welcome"
	takeBack = "The bot is taking control back"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// count is how many of msgs start with prefix.
func count(msgs []string, prefix string) int {
	n := 0
	for _, m := range msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// Misbehaviour 1: an echo that is not ours and not a person's (an echo without app_id, sent when
// a person taps "Send Message" on a Page post; the inbox's instant reply) paused the bot for a
// day although thread_owner says the bot owns the thread. Payloads as Meta writes them: app_id
// a number, timestamps in milliseconds.
func TestForeignEchoesDoNotSilenceTheBot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(s *wt.SimHarness)
		cause func(s *wt.SimHarness) error
	}{
		{"echo without app_id", nil, func(s *wt.SimHarness) error { return s.Customer().StartFromPost("Look at this post") }},
		{"instant reply of the inbox", func(s *wt.SimHarness) {
			must(t, s.Sim.Inbox(wt.PageID).SetInstantReply("Thanks for your message, we answer within a day"))
		}, nil},
		{"away message of the inbox", func(s *wt.SimHarness) {
			must(t, s.Sim.Inbox(wt.PageID).SetAwayMessage("We are away"))
			must(t, s.Sim.Inbox(wt.PageID).SetAway(true))
		}, nil},
		{"an automated reply of the inbox", nil, func(s *wt.SimHarness) error {
			return s.Sim.Inbox(wt.PageID).AutoReply(wt.SimPSID, "Our opening hours are 9 to 5")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := wt.NewSimHarness(t, wt.SimOptions{IDs: simulator.IDAsDocumented})
			if tc.setup != nil {
				tc.setup(s)
			}
			must(t, s.Customer().Say("Hello"))
			s.Settle()
			if tc.cause != nil {
				must(t, tc.cause(s))
				s.Settle()
			}
			must(t, s.Customer().Say("Is anybody there?"))
			s.Settle()
			if got := count(s.BotMessages(), welcome); got != 2 {
				t.Errorf("bot answered %d of 2 messages: %q", got, s.BotMessages())
			}
			if o := s.Owner(); o != wt.SimAppName {
				t.Errorf("owner %q", o)
			}
		})
	}
}

// Misbehaviour 2: with the quick_reply object stripped from standby messages, "Take From Inbox"
// did nothing and the customer stayed with the inbox.
func TestTakeBackWithoutQuickReplyObject(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{Behaviour: simulator.Behaviour{StandbyQuickReplyWithoutPayload: true}})
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	if o := s.Owner(); o != simulator.InboxName {
		t.Fatalf("owner after the pass: %q", o)
	}
	must(t, c.Tap("Take From Inbox"))
	s.Settle()
	if o := s.Owner(); o != wt.SimAppName {
		t.Fatalf("owner after the take-back tap: %q (bot said %q)", o, s.BotMessages())
	}
	if got := count(s.BotMessages(), takeBack); got != 1 {
		t.Errorf("take-back message sent %d times: %q", got, s.BotMessages())
	}
}

// Misbehaviour 3: with "Require App Secret" on, every Graph call of the webhook goes through
// (each carries appsecret_proof); when the app secret is not the app's any more (reset in the
// App Dashboard), the calls are refused with code 100 and the page says why.
func TestRequireAppSecretProof(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{App: func(a *simulator.AppConfig) { a.RequireAppSecretProof = true }})
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	must(t, c.Tap("Take From Inbox"))
	s.Settle()
	if o, msgs := s.Owner(), s.BotMessages(); o != wt.SimAppName || len(msgs) != 3 {
		t.Fatalf("owner %q, bot messages %q: want the welcome, handoff and take-back messages", o, msgs)
	}
	if auth, _ := s.Reporter.Get(); len(auth) == 0 || !strings.HasPrefix(auth[len(auth)-1], "true: ") {
		t.Errorf("GraphAuthorized reports %q", auth)
	}

	// The secret reset on Meta's side: the webhook still verifies deliveries with the old one
	// (the test signs them so), and its calls are refused.
	bad := wt.NewSimHarness(t, wt.SimOptions{
		App:    func(a *simulator.AppConfig) { a.RequireAppSecretProof = true },
		Runner: func(_ *runner.Options, c *config.Page) { c.AppSecret = []byte("the-old-app-secret") },
	})
	bad.PostWith(wt.PageBody(wt.TextEvent(wt.SimPSID, "m_proof_1", bad.Clock.Now().UnixMilli())),
		map[string]string{"X-Hub-Signature-256": wt.Sign([]byte(wt.PageBody(wt.TextEvent(wt.SimPSID, "m_proof_1", bad.Clock.Now().UnixMilli()))), "the-old-app-secret")})
	bad.Drain()
	wt.Eventually(t, "GraphAuthorized=false", func() bool { a, _ := bad.Reporter.Get(); return len(a) > 0 })
	auth, _ := bad.Reporter.Get()
	if !strings.HasPrefix(auth[0], "false: ") || !strings.Contains(auth[0], "appsecret_proof") {
		t.Errorf("GraphAuthorized report %q", auth[0])
	}
	if len(bad.BotMessages()) != 0 {
		t.Errorf("a message went out: %q", bad.BotMessages())
	}
}

// Misbehaviour 4: a take refused with a documented code left the owner unknown, and
// HandoverPermitted never turned false. 551: the person blocked the Page after passing to the
// inbox; the bot marks them unreachable and stays silent, the inbox keeps the thread.
func TestTakeRefusedUnavailable(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{})
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	must(t, c.SetUnavailable(true))
	must(t, c.Tap("Take From Inbox"))
	s.Settle()
	if o := s.Owner(); o != simulator.InboxName {
		t.Errorf("owner %q", o)
	}
	if n := s.Counter("messenger_webhook_ignored_events_total", "reason", "unreachable"); n != 1 {
		t.Errorf("ignored as unreachable: %v", n)
	}
	if _, p := s.Reporter.Get(); len(p) != 0 {
		t.Errorf("HandoverPermitted reported for one person's block: %q", p)
	}
	if msgs := s.BotMessages(); len(msgs) != 2 { // the welcome and the handoff message only
		t.Errorf("bot messages %q", msgs)
	}
	if th := s.Store.Thread(wt.PageID, wt.SimPSID); !th.Unreachable || th.Owner != handover.OwnerOther {
		t.Errorf("thread %+v: want the user unreachable, the inbox still owning it", th)
	}
}

// Misbehaviour 4, code 200: a take refused for want of a permission turns HandoverPermitted
// false with the reason; the thread stays with the inbox (the owner is not forgotten), nothing is
// sent, and the refusal is counted. The standby tap comes as Meta writes it: ids as numbers, the
// timestamp in seconds as a string.
func TestTakeRefusedPermission(t *testing.T) {
	pol, err := handover.Compile(wt.PageID, wt.AppID, "Shop", nil)
	must(t, err)
	h := wt.NewHarness(t, func(o *runner.Options, c *config.Page) {
		o.Engine = runner.HandoverEngine{}
		c.Handover = &handover.Page{PageID: wt.PageID, AppID: wt.AppID, BusinessName: "Shop", Policy: pol}
	})
	h.Graph.SetScript(func(c wt.GraphCall, n int, w http.ResponseWriter) bool {
		return c.Endpoint == "take_thread_control" && wt.Answer(w, 403,
			`{"error":{"message":"(#200) Requires pages_messaging permission to manage the object","type":"OAuthException","code":200,"fbtrace_id":"Ab1"}}`)
	})
	body := `{"object":"page","entry":[{"id":` + wt.PageID + `,"time":1767261600000,"standby":[{"sender":{"id":2500000000000001},` +
		`"recipient":{"id":` + wt.PageID + `},"timestamp":"1767261600","message":{"mid":"m_take_1","text":"Take From Inbox",` +
		`"quick_reply":{"payload":"take_from_inbox"}}}]}]}`
	if code := h.Post(body); code != http.StatusOK {
		t.Fatalf("POST: %d", code)
	}
	h.Drain()
	wt.Eventually(t, "HandoverPermitted=false", func() bool { _, p := h.Reporter.Get(); return len(p) == 1 })
	_, permits := h.Reporter.Get()
	if !strings.HasPrefix(permits[0], "false: ") || !strings.Contains(permits[0], "permission") {
		t.Errorf("HandoverPermitted report %q", permits[0])
	}
	if n := h.Graph.Count("messages"); n != 0 {
		t.Errorf("%d sends after a refused take", n)
	}
	if n := h.Counter("messenger_webhook_ignored_events_total", "reason", handover.IgnoredTakeRefused); n != 1 {
		t.Errorf("take_refused counted %v times", n)
	}
	th := h.Store.Thread(wt.PageID, "2500000000000001")
	if th.Owner != handover.OwnerOther {
		t.Errorf("thread after the refusal: %+v", th)
	}
}

// pass_thread_control without previous_owner_app_id (the pre-2021 shape): the stated rule (our
// state says the inbox had the thread) gives the customer the Done message when the agent
// marks the conversation Done.
func TestDoneWithoutPreviousOwner(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{Behaviour: simulator.Behaviour{PassWithoutPreviousOwner: true}, IDs: simulator.IDNumbers})
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	must(t, s.Sim.Inbox(wt.PageID).Reply(wt.SimPSID, "Hi, Anna here"))
	s.Settle()
	must(t, s.Sim.Inbox(wt.PageID).Done(wt.SimPSID))
	s.Settle()
	if got := count(s.BotMessages(), "You passed control back"); got != 1 || s.Owner() != wt.SimAppName {
		t.Errorf("owner %q, bot said %q", s.Owner(), s.BotMessages())
	}
}

// The agent's last message delivered after the Done (Meta retries late, out of order): its echo
// is older than the handover and does not pause the bot. The echo as Meta writes it: app_id a
// number, the timestamp in seconds.
func TestLateAgentEchoAfterDone(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{})
	c := s.Customer()
	must(t, c.Say("Hello"))
	s.Settle()
	must(t, c.Tap("Pass to Inbox"))
	s.Settle()
	written := s.Clock.Now().Unix()
	s.Clock.Advance(time.Minute)
	must(t, s.Sim.Inbox(wt.PageID).Done(wt.SimPSID))
	s.Settle()
	late := `{"object":"page","entry":[{"id":"` + wt.PageID + `","time":` + strconv.FormatInt(s.Clock.Now().UnixMilli(), 10) +
		`,"messaging":[{"sender":{"id":"` + wt.PageID + `"},"recipient":{"id":"` + wt.SimPSID + `"},"timestamp":` +
		strconv.FormatInt(written, 10) + `,"message":{"is_echo":true,"app_id":263902037430900,"mid":"m_late_1","text":"Bye!"}}]}]}`
	if code := s.Post(late); code != http.StatusOK {
		t.Fatalf("POST: %d", code)
	}
	s.Drain()
	if n := s.Counter("messenger_webhook_ignored_events_total", "reason", handover.IgnoredStale); n != 1 {
		t.Errorf("stale echo counted %v times", n)
	}
	must(t, c.Say("Thanks"))
	s.Settle()
	if got := count(s.BotMessages(), welcome); got != 2 {
		t.Errorf("the bot stayed silent after a late echo: %q", s.BotMessages())
	}
}
