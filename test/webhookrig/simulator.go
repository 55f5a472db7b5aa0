package webhookrig

import (
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// NewSimulator returns the Messenger Platform simulator with each page, its app (connected to
// that page alone, delivering to callback(page)) and its token; the test's end closes it. Its
// clock is wall time that Advance can push forward (late delivery attempts, windows, expiry).
func NewSimulator(t *testing.T, callback func(*Page) string, pages ...*Page) *simulator.Simulator {
	t.Helper()
	opts := simulator.Options{Clock: &simulator.OffsetClock{}, Logf: func(string, ...any) {}}
	for _, p := range pages {
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: p.PageID, Name: "Shop " + p.NS, DefaultApp: p.AppName, Apps: []string{p.AppName}})
		opts.Apps = append(opts.Apps, simulator.AppConfig{ID: p.AppID, Name: p.AppName, Secret: p.AppSecret,
			CallbackURL: callback(p), CanTake: true})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: p.AppName, Page: p.PageID, Token: p.Token})
	}
	sim, err := simulator.New(opts)
	Must(t, err)
	t.Cleanup(sim.Close)
	return sim
}

// Replies counts the messages the page's app sent to psid (the simulator keeps every accepted
// message exactly once).
func Replies(s *simulator.Simulator, p *Page, psid string) int {
	n := 0
	for _, m := range s.Messages(p.PageID, psid) {
		if m.From == p.AppName {
			n++
		}
	}
	return n
}

// NewAppSimulator returns the simulator with app a (named "app", delivering to callback) and its
// pages, plus more pages subscribed to the app that are not (yet) among a's; each with its token.
// Deliveries of several pages' events for the app share one POST when batched (Hold, Flush).
func NewAppSimulator(t *testing.T, a *App, callback string, more ...*AppPage) *simulator.Simulator {
	t.Helper()
	opts := simulator.Options{Clock: &simulator.OffsetClock{}, Logf: func(string, ...any) {},
		Apps: []simulator.AppConfig{{ID: a.AppID, Name: "app", Secret: a.AppSecret, CallbackURL: callback, CanTake: true}}}
	for _, p := range append(append([]*AppPage(nil), a.Pages...), more...) {
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: p.PageID, Name: "Page " + p.Name, DefaultApp: "app", Apps: []string{"app"}})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: "app", Page: p.PageID, Token: p.Token})
	}
	sim, err := simulator.New(opts)
	Must(t, err)
	t.Cleanup(sim.Close)
	return sim
}

// AppReplies counts the messages the app sent to psid of pageID.
func AppReplies(s *simulator.Simulator, pageID, psid string) []string {
	var out []string
	for _, m := range s.Messages(pageID, psid) {
		if m.From == "app" {
			out = append(out, m.Text)
		}
	}
	return out
}
