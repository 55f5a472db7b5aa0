package e2e

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

const crm = "crm"

func withCRM(o *harness.PageOptions) {
	o.OtherApps = append(o.OtherApps, simulator.AppConfig{ID: "222222222222222", Name: crm, Secret: "crm-secret"})
}

// withRequests lets other apps request control on a Page with a default app, as the Handover
// Protocol's secondary receivers could; Conversation Routing accepts requests only in
// zero-config mode.
func withRequests(o *harness.PageOptions) {
	prev := o.Simulator
	o.Simulator = func(so *simulator.Options) {
		if prev != nil {
			prev(so)
		}
		so.Behaviour.RequestWithDefaultApp = true
	}
}

// request_thread_control from another app: with onRequest Pass the bot hands the thread over;
// with Ignore (a policy edit, live) it keeps it and keeps answering.
func TestRequestThreadControl(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{OnRequest: v1alpha1.RequestPass}, withCRM, withRequests)

	must(t, p.Customer(ada).Say("hi"))
	waitSaid(t, p, ada, bot, 1)
	must(t, p.Sim.App(crm).RequestControl(p.PageID, ada, "order 42"))
	waitOwner(t, p, ada, crm)
	if got := steps(p, ada, simulator.StepRequest, simulator.StepPass); !equal(got, []string{"crm request", "bot pass"}) {
		t.Fatalf("steps %q", got)
	}
	settle(t, p)
	wantBotSaid(t, p, ada, 1, v1alpha1.DefaultWelcomeText)

	applied, err := p.ConfigApplied(ctx(t))
	must(t, err)
	update(t, &v1alpha1.HandoverPolicy{}, keyOf(p, "support"), func(pol *v1alpha1.HandoverPolicy) {
		pol.Spec.OnRequest = v1alpha1.RequestIgnore
	})
	must(t, p.WaitConfigApplied(ctx(t), applied))

	const bob = "27458394012345603"
	must(t, p.Customer(bob).Say("hi"))
	waitSaid(t, p, bob, bot, 1)
	must(t, p.Sim.App(crm).RequestControl(p.PageID, bob, ""))
	settle(t, p)
	if o := p.Owner(bob); o != bot {
		t.Fatalf("owner %s after an ignored request", o)
	}
	must(t, p.Customer(bob).Say("still there?"))
	waitSaid(t, p, bob, bot, 2)
}

// Conversation Routing with our app as the default app but without the right to take control:
// the take-back is refused, the bot stays silent, the page says so; Done still works.
func TestRoutingDefaultAppWithoutTake(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{}, func(o *harness.PageOptions) { o.BotCannotTake = true })
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	waitSaid(t, p, ada.PSID(), bot, 1)
	must(t, ada.Tap(v1alpha1.PassToInboxTitle))
	waitOwner(t, p, ada.PSID(), inbox)
	waitSaid(t, p, ada.PSID(), bot, 2)

	must(t, ada.Tap(v1alpha1.TakeFromInboxTitle))
	wantTakeRefused(t, p, ada.PSID())
	wantBotSaid(t, p, ada.PSID(), 2, v1alpha1.DefaultHandoffText)

	must(t, p.Inbox().Done(ada.PSID()))
	waitOwner(t, p, ada.PSID(), bot)
	if m := waitSaid(t, p, ada.PSID(), bot, 3); plain(m) != v1alpha1.DefaultDoneText {
		t.Fatalf("after Done the bot said %q", m.Text)
	}
}

// Conversation Routing without a default app (zero-config): every app gets the messages, the bot
// answers an idle thread, passes to the inbox, cannot take back (refused), and answers again once
// the agent's Done released the thread.
func TestRoutingZeroConfig(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{}, func(o *harness.PageOptions) { o.ZeroConfig = true })
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	waitSaid(t, p, ada.PSID(), bot, 1)
	if o := p.Owner(ada.PSID()); o != "none" {
		t.Fatalf("owner %s of a zero-config thread nobody was passed", o)
	}
	must(t, ada.Tap(v1alpha1.PassToInboxTitle))
	waitOwner(t, p, ada.PSID(), inbox)
	waitSaid(t, p, ada.PSID(), bot, 2)

	must(t, ada.Tap(v1alpha1.TakeFromInboxTitle))
	wantTakeRefused(t, p, ada.PSID())

	must(t, p.Inbox().Done(ada.PSID())) // no app to return to: released, without a webhook
	waitOwner(t, p, ada.PSID(), "none")
	must(t, ada.Say("hello again"))
	if m := waitSaid(t, p, ada.PSID(), bot, 3); plain(m) != v1alpha1.DefaultWelcomeText {
		t.Fatalf("on the released thread the bot said %q", m.Text)
	}
}

// wantTakeRefused checks that a take was refused by the platform, that the inbox kept the
// thread, and that the page reports HandoverPermitted=False.
func wantTakeRefused(t *testing.T, p *harness.Page, psid string) {
	t.Helper()
	cond, err := p.WaitCondition(ctx(t), v1alpha1.ConditionHandoverPermitted, metav1.ConditionFalse, v1alpha1.ReasonTakeRefused)
	must(t, err)
	if !strings.Contains(cond.Message, "take_thread_control") {
		t.Errorf("HandoverPermitted message %q", cond.Message)
	}
	settle(t, p)
	refused := p.Transcript(psid).Kinds(simulator.StepRefused)
	if len(refused) != 1 || refused[0].Actor != bot || !strings.HasPrefix(refused[0].Text, "take_thread_control refused") {
		t.Fatalf("refused steps %+v", refused)
	}
	if o := p.Owner(psid); o != inbox {
		t.Fatalf("owner %s after a refused take", o)
	}
}
