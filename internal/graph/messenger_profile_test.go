package graph

import (
	"context"
	"strings"
	"testing"
)

// The profile calls against the simulator as Meta: POST sets and leaves the others, GET answers
// what is set, DELETE removes, and a greeting over Meta's limit is refused as BadRequest with
// nothing changed.
func TestMessengerProfileRoundTrip(t *testing.T) {
	e := newSimEnv(t, true)
	c := e.client(t, simToken, simSecret, true)
	ctx := context.Background()
	fields := []string{"get_started", "greeting", "ice_breakers", "persistent_menu", "whitelisted_domains"}

	got, err := c.MessengerProfile(ctx, fields)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty profile: %v %v", got, err)
	}
	err = c.SetMessengerProfile(ctx, map[string]any{
		"get_started": map[string]any{"payload": "start"},
		"greeting":    []any{map[string]any{"locale": "default", "text": "Hi {{user_first_name}}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetMessengerProfile(ctx, map[string]any{"whitelisted_domains": []any{"https://shop.example.com"}}); err != nil {
		t.Fatal(err)
	}
	got, err = c.MessengerProfile(ctx, fields)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !strings.Contains(string(got["greeting"]), "Hi {{user_first_name}}") || !strings.Contains(string(got["get_started"]), `"start"`) {
		t.Fatalf("after two POSTs: %v", stringsOf(got))
	}

	long := strings.Repeat("x", 161)
	err = c.SetMessengerProfile(ctx, map[string]any{"greeting": []any{map[string]any{"locale": "default", "text": long}}})
	if MeaningOf(err) != BadRequest || !strings.Contains(err.Error(), "160") {
		t.Fatalf("a 161-character greeting: %v (%s)", err, MeaningOf(err))
	}
	if got, _ := c.MessengerProfile(ctx, []string{"greeting"}); strings.Contains(string(got["greeting"]), long) {
		t.Fatal("a refused POST changed the greeting")
	}

	if err := c.DeleteMessengerProfile(ctx, []string{"greeting", "whitelisted_domains"}); err != nil {
		t.Fatal(err)
	}
	got, err = c.MessengerProfile(ctx, fields)
	if err != nil || len(got) != 1 || got["get_started"] == nil {
		t.Fatalf("after DELETE: %v %v", stringsOf(got), err)
	}

	bad := e.client(t, simToken, "not-the-app-secret", true)
	if _, err := bad.MessengerProfile(ctx, fields); MeaningOf(err) != NotAuthorized {
		t.Errorf("without the right appsecret_proof: %v (%s)", err, MeaningOf(err))
	}
	for name, err := range map[string]error{
		"get no fields":  func() error { _, err := c.MessengerProfile(ctx, nil); return err }(),
		"post nothing":   c.SetMessengerProfile(ctx, nil),
		"delete nothing": c.DeleteMessengerProfile(ctx, nil),
	} {
		if err == nil || MeaningOf(err) != NotSent {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func stringsOf(p ProfileProperties) map[string]string {
	out := map[string]string{}
	for k, v := range p {
		out[k] = string(v)
	}
	return out
}
