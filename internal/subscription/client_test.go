package subscription

import (
	"context"
	"errors"
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
	pageID    = "1000000000000001"
	appID     = "111111111111111"
	appSecret = "app-secret-value"
	pageToken = "EAAPageTokenForTests"
	verify    = "verify-token-value"
)

var handoverFields = []string{"messages", "messaging_postbacks", "messaging_handovers", "standby", "message_echoes", "messaging_referrals"}

type env struct {
	sim      *simulator.Simulator
	graph    *httptest.Server
	callback *httptest.Server
	verifies atomic.Int32
	c        *Client
}

// newEnv runs the simulator with our app connected to the Page but subscribed nowhere, and a
// callback that answers Meta's verification GET when the verify token matches.
func newEnv(t *testing.T, requireProof bool) *env {
	t.Helper()
	e := &env{}
	e.callback = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.verifies.Add(1)
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != verify {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(q.Get("hub.challenge")))
	}))
	t.Cleanup(e.callback.Close)
	sim, err := simulator.New(simulator.Options{
		Clock: simulator.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Pages: []simulator.PageConfig{{ID: pageID, DefaultApp: "bot"}},
		Apps: []simulator.AppConfig{{ID: appID, Name: "bot", Secret: appSecret, CanTake: true,
			RequireAppSecretProof: requireProof}},
		Tokens: []simulator.TokenConfig{{App: "bot", Page: pageID, Token: pageToken}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e.sim = sim
	e.graph = httptest.NewServer(sim.Handler())
	t.Cleanup(e.graph.Close)
	e.c = &Client{BaseURL: e.graph.URL, Version: "v25.0"}
	return e
}

func appCred() Credentials {
	return Credentials{Token: AppToken(appID, []byte(appSecret)), AppSecret: []byte(appSecret)}
}

func pageCred() Credentials {
	return Credentials{Token: []byte(pageToken), AppSecret: []byte(appSecret)}
}

func TestRegisterAndSubscribe(t *testing.T) {
	for _, proof := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "app secret proof required"}[proof], func(t *testing.T) {
			e := newEnv(t, proof)
			ctx := context.Background()
			sub, err := e.c.AppSubscription(ctx, appID, appCred())
			if err != nil || sub != nil {
				t.Fatalf("before: %+v %v", sub, err)
			}
			if err := e.c.RegisterCallback(ctx, appID, appCred(), e.callback.URL+"/webhook", []byte(verify), handoverFields); err != nil {
				t.Fatal(err)
			}
			if n := e.verifies.Load(); n != 1 {
				t.Fatalf("verification GETs: %d", n)
			}
			sub, err = e.c.AppSubscription(ctx, appID, appCred())
			if err != nil || sub == nil || sub.CallbackURL != e.callback.URL+"/webhook" || !sub.Active || !slices.Equal(sub.Fields, handoverFields) {
				t.Fatalf("after: %+v %v", sub, err)
			}

			fields, ok, err := e.c.PageSubscription(ctx, pageID, appID, pageCred())
			if err != nil || ok || fields != nil {
				t.Fatalf("page before: %v %v %v", fields, ok, err)
			}
			if err := e.c.SubscribePage(ctx, pageID, pageCred(), handoverFields); err != nil {
				t.Fatal(err)
			}
			fields, ok, err = e.c.PageSubscription(ctx, pageID, appID, pageCred())
			if err != nil || !ok || !slices.Equal(fields, handoverFields) {
				t.Fatalf("page after: %v %v %v", fields, ok, err)
			}
		})
	}
}

func TestErrorsNameTheCauseNotTheSecrets(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()

	// A callback that refuses the verify token: Meta's 2200, the subscription unchanged.
	err := e.c.RegisterCallback(ctx, appID, appCred(), e.callback.URL+"/webhook", []byte("wrong-verify-token"), handoverFields)
	var gerr *Error
	if !errors.As(err, &gerr) || gerr.Code != 2200 {
		t.Fatalf("bad verify token: %v", err)
	}
	if sub, _ := e.c.AppSubscription(ctx, appID, appCred()); sub != nil {
		t.Fatalf("a failed verification changed the subscription: %+v", sub)
	}

	// A wrong app secret in the app token.
	bad := Credentials{Token: AppToken(appID, []byte("not-the-secret"))}
	_, err = e.c.AppSubscription(ctx, appID, bad)
	if !errors.As(err, &gerr) || gerr.Code == 0 {
		t.Fatalf("bad app token: %v", err)
	}

	// A revoked page token: 190.
	if err := e.sim.RevokeToken(pageToken); err != nil {
		t.Fatal(err)
	}
	err = e.c.SubscribePage(ctx, pageID, pageCred(), handoverFields)
	if !errors.As(err, &gerr) || !gerr.Unauthorized() {
		t.Fatalf("revoked token: %v", err)
	}

	// The graph is gone: a transport error.
	e.graph.Close()
	_, _, err = e.c.PageSubscription(ctx, pageID, appID, pageCred())
	if err == nil || errors.As(err, &gerr) {
		t.Fatalf("unreachable graph: %v", err)
	}
	for _, secret := range []string{appSecret, pageToken, "not-the-secret", "wrong-verify-token"} {
		for _, msg := range []string{err.Error(), gerr.Error()} {
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q shows a secret", msg)
			}
		}
	}
}

func TestBadInputIsRefusedBeforeAnyCall(t *testing.T) {
	calls := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		c    Client
		node string
		cred Credentials
	}{
		"path in the id":      {Client{BaseURL: srv.URL, Version: "v25.0"}, "123/../me", pageCred()},
		"empty id":            {Client{BaseURL: srv.URL, Version: "v25.0"}, "", pageCred()},
		"version with slash":  {Client{BaseURL: srv.URL, Version: "v25.0/x"}, pageID, pageCred()},
		"base URL with query": {Client{BaseURL: srv.URL + "?a=b", Version: "v25.0"}, pageID, pageCred()},
		"no token":            {Client{BaseURL: srv.URL, Version: "v25.0"}, pageID, Credentials{}},
	} {
		if err := tc.c.SubscribePage(ctx, tc.node, tc.cred, handoverFields); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls made with bad input", n)
	}
	if s := (Credentials{Token: []byte(pageToken)}).String(); strings.Contains(s, pageToken) {
		t.Fatal("Credentials print their token")
	}
}
