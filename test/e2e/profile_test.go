package e2e

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

// The welcome screen, declared: the operator sets the page's spec.profile at Meta; a new
// customer taps Get Started and gets the welcome; the persistent menu's "Talk to a person" (a
// postbackPayloads trigger) passes the thread to the inbox, as the quick reply does.
func TestProfileWelcomeScreen(t *testing.T) {
	t.Parallel()
	policy := v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{
		QuickReplyPayloads: []string{v1alpha1.PassToInboxPayload}, PostbackPayloads: []string{"HUMAN"}}}}
	p := pageFixture(t, policy, func(o *harness.PageOptions) {
		o.Page.Spec.Profile = &v1alpha1.MessengerProfile{
			GetStarted: &v1alpha1.GetStarted{Payload: "GET_STARTED"},
			Greetings:  []v1alpha1.Greeting{{Locale: "default", Text: "Hi {{user_first_name}}! ACME answers here."}},
			PersistentMenu: []v1alpha1.PersistentMenu{{Locale: "default", Items: []v1alpha1.MenuItem{
				{Postback: &v1alpha1.PostbackItem{Title: "Talk to a person", Payload: "HUMAN"}},
				{WebURL: &v1alpha1.WebURLItem{Title: "Shop", URL: "https://shop.example.com"}},
			}}},
		}
	})
	c := ctx(t)
	_, err := p.WaitCondition(c, v1alpha1.ConditionProfileSynced, metav1.ConditionTrue, v1alpha1.ReasonProfileInSync)
	must(t, err)
	screen, err := p.Sim.WelcomeScreen(p.PageID, ada, "")
	must(t, err)
	if screen.Greeting != "Hi Ada! ACME answers here." || !screen.GetStarted || len(screen.Menu) != 2 || screen.Menu[0].Title != "Talk to a person" {
		t.Fatalf("welcome screen:\n%s", screen)
	}
	if cond, _ := p.Condition(c, v1alpha1.ConditionProfilePayloadUnhandled); cond != nil {
		t.Fatalf("every payload is handled, yet: %+v", cond)
	}

	ada := p.Customer(ada)
	must(t, ada.GetStarted())
	if m := waitSaid(t, p, ada.PSID(), bot, 1); plain(m) != v1alpha1.DefaultWelcomeText {
		t.Fatalf("after Get Started: %q", m.Text)
	}
	must(t, ada.TapMenu("Talk to a person"))
	waitOwner(t, p, ada.PSID(), inbox)
	if m := waitSaid(t, p, ada.PSID(), bot, 2); plain(m) != v1alpha1.DefaultHandoffText {
		t.Fatalf("after the menu's Talk to a person: %q", m.Text)
	}
	settle(t, p)
	if refused := p.Transcript(ada.PSID()).Kinds(simulator.StepRefused); len(refused) > 0 || !strings.Contains(p.Transcript(ada.PSID()).String(), "Talk to a person") {
		t.Fatalf("refused calls %v, or the tap is not in the transcript", refused)
	}
}
