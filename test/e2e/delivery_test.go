package e2e

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// Meta redelivers a POST whose answer it did not get: the webhook handled it already and answers
// the user once.
func TestRedeliveredEventAnsweredOnce(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	p.LoseAnswers(1)
	must(t, p.Customer(ada).Say("hi"))
	waitSaid(t, p, ada, bot, 1)
	settle(t, p)

	ds := p.Sim.Deliveries(bot)
	if len(ds) < 2 || ds[0].OK || ds[1].Attempt != 2 || !ds[1].OK || !bytes.Equal(ds[0].Body, ds[1].Body) {
		t.Fatalf("want a lost answer then a redelivery of the same body: %+v", summary(ds))
	}
	wantBotSaid(t, p, ada, 1, v1alpha1.DefaultWelcomeText)
}

// One POST carrying several users' messages: each user gets exactly one answer.
func TestBatchWithSeveralUsers(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	const users = 6
	p.Sim.Hold()
	for i := range users {
		must(t, p.Customer(psidOf(i)).Say(fmt.Sprintf("hello from %d", i)))
	}
	p.Sim.Flush()
	for i := range users {
		waitSaid(t, p, psidOf(i), bot, 1)
	}
	settle(t, p)
	for i := range users {
		wantBotSaid(t, p, psidOf(i), 1, v1alpha1.DefaultWelcomeText)
	}
	ds := p.Sim.Deliveries(bot)
	if len(ds) == 0 || ds[0].Events != users || !ds[0].OK {
		t.Fatalf("want one POST with %d events first: %+v", users, summary(ds))
	}
}

func psidOf(i int) string { return fmt.Sprintf("274583940123457%02d", i) }

func summary(ds []simulator.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("attempt %d: status %d ok=%v events=%d %s", d.Attempt, d.Status, d.OK, d.Events, d.Err))
	}
	return out
}
