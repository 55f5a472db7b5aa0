package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

const (
	simApp    = "111111111111111"
	simSecret = "app-secret-value"
	simToken  = "EAAPageTokenForTests"
	simVerify = "verify-token-value"
	simPSID   = "2000000000000001"
)

var handoverFields = []string{"messages", "messaging_postbacks", "messaging_handovers", "standby", "message_echoes", "messaging_referrals"}

type simEnv struct {
	sim      *simulator.Simulator
	graph    *httptest.Server
	callback *httptest.Server
	verifies atomic.Int32
}

// newSimEnv runs the simulator with our app ("bot", the Page's default app, allowed to take)
// connected to the Page but subscribed nowhere, a user who wrote to the Page, and a callback that
// answers Meta's verification GET when the verify token matches.
func newSimEnv(t *testing.T, requireProof bool) *simEnv {
	t.Helper()
	e := &simEnv{}
	e.callback = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.verifies.Add(1)
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != simVerify {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(q.Get("hub.challenge")))
	}))
	t.Cleanup(e.callback.Close)
	sim, err := simulator.New(simulator.Options{
		Clock: simulator.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Pages: []simulator.PageConfig{{ID: testPage, DefaultApp: "bot", Users: []simulator.UserConfig{{PSID: simPSID, FirstName: "Ada"}}}},
		Apps: []simulator.AppConfig{{ID: simApp, Name: "bot", Secret: simSecret, CanTake: true,
			RequireAppSecretProof: requireProof}},
		Tokens: []simulator.TokenConfig{{App: "bot", Page: testPage, Token: simToken}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e.sim = sim
	e.graph = httptest.NewServer(sim.Handler())
	t.Cleanup(e.graph.Close)
	return e
}

func (e *simEnv) client(t *testing.T, token, secret string, page bool) *Client {
	t.Helper()
	cfg := Config{BaseURL: e.graph.URL, Version: "v25.0", Token: []byte(token), AppSecret: []byte(secret), Timeout: 15 * time.Second}
	if page {
		cfg.PageID = testPage
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func (e *simEnv) appClient(t *testing.T) *Client {
	return e.client(t, string(AppToken(simApp, []byte(simSecret))), simSecret, false)
}

func TestRegisterAndSubscribe(t *testing.T) {
	for _, proof := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "app secret proof required"}[proof], func(t *testing.T) {
			e := newSimEnv(t, proof)
			ctx := context.Background()
			app, page := e.appClient(t), e.client(t, simToken, simSecret, true)
			sub, err := app.AppSubscription(ctx, simApp)
			if err != nil || sub != nil {
				t.Fatalf("before: %+v %v", sub, err)
			}
			if err := app.RegisterCallback(ctx, simApp, e.callback.URL+"/webhook", []byte(simVerify), handoverFields); err != nil {
				t.Fatal(err)
			}
			if n := e.verifies.Load(); n != 1 {
				t.Fatalf("verification GETs: %d", n)
			}
			sub, err = app.AppSubscription(ctx, simApp)
			if err != nil || sub == nil || sub.CallbackURL != e.callback.URL+"/webhook" || !sub.Active || !slices.Equal(sub.Fields, handoverFields) {
				t.Fatalf("after: %+v %v", sub, err)
			}

			fields, ok, err := page.PageSubscription(ctx, simApp)
			if err != nil || ok || fields != nil {
				t.Fatalf("page before: %v %v %v", fields, ok, err)
			}
			if err := page.SubscribePage(ctx, handoverFields); err != nil {
				t.Fatal(err)
			}
			fields, ok, err = page.PageSubscription(ctx, simApp)
			if err != nil || !ok || !slices.Equal(fields, handoverFields) {
				t.Fatalf("page after: %v %v %v", fields, ok, err)
			}
		})
	}
}

func TestSubscriptionErrorsNameTheCauseNotTheSecrets(t *testing.T) {
	e := newSimEnv(t, false)
	ctx := context.Background()
	app, page := e.appClient(t), e.client(t, simToken, simSecret, true)

	// A callback that refuses the verify token: Meta's 2200, the subscription unchanged.
	err := app.RegisterCallback(ctx, simApp, e.callback.URL+"/webhook", []byte("wrong-verify-token"), handoverFields)
	if MeaningOf(err) != CallbackUnverified {
		t.Fatalf("bad verify token: %v (%s)", err, MeaningOf(err))
	}
	errs := []error{err}
	if sub, _ := app.AppSubscription(ctx, simApp); sub != nil {
		t.Fatalf("a failed verification changed the subscription: %+v", sub)
	}

	// A wrong app secret in the app token.
	bad := e.client(t, string(AppToken(simApp, []byte("not-the-secret"))), "not-the-secret", false)
	_, err = bad.AppSubscription(ctx, simApp)
	if MeaningOf(err) != TokenInvalid {
		t.Fatalf("bad app token: %v (%s)", err, MeaningOf(err))
	}
	errs = append(errs, err)

	// A revoked page token.
	if err := e.sim.RevokeToken(simToken); err != nil {
		t.Fatal(err)
	}
	err = page.SubscribePage(ctx, handoverFields)
	if MeaningOf(err) != TokenInvalid {
		t.Fatalf("revoked token: %v (%s)", err, MeaningOf(err))
	}
	errs = append(errs, err)

	// The Graph API is gone: nothing was sent.
	e.graph.Close()
	_, _, err = page.PageSubscription(ctx, simApp)
	if MeaningOf(err) != NotSent {
		t.Fatalf("unreachable graph: %v (%s)", err, MeaningOf(err))
	}
	errs = append(errs, err)
	for _, err := range errs {
		for _, secret := range []string{simSecret, simToken, "not-the-secret", "wrong-verify-token"} {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q shows a secret", err)
			}
		}
	}
}

func TestBadInputIsRefusedBeforeAnyCall(t *testing.T) {
	calls := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	ctx := context.Background()
	for name, cfg := range map[string]Config{
		"path in the page id": {BaseURL: srv.URL, Version: "v25.0", PageID: "123/../me", Token: []byte(testToken), AppSecret: []byte(testSecret)},
		"version with slash":  {BaseURL: srv.URL, Version: "v25.0/x", PageID: testPage, Token: []byte(testToken), AppSecret: []byte(testSecret)},
		"base URL with query": {BaseURL: srv.URL + "?a=b", Version: "v25.0", PageID: testPage, Token: []byte(testToken), AppSecret: []byte(testSecret)},
		"no token":            {BaseURL: srv.URL, Version: "v25.0", PageID: testPage, AppSecret: []byte(testSecret)},
		"no app secret":       {BaseURL: srv.URL, Version: "v25.0", PageID: testPage, Token: []byte(testToken)},
		"newline in token":    {BaseURL: srv.URL, Version: "v25.0", PageID: testPage, Token: []byte("EAA\r\nX-Injected: 1"), AppSecret: []byte(testSecret)},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "Injected") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
	c := newClient(t, srv.URL)
	if _, err := c.AppSubscription(ctx, "123/../me"); err == nil {
		t.Error("an app id with a path accepted")
	}
	noPage, err := New(Config{BaseURL: srv.URL, Version: "v25.0", Token: []byte(testToken), AppSecret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if err := noPage.Send(ctx, "42", map[string]any{"text": "x"}); err == nil {
		t.Error("a page call on a client without a page accepted")
	}
	if err := c.SubscribePage(ctx, nil); err == nil {
		t.Error("subscribing to no fields accepted")
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls made with bad input", n)
	}
}
