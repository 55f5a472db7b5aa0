package graph

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// debug_token against the simulator: a valid token that never expires, then one that expires
// and lacks pages_messaging, then a revoked one; a refused app token is an error, and no error
// or problem shows the inspected token.
func TestDebugToken(t *testing.T) {
	e := newSimEnv(t, true)
	ctx := context.Background()
	app := e.client(t, string(AppToken(simApp, []byte(simSecret))), simSecret, false)

	info, err := app.DebugToken(ctx, []byte(simToken))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Valid || !info.ExpiresAt.IsZero() || !info.HasScope("pages_messaging") || info.DataAccessExpiresAt.IsZero() || info.Problem != "" {
		t.Fatalf("a fresh token: %+v", info)
	}

	exp := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	if _, err := e.sim.ChangeTokens(simToken, "", "", simulator.TokenChange{ExpiresAt: &exp, Scopes: []string{"pages_show_list"}}); err != nil {
		t.Fatal(err)
	}
	if info, err = app.DebugToken(ctx, []byte(simToken)); err != nil {
		t.Fatal(err)
	}
	if !info.Valid || !info.ExpiresAt.Equal(exp) || info.HasScope("pages_messaging") {
		t.Fatalf("an expiring token without pages_messaging: %+v", info)
	}

	if err := e.sim.RevokeToken(simToken); err != nil {
		t.Fatal(err)
	}
	if info, err = app.DebugToken(ctx, []byte(simToken)); err != nil {
		t.Fatal(err)
	}
	if info.Valid || !strings.Contains(info.Problem, "invalidated") || strings.Contains(info.Problem, simToken) {
		t.Fatalf("a revoked token: %+v", info)
	}

	// The question itself refused: a wrong app secret in the app token.
	bad := e.client(t, string(AppToken(simApp, []byte("not-the-secret"))), simSecret, false)
	_, err = bad.DebugToken(ctx, []byte(simToken))
	if err == nil || strings.Contains(err.Error(), simToken) {
		t.Fatalf("with a refused app token: %v", err)
	}
	if _, err := app.DebugToken(ctx, nil); err == nil {
		t.Fatal("an empty token was inspected")
	}
}
