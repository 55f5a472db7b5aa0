package e2e

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// The tutorial's four flows with an empty policy (its defaults are the tutorial): welcome, pass to
// the inbox, take from the inbox, and Done in the inbox; then the page is Ready.
func TestTutorialFlows(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	ada := p.Customer(ada)

	// 1. Any message: the welcome, offering "Pass to Inbox".
	must(t, ada.Say("hi"))
	welcome := waitSaid(t, p, ada.PSID(), bot, 1)
	if plain(welcome) != v1alpha1.DefaultWelcomeText || len(welcome.QuickReplies) != 1 || welcome.QuickReplies[0].Title != v1alpha1.PassToInboxTitle {
		t.Fatalf("welcome %q with quick replies %+v", welcome.Text, welcome.QuickReplies)
	}
	if o := p.Owner(ada.PSID()); o != bot {
		t.Fatalf("owner after the welcome: %s", o)
	}

	// 2. "Pass to Inbox": the handoff message, then the pass (in that order: once passed, the
	// bot may not send).
	must(t, ada.Tap(v1alpha1.PassToInboxTitle))
	waitOwner(t, p, ada.PSID(), inbox)
	handoff := waitSaid(t, p, ada.PSID(), bot, 2)
	if plain(handoff) != v1alpha1.DefaultHandoffText {
		t.Fatalf("handoff message %q", handoff.Text)
	}
	want := []string{"bot send", "bot send", "bot pass"}
	if got := steps(p, ada.PSID(), simulator.StepSend, simulator.StepPass, simulator.StepRefused); !equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}

	// 3. "Take From Inbox", tapped while the inbox owns the thread (a standby event for the bot):
	// the bot takes control, and only then speaks.
	must(t, ada.Tap(v1alpha1.TakeFromInboxTitle))
	waitOwner(t, p, ada.PSID(), bot)
	if m := waitSaid(t, p, ada.PSID(), bot, 3); plain(m) != v1alpha1.DefaultTakeBackText {
		t.Fatalf("take-back message %q", m.Text)
	}
	want = append(want, "bot take", "bot send")
	if got := steps(p, ada.PSID(), simulator.StepSend, simulator.StepPass, simulator.StepTake, simulator.StepRefused); !equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}

	// 4. Pass again; the agent marks the conversation Done: the inbox passes control back and
	// the bot greets the user with the Done message.
	must(t, ada.Tap(v1alpha1.PassToInboxTitle))
	waitOwner(t, p, ada.PSID(), inbox)
	waitSaid(t, p, ada.PSID(), bot, 4)
	must(t, p.Inbox().Done(ada.PSID()))
	waitOwner(t, p, ada.PSID(), bot)
	if m := waitSaid(t, p, ada.PSID(), bot, 5); plain(m) != v1alpha1.DefaultDoneText {
		t.Fatalf("done message %q", m.Text)
	}
	settle(t, p)
	wantBotSaid(t, p, ada.PSID(), 5, v1alpha1.DefaultDoneText)
	if refused := p.Transcript(ada.PSID()).Kinds(simulator.StepRefused); len(refused) > 0 {
		t.Fatalf("the platform refused calls:\n%s", refused)
	}

	// The page's status: Ready, the Graph API takes the token, takes are permitted.
	c := ctx(t)
	_, err := p.WaitCondition(c, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonAvailable)
	must(t, err)
	_, err = p.WaitCondition(c, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	must(t, err)
	_, err = p.WaitCondition(c, v1alpha1.ConditionHandoverPermitted, metav1.ConditionTrue, v1alpha1.ReasonTakeAllowed)
	must(t, err)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
