// Package faults runs the webhook binary's Run in-process, in cluster mode on envtest, against
// the Messenger Platform simulator, and breaks things: Graph errors, timeouts after sending, a
// revoked token, SIGTERM in the middle of a stream, an unreachable API server.
package faults

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func TestMain(m *testing.M) { rig.Main(m) }

const welcome = "Hello from the bot"

// pageSite is one page and the front door the simulator delivers to (a switchable proxy, so
// that a second webhook process can take over the address).
type pageSite struct {
	*rig.Page
	front   *front
	userCfg *rest.Config // the webhook's user, once setupPage ran
}

// front forwards the simulator's deliveries to the current webhook; 503 while there is none.
type front struct {
	srv    *httptest.Server
	target atomic.Pointer[string]
}

func newFront(t *testing.T) *front {
	f := &front{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := f.target.Load()
		if target == nil {
			http.Error(w, "no webhook", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, *target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) point(url string) { f.target.Store(&url) }
func (f *front) unpoint()         { f.target.Store(nil) }

func newPageSite(t *testing.T, ns, pageID, appID, appName string) *pageSite {
	ns = rig.UniqueNS(ns)
	return &pageSite{Page: &rig.Page{NS: ns, PageID: pageID, AppID: appID, AppName: appName, Welcome: welcome,
		AppSecret: "app-secret-" + ns, Token: "EAA-page-token-" + ns, VerifyToken: "verify-token-" + ns}, front: newFront(t)}
}

// graphFront sits between the webhooks and the simulator's Graph API: it can delay calls and
// cut the connection of a call the simulator holds ("timeout after sending"), so the webhook
// sees the call sent and never answered, without waiting for its own 10 s timeout.
type graphFront struct {
	sim   *simulator.Simulator
	h     http.Handler
	delay atomic.Int64 // nanoseconds added before each messages call
	cut   atomic.Int32 // hung calls cut so far
}

func (g *graphFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(g.delay.Load()); d > 0 && strings.HasSuffix(r.URL.Path, "/messages") {
		time.Sleep(d)
	}
	hungBefore := countHung(g.sim)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.h.ServeHTTP(rec, r.WithContext(ctx))
	}()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		case <-tick.C:
			if countHung(g.sim) > hungBefore {
				// The call took effect and its answer is held: drop the connection unanswered.
				cancel()
				<-done
				g.cut.Add(1)
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						_ = c.Close()
					}
				}
				return
			}
		}
	}
}

func countHung(s *simulator.Simulator) int {
	n := 0
	for _, c := range s.CallLog() {
		if c.Hung {
			n++
		}
	}
	return n
}

// platform is the simulator with its Graph API served through a graphFront.
type platform struct {
	sim   *simulator.Simulator
	graph *graphFront
	url   string
}

func newPlatform(t *testing.T, pages ...*pageSite) *platform {
	t.Helper()
	fronts := map[*rig.Page]*front{}
	var rp []*rig.Page
	for _, p := range pages {
		fronts[p.Page] = p.front
		rp = append(rp, p.Page)
	}
	sim := rig.NewSimulator(t, func(p *rig.Page) string { return fronts[p].srv.URL + rig.HookPath }, rp...)
	g := &graphFront{sim: sim, h: sim.GraphHandler()}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.CloseClientConnections)
	t.Cleanup(srv.Close)
	return &platform{sim: sim, graph: g, url: srv.URL}
}

// setupPage creates the page's namespace, policy, page (Graph = graphURL) and Secret, and the
// Role and RoleBinding the operator writes for the webhook, whose user it keeps in p.userCfg.
func setupPage(t *testing.T, p *pageSite, graphURL string) {
	t.Helper()
	p.GraphURL = graphURL
	rig.CreatePage(t, p.Page)
	rig.CreateSecret(t, p.Page)
	p.userCfg = rig.WebhookUser(t, p.Key())
}

// startWebhook runs the page's webhook as its user (or on restCfg) and waits until it is ready.
func startWebhook(t *testing.T, p *pageSite, restCfg *rest.Config, drain time.Duration) *rig.Webhook {
	t.Helper()
	if restCfg == nil {
		restCfg = p.userCfg
	}
	return rig.StartReady(t, webhook.Options{Page: p.Key(), RESTConfig: restCfg, DrainTimeout: drain, StatusRetryBase: 50 * time.Millisecond})
}

// newServedSite is a page with the app "bot" on its own platform, its webhook (10 s drain)
// started and behind the page's front door.
func newServedSite(t *testing.T, ns, pageID, appID string) (*pageSite, *platform, *rig.Webhook) {
	t.Helper()
	p := newPageSite(t, ns, pageID, appID, "bot")
	plat := newPlatform(t, p)
	setupPage(t, p, plat.url)
	wh := startWebhook(t, p, nil, 10*time.Second)
	p.front.point(wh.URL)
	return p, plat, wh
}

func waitFor(t *testing.T, s *simulator.Simulator, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Await(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// quiet waits until nothing has happened on the platform for a while, to check that something
// (a second reply) does not come.
func quiet(t *testing.T, s *simulator.Simulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rig.Must(t, s.WaitQuiet(ctx, 1500*time.Millisecond))
}
