package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// Against the simulator with "Require App Secret" on: every call of the page's client goes
// through with the right app secret, and each is refused as NotAuthorized with a wrong one.
func TestEveryPageCallCarriesTheProof(t *testing.T) {
	e := newSimEnv(t, true)
	if err := e.sim.Customer(testPage, simPSID).Say("hi"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := func(c *Client) map[string]error {
		send := c.Send(ctx, simPSID, map[string]any{"text": "hello"})
		_, profile := c.UserProfile(ctx, simPSID)
		_, owner := c.ThreadOwner(ctx, simPSID)
		pass := c.PassThreadControl(ctx, simPSID, simulator.InboxAppID, "to the inbox")
		take := c.TakeThreadControl(ctx, simPSID, "back")
		_, _, subscribed := c.PageSubscription(ctx, simApp)
		subscribe := c.SubscribePage(ctx, handoverFields)
		return map[string]error{"send": send, "profile": profile, "thread_owner": owner, "pass": pass, "take": take,
			"subscribed_apps": subscribed, "subscribe": subscribe}
	}
	for name, err := range calls(e.client(t, simToken, simSecret, true)) {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := e.sim.Owner(testPage, simPSID); got != "bot" {
		t.Errorf("owner after pass and take: %q", got)
	}
	for name, err := range calls(e.client(t, simToken, "not-the-app-secret", true)) {
		if MeaningOf(err) != NotAuthorized {
			t.Errorf("%s with a wrong app secret: %v (%s)", name, err, MeaningOf(err))
		}
		if err != nil && (strings.Contains(err.Error(), simToken) || strings.Contains(err.Error(), "not-the-app-secret")) {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
	app := e.client(t, string(AppToken(simApp, []byte(simSecret))), simSecret, false)
	if _, err := app.AppSubscription(ctx, simApp); err != nil {
		t.Errorf("app subscription with the app token: %v", err)
	}
}
