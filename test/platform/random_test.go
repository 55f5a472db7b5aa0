package platform

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// Random conversations on the simulator: the customer writes and taps what the bot offers,
// agents reply, take and mark Done, time passes. Whatever happens, the bot never sends on a
// thread another app controls (2018300) and never takes a thread it owns (the simulator refuses
// both), and it answers the customer whenever the customer writes on a thread the bot owns.
func TestRandomConversations(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{AgentIdleTimeout: &metav1.Duration{Duration: 20 * time.Minute}}
	for _, zeroConfig := range []bool{false, true} {
		for seed := range uint64(12) {
			s := wt.NewSimHarness(t, wt.SimOptions{Policy: spec, Page: func(p *simulator.PageConfig) {
				if zeroConfig {
					p.DefaultApp = ""
				}
			}})
			rng := rand.New(rand.NewPCG(seed, 7))
			var trail []string
			for range 30 {
				trail = append(trail, randomStep(t, s, rng))
				s.Settle()
			}
			for _, st := range s.Sim.Transcript() {
				if st.Actor == wt.SimAppName && st.Kind == simulator.StepRefused && (st.Subcode == 2018300 || st.Code == 100 && strings.Contains(st.Text, "take")) {
					t.Errorf("zero-config %v, seed %d: the bot was refused: %s\nsteps: %s\n%s", zeroConfig, seed, st.Line(), strings.Join(trail, ", "), s.Sim.Transcript())
				}
			}
		}
	}
}

// randomStep plays one step and names it.
func randomStep(t *testing.T, s *wt.SimHarness, rng *rand.Rand) string {
	c, in := s.Customer(), s.Sim.Inbox(wt.PageID)
	switch rng.IntN(7) {
	case 0, 1:
		owner := s.Owner()
		before := len(s.BotMessages())
		_ = c.Say("question")
		s.Settle()
		if owner == wt.SimAppName && s.Owner() == wt.SimAppName && len(s.BotMessages()) == before {
			t.Errorf("the bot owns the thread and did not answer")
		}
		return "say"
	case 2:
		msgs := s.Sim.Messages(wt.PageID, wt.SimPSID)
		if len(msgs) > 0 && len(msgs[len(msgs)-1].QuickReplies) > 0 {
			q := msgs[len(msgs)-1].QuickReplies[0]
			_ = c.Tap(q.Title)
			return "tap " + q.Title
		}
		return "no tap"
	case 3:
		_ = in.Reply(wt.SimPSID, "agent here")
		return "agent replies"
	case 4:
		_ = in.Done(wt.SimPSID)
		return "done"
	case 5:
		_ = in.Take(wt.SimPSID)
		return "inbox takes"
	}
	d := time.Duration(rng.IntN(40)) * time.Minute
	s.Clock.Advance(d)
	return "advance " + d.String()
}
