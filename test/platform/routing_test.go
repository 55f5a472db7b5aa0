package platform

import (
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// A page on which our app cannot act: the inbox is the Page's default app, so new conversations
// reach the bot only on standby. After three such threads the page reports CanAct=False with
// the reason; the bot stays silent. On a page whose default app is ours, CanAct is True.
func TestNotTheDefaultApp(t *testing.T) {
	s := wt.NewSimHarness(t, wt.SimOptions{Page: func(p *simulator.PageConfig) { p.DefaultApp = simulator.InboxName }})
	for i, psid := range []string{"2500000000000011", "2500000000000012", "2500000000000013"} {
		must(t, s.Sim.Customer(wt.PageID, psid).Say("Hello"))
		s.Settle()
		if got := s.Reporter.Acts(); i < 2 && len(got) != 0 {
			t.Fatalf("reported after %d threads: %q", i+1, got)
		}
	}
	wt.Eventually(t, "CanAct=false", func() bool { return len(s.Reporter.Acts()) == 1 })
	if got := s.Reporter.Acts()[0]; !strings.HasPrefix(got, "false: ") || !strings.Contains(got, "default app") {
		t.Errorf("CanAct report %q", got)
	}
	if n := s.Counter("messenger_graph_calls_total", "endpoint", "messages"); n != 0 {
		t.Errorf("%v sends", n)
	}

	ok := wt.NewSimHarness(t, wt.SimOptions{})
	must(t, ok.Customer().Say("Hello"))
	ok.Settle()
	wt.Eventually(t, "CanAct=true", func() bool { return len(ok.Reporter.Acts()) == 1 })
	if got := ok.Reporter.Acts()[0]; !strings.HasPrefix(got, "true: ") {
		t.Errorf("CanAct report %q", got)
	}
}
