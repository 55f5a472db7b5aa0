package e2e

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// An agent who answers in the inbox silences the bot until Done, whether the bot passed the
// conversation first or the agent simply wrote (the inbox then takes control on its own).
func TestAgentReplyAndDone(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})

	t.Run("after a handoff", func(t *testing.T) {
		ada := p.Customer(ada)
		must(t, ada.Say("hi"))
		waitSaid(t, p, ada.PSID(), bot, 1)
		must(t, ada.Tap(v1alpha1.PassToInboxTitle))
		waitOwner(t, p, ada.PSID(), inbox)
		waitSaid(t, p, ada.PSID(), bot, 2)

		must(t, p.Inbox().Reply(ada.PSID(), "Hi, I am Anna"))
		must(t, ada.Say("my parcel is late"))
		must(t, ada.Say("hello?"))
		settle(t, p)
		wantBotSaid(t, p, ada.PSID(), 2, v1alpha1.DefaultHandoffText)

		must(t, p.Inbox().Done(ada.PSID()))
		waitOwner(t, p, ada.PSID(), bot)
		if m := waitSaid(t, p, ada.PSID(), bot, 3); plain(m) != v1alpha1.DefaultDoneText {
			t.Fatalf("after Done the bot said %q", m.Text)
		}
		must(t, ada.Say("thanks"))
		if m := waitSaid(t, p, ada.PSID(), bot, 4); plain(m) != v1alpha1.DefaultWelcomeText {
			t.Fatalf("the bot answered %q after Done", m.Text)
		}
		wantAudit(t, p, ada.PSID(), [][4]string{
			{"decision", "bot", "inbox", "handoff"}, {"owner", "bot", "inbox", "handoff"}, {"owner", "inbox", "bot", "done"},
		}, "Hi, I am Anna", "my parcel is late")
	})

	t.Run("an agent writes without a handoff", func(t *testing.T) {
		const psid = "27458394012345601"
		bob := p.Customer(psid)
		must(t, bob.Say("hi"))
		waitSaid(t, p, psid, bot, 1)
		must(t, p.Inbox().Reply(psid, "Hello Bob, Anna here"))
		waitOwner(t, p, psid, inbox)
		must(t, bob.Say("great, a person"))
		settle(t, p)
		wantBotSaid(t, p, psid, 1, v1alpha1.DefaultWelcomeText)

		must(t, p.Inbox().Done(psid))
		waitOwner(t, p, psid, bot)
		if m := waitSaid(t, p, psid, bot, 2); plain(m) != v1alpha1.DefaultDoneText {
			t.Fatalf("after Done the bot said %q", m.Text)
		}
	})
}

// Typed keywords hand over as whole words or phrases, in any case; other words do not.
func TestKeywordHandoff(t *testing.T) {
	t.Parallel()
	spec := v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{
		Triggers: v1alpha1.Triggers{QuickReplyPayloads: []string{v1alpha1.PassToInboxPayload}, Keywords: []string{"agent", "real person"}},
		Metadata: "keyword",
	}}
	p := pageFixture(t, spec)

	const bob = "27458394012345602"
	must(t, p.Customer(bob).Say("Do you have agents in Paris?")) // "agents" is not the word "agent"
	waitSaid(t, p, bob, bot, 1)
	settle(t, p)
	if o := p.Owner(bob); o != bot {
		t.Fatalf("owner %s after a message without the keyword", o)
	}

	must(t, p.Customer(ada).Say("Can I talk to a REAL person, please?"))
	waitOwner(t, p, ada, inbox)
	if m := waitSaid(t, p, ada, bot, 1); plain(m) != v1alpha1.DefaultHandoffText {
		t.Fatalf("keyword handoff message %q", m.Text)
	}
	passes := p.Transcript(ada).Kinds(simulator.StepPass)
	if len(passes) != 1 || passes[0].Actor != bot || passes[0].Metadata != "keyword" {
		t.Fatalf("passes %+v", passes)
	}
	settle(t, p)
	wantBotSaid(t, p, ada, 1, v1alpha1.DefaultHandoffText)
}

// A postback button the bot sent hands over when pressed.
func TestPostbackHandoff(t *testing.T) {
	t.Parallel()
	const title, payload = "Talk to a human", "TALK_TO_AGENT"
	spec := v1alpha1.HandoverPolicySpec{
		Welcome: v1alpha1.Message{Text: "Hello! How can we help?", Buttons: &v1alpha1.ButtonTemplate{
			Text:    "Hello! How can we help?",
			Buttons: []v1alpha1.Button{{Type: "postback", Title: title, Payload: payload}},
		}},
		Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{PostbackPayloads: []string{payload}}},
	}
	p := pageFixture(t, spec)
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	welcome := waitSaid(t, p, ada.PSID(), bot, 1)
	if len(welcome.Buttons) != 1 || welcome.Buttons[0].Payload != payload {
		t.Fatalf("welcome %q with buttons %+v", welcome.Text, welcome.Buttons)
	}
	must(t, ada.Press(title))
	waitOwner(t, p, ada.PSID(), inbox)
	if m := waitSaid(t, p, ada.PSID(), bot, 2); plain(m) != v1alpha1.DefaultHandoffText {
		t.Fatalf("postback handoff message %q", m.Text)
	}
}

// The agent idle timeout takes the conversation back when no agent has written for that long:
// here 2s (the API allows 1s; 2s leaves the agent time to write first on a busy machine) after the
// agent's last message. The webhook's timer runs on its own wall clock, which the simulator's
// clock cannot move.
func TestIdleTimeoutTakesBack(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{AgentIdleTimeout: &metav1.Duration{Duration: idle}})
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	waitSaid(t, p, ada.PSID(), bot, 1)
	must(t, ada.Tap(v1alpha1.PassToInboxTitle))
	waitOwner(t, p, ada.PSID(), inbox)
	must(t, p.Inbox().Reply(ada.PSID(), "Anna here, one moment"))

	// The agent goes quiet: the bot takes the conversation back, then says so.
	waitOwner(t, p, ada.PSID(), bot)
	if m := waitSaid(t, p, ada.PSID(), bot, 3); plain(m) != v1alpha1.DefaultTakeBackText {
		t.Fatalf("after the idle timeout the bot said %q", m.Text)
	}
	tr := p.Transcript(ada.PSID())
	var agent, take simulator.Step
	for _, st := range tr {
		switch {
		case st.Actor == inbox && st.Kind == simulator.StepSend:
			agent = st
		case st.Actor == bot && st.Kind == simulator.StepTake:
			take = st
		}
	}
	// The timeout counts from the echo's own timestamp, which Meta gives in milliseconds.
	if take.Seq < agent.Seq || take.Time.Sub(agent.Time.Truncate(time.Millisecond)) < idle {
		t.Fatalf("the take (%v) does not come a timeout after the agent's message (%v):\n%s", take.Time, agent.Time, tr)
	}
	// The bot is in charge again.
	must(t, ada.Say("hello?"))
	if m := waitSaid(t, p, ada.PSID(), bot, 4); plain(m) != v1alpha1.DefaultWelcomeText {
		t.Fatalf("the bot answered %q", m.Text)
	}
}
