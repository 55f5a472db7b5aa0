package webhooktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// SimOptions set up a harness on the Messenger Platform simulator.
type SimOptions struct {
	// Policy is the page's HandoverPolicy spec (nil: the defaults, the tutorial's conversation).
	Policy *v1alpha1.HandoverPolicySpec
	// Page and App edit the simulator's page and our app before it starts (default: our app is
	// the page's default app and may take control).
	Page func(*simulator.PageConfig)
	App  func(*simulator.AppConfig)
	// IDs and Behaviour are the simulator's.
	IDs       simulator.IDForm
	Behaviour simulator.Behaviour
	// Runner edits the runner's options and Config the page's after the harness set them.
	Runner func(*runner.Options, *config.Page)
}

// SimHarness is one page's webhook with the real engine, calling the simulator's Graph API and
// receiving its deliveries, with the webhook following the simulator's clock (one Clock for
// both): tests move time with Clock.Advance instead of waiting.
type SimHarness struct {
	*Harness
	Sim   *simulator.Simulator
	Clock *Clock
}

// SimAppName is our app's name on the simulator.
const SimAppName = "bot"

// NewSimHarness starts the simulator and the webhook until the end of the test.
func NewSimHarness(t testing.TB, o SimOptions) *SimHarness {
	t.Helper()
	clock := NewClock()
	clock.Sync = true // a tick is queued when Advance returns: Settle then waits for it
	var simHandler atomic.Pointer[http.Handler]
	graphSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := simHandler.Load()
		if h == nil {
			http.Error(w, "simulator not started", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(graphSrv.Close)
	pol, err := handover.Compile(PageID, AppID, "Shop", o.Policy)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	h := NewHarness(t, func(ro *runner.Options, c *config.Page) {
		ro.Engine = runner.HandoverEngine{}
		ro.Clock = clock
		c.GraphBaseURL = graphSrv.URL
		c.Handover = &handover.Page{PageID: PageID, AppID: AppID, BusinessName: "Shop", Policy: pol}
		if o.Runner != nil {
			o.Runner(ro, c)
		}
	})
	pc := simulator.PageConfig{ID: PageID, Name: "Shop", DefaultApp: SimAppName,
		Users: []simulator.UserConfig{{PSID: "2500000000000001", FirstName: "Ada"}}}
	ac := simulator.AppConfig{ID: AppID, Name: SimAppName, Secret: AppSecret, CallbackURL: h.HTTP.URL + "/webhook",
		VerifyToken: VerifyToken, CanTake: true}
	if o.Page != nil {
		o.Page(&pc)
	}
	if o.App != nil {
		o.App(&ac)
	}
	sim, err := simulator.New(simulator.Options{
		Clock: clock, Pages: []simulator.PageConfig{pc}, Apps: []simulator.AppConfig{ac},
		Tokens: []simulator.TokenConfig{{App: SimAppName, Page: PageID, Token: PageToken}},
		IDs:    o.IDs, Behaviour: o.Behaviour, RetryDelay: -1, Logf: func(string, ...any) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	handler := sim.Handler()
	simHandler.Store(&handler)
	return &SimHarness{Harness: h, Sim: sim, Clock: clock}
}

// SimPSID is the simulator's known user.
const SimPSID = "2500000000000001"

// Customer is the simulator's known user on the page.
func (s *SimHarness) Customer() *simulator.Customer { return s.Sim.Customer(PageID, SimPSID) }

// Settle waits until the simulator delivered everything and the webhook handled it, twice over
// (the webhook's calls cause further deliveries).
func (s *SimHarness) Settle() {
	s.t.Helper()
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.Sim.WaitIdle(ctx); err != nil {
			cancel()
			s.t.Fatal(err)
		}
		cancel()
		s.Drain()
	}
}

// Owner is the simulator's owner of the user's thread (an app name, "inbox", or "" when idle).
func (s *SimHarness) Owner() string { return s.Sim.Owner(PageID, SimPSID) }

// BotMessages are the texts our app sent the user.
func (s *SimHarness) BotMessages() []string {
	var out []string
	for _, m := range s.Sim.Messages(PageID, SimPSID) {
		if m.From == SimAppName {
			out = append(out, m.Text)
		}
	}
	return out
}

// Metrics is the registry's text exposition, as /metrics serves it.
func (h *Harness) Metrics() string {
	h.t.Helper()
	mfs, err := h.Reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			h.t.Fatal(err)
		}
	}
	return b.String()
}
