package handover

import (
	"testing"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

var sink Decision

// A plain text message on messaging: Welcome, with the tutorial's policy.
func BenchmarkDecideText(b *testing.B) {
	p := page(b, nil)
	ev := text(Messaging, "Hello, what are your opening hours today?")
	th := Thread{Owner: OwnerUs}
	b.ReportAllocs()
	for b.Loop() {
		sink = Decide(p, ev, th, t0)
	}
}

// "Pass to Inbox": the handoff message, then the pass, with business hours checked.
func BenchmarkDecideHandover(b *testing.B) {
	p := page(b, businessSpec(v1alpha1.OutsideBotOnly))
	ev := quick(Messaging, "Pass to Inbox", v1alpha1.PassToInboxPayload)
	th := Thread{Owner: OwnerUs}
	b.ReportAllocs()
	for b.Loop() {
		sink = Decide(p, ev, th, t0)
	}
}

// A batch of 50 mixed events, as one busy POST may bring, against a policy with keywords,
// patterns and business hours; each event on its own thread state.
func BenchmarkDecideBatch50(b *testing.B) {
	spec := businessSpec(v1alpha1.OutsidePassAnyway)
	spec.Handoff.Triggers.Keywords = append(spec.Handoff.Triggers.Keywords,
		"human", "talk to a person", "customer service", "complaint", "refund", "manager", "représentant", "operator")
	spec.TakeBack.Triggers = v1alpha1.Triggers{QuickReplyPayloads: []string{"take_from_inbox"}, Keywords: []string{"bot please"}}
	p := page(b, spec)
	us := Thread{Owner: OwnerUs}
	away := Thread{Owner: OwnerOther, OwnerAppID: inbox, PassedAt: t0, AgentActive: true, LastAgentAt: t0}
	type item struct {
		ev Event
		th Thread
	}
	kinds := []item{
		{text(Messaging, "Hello, what are your opening hours today?"), us},
		{text(Messaging, "I would like to talk to a person about my order #1234, please."), us},
		{text(Messaging, "Do you ship to Zürich? Merci beaucoup 🙂"), us},
		{quick(Messaging, "Pass to Inbox", v1alpha1.PassToInboxPayload), us},
		{postback(Messaging, "Get Started", "GET_STARTED"), us},
		{echo(testApp), us},
		{echo(inbox), away},
		{text(Standby, "Is anyone there?"), away},
		{quick(Standby, "Take From Inbox", ""), away},
		{Event{Kind: KindOther, Channel: Messaging, PageID: testPage, PSID: testPSID}, us},
	}
	batch := make([]item, 0, 50)
	for i := 0; len(batch) < 50; i++ {
		batch = append(batch, kinds[i%len(kinds)])
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			sink = Decide(p, batch[i].ev, batch[i].th, t0)
		}
	}
}

func BenchmarkKeywords(b *testing.B) {
	ks := keywords(b, "agent", "human", "talk to a person", "customer service", "complaint", "refund", "manager", "représentant")
	txt := "Hello, I ordered a jacket last week and it still has not arrived; could someone from Customer  Service look into it?"
	b.ReportAllocs()
	for b.Loop() {
		if !ks.match(txt) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkRender(b *testing.B) {
	p := page(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = Render(p.Policy.welcome, "Zoë", bizName)
	}
}
