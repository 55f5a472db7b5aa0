package platform

import (
	"fmt"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// switches are the platform's behaviours the handover flows run across: the Page's routing set-up
// (our app the default app, or zero-config, with the inbox's Done passing to our app or releasing
// the thread), the older "Handover Protocol APIs disabled" answer, "Require App Secret", the JSON
// form of ids, and what standby events carry (quick_reply object stripped, postback payloads).
type switches struct {
	zeroConfig, doneToBot, hopDisabled, proof bool
	ids                                       simulator.IDForm
	qrStripped, postbackPayload               bool
}

func (s switches) String() string {
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{s.zeroConfig, "zero-config"}, {!s.zeroConfig, "default-app"}, {s.doneToBot, "done-to-bot"}, {s.hopDisabled, "hop-disabled"},
		{s.proof, "proof"}, {s.qrStripped, "qr-stripped"}, {s.postbackPayload, "postback-payload"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(append(parts, [...]string{"ids-strings", "ids-numbers", "ids-as-documented"}[s.ids]), ",")
}

// outcome is what the flows do: the customer writes (welcome), taps Pass to Inbox (the inbox
// owns the thread), taps Take From Inbox (taken back, or refused: the bot silent,
// HandoverPermitted=False), passes again if taken back, the agent marks it Done (the Done
// message or not), and the customer writes once more (answered or not).
type outcome struct {
	takeBack  bool   // the take-back tap takes the thread back (else HandoverPermitted=False)
	doneMsg   bool   // the Done message goes out
	afterDone string // owner after Done: "bot" or "none" (released)
	answered  bool   // the customer's message after Done is answered
}

// The pairwise matrix: every pair of values of the switches above appears in some row, in 10
// rows (each runs in well under a second: this adds seconds, not minutes, to CI).
var matrix = []struct {
	sw   switches
	want outcome
}{
	{switches{ids: simulator.IDStrings}, outcome{true, true, "bot", true}},
	{switches{proof: true, ids: simulator.IDNumbers, qrStripped: true, postbackPayload: true}, outcome{true, true, "bot", true}},
	{switches{hopDisabled: true, ids: simulator.IDAsDocumented, qrStripped: true}, outcome{false, true, "bot", true}},
	{switches{hopDisabled: true, proof: true, ids: simulator.IDStrings, postbackPayload: true}, outcome{false, true, "bot", true}},
	{switches{zeroConfig: true, proof: true, ids: simulator.IDAsDocumented}, outcome{false, false, "none", true}},
	{switches{zeroConfig: true, ids: simulator.IDNumbers, qrStripped: true, postbackPayload: true}, outcome{false, false, "none", true}},
	{switches{zeroConfig: true, doneToBot: true, proof: true, ids: simulator.IDStrings, qrStripped: true}, outcome{false, true, "bot", true}},
	{switches{zeroConfig: true, doneToBot: true, hopDisabled: true, ids: simulator.IDNumbers}, outcome{false, true, "bot", true}},
	// thread_owner is disabled too: after the release the bot cannot learn that the thread is
	// free, and stays silent rather than talk over a person.
	{switches{zeroConfig: true, hopDisabled: true, proof: true, ids: simulator.IDAsDocumented, qrStripped: true}, outcome{false, false, "none", false}},
	{switches{doneToBot: true, ids: simulator.IDAsDocumented, postbackPayload: true}, outcome{true, true, "bot", true}},
}

func TestBehaviourMatrix(t *testing.T) {
	if len(matrix) > 12 {
		t.Fatalf("%d combinations: at most 12", len(matrix))
	}
	checkPairwise(t)
	for _, row := range matrix {
		t.Run(row.sw.String(), func(t *testing.T) {
			sw := row.sw
			s := wt.NewSimHarness(t, wt.SimOptions{
				IDs:       sw.ids,
				Behaviour: simulator.Behaviour{StandbyQuickReplyWithoutPayload: sw.qrStripped, StandbyPostbackPayload: sw.postbackPayload},
				App:       func(a *simulator.AppConfig) { a.RequireAppSecretProof = sw.proof },
				Page: func(p *simulator.PageConfig) {
					p.HandoverAPIsDisabled = sw.hopDisabled
					if sw.zeroConfig {
						p.DefaultApp = ""
					}
					if sw.doneToBot {
						p.InboxDoneTarget = wt.SimAppName
					}
				},
			})
			got := run(t, s)
			if got != row.want {
				t.Errorf("got %+v, want %+v\nbot said %q", got, row.want, s.BotMessages())
			}
			_, permits := s.Reporter.Get()
			refused := len(permits) > 0 && strings.HasPrefix(permits[0], "false: ")
			if refused == row.want.takeBack {
				t.Errorf("HandoverPermitted reports %q", permits)
			}
			if auth, _ := s.Reporter.Get(); len(auth) == 0 || strings.HasPrefix(auth[len(auth)-1], "false") {
				t.Errorf("GraphAuthorized reports %q", auth)
			}
			// Our app is the default app or the Page is zero-config: it can always act.
			if acts := s.Reporter.Acts(); len(acts) != 1 || !strings.HasPrefix(acts[0], "true: ") {
				t.Errorf("CanAct reports %q", acts)
			}
		})
	}
}

// run plays the flows and says what happened.
func run(t *testing.T, s *wt.SimHarness) outcome {
	t.Helper()
	c := s.Customer()
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		s.Settle()
	}
	step("hello", c.Say("Hello"))
	if n := count(s.BotMessages(), welcome); n != 1 {
		t.Fatalf("no welcome: %q", s.BotMessages())
	}
	step("pass", c.Tap("Pass to Inbox"))
	if o := s.Owner(); o != simulator.InboxName {
		t.Fatalf("owner after the pass: %q", o)
	}
	var out outcome
	step("take back", c.Tap("Take From Inbox"))
	out.takeBack = s.Owner() == wt.SimAppName && count(s.BotMessages(), takeBack) == 1
	if out.takeBack {
		step("pass again", c.Tap("Pass to Inbox"))
	}
	before := len(s.BotMessages())
	step("done", s.Sim.Inbox(wt.PageID).Done(wt.SimPSID))
	out.doneMsg = count(s.BotMessages()[before:], "You passed control back") == 1
	out.afterDone = s.Owner()
	before = len(s.BotMessages())
	step("thanks", c.Say("Thanks"))
	out.answered = count(s.BotMessages()[before:], welcome) == 1
	if testing.Verbose() {
		fmt.Println(s.Sim.Transcript().String())
	}
	return out
}

// checkPairwise fails unless every pair of values of two switches appears in some row.
func checkPairwise(t *testing.T) {
	t.Helper()
	values := func(s switches) []int {
		b := func(v bool) int {
			if v {
				return 1
			}
			return 0
		}
		return []int{b(s.zeroConfig), b(s.doneToBot), b(s.hopDisabled), b(s.proof), int(s.ids), b(s.qrStripped), b(s.postbackPayload)}
	}
	levels := []int{2, 2, 2, 2, 3, 2, 2}
	for i := range levels {
		for j := i + 1; j < len(levels); j++ {
			for a := range levels[i] {
				for b := range levels[j] {
					found := false
					for _, row := range matrix {
						v := values(row.sw)
						found = found || v[i] == a && v[j] == b
					}
					if !found {
						t.Errorf("no row has switch %d = %d with switch %d = %d", i, a, j, b)
					}
				}
			}
		}
	}
}
