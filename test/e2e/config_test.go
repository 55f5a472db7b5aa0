package e2e

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

// A policy edit in the middle of a conversation applies to the next message, without a restart.
func TestPolicyEditTakesEffectOnTheNextMessage(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Hello from v1"}})
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	if m := waitSaid(t, p, ada.PSID(), bot, 1); m.Text != "Hello from v1" {
		t.Fatalf("first answer %q", m.Text)
	}

	applied, err := p.ConfigApplied(ctx(t))
	must(t, err)
	update(t, &v1alpha1.HandoverPolicy{}, keyOf(p, "support"), func(pol *v1alpha1.HandoverPolicy) {
		pol.Spec.Welcome = v1alpha1.Message{Text: "Hello from v2, {{first_name}}"}
		pol.Spec.Handoff.Triggers.Keywords = []string{"help"}
	})
	must(t, p.WaitConfigApplied(ctx(t), applied))

	must(t, ada.Say("hi again"))
	if m := waitSaid(t, p, ada.PSID(), bot, 2); m.Text != "Hello from v2, Ada" {
		t.Fatalf("answer after the edit %q", m.Text)
	}
	must(t, ada.Say("I need help"))
	waitOwner(t, p, ada.PSID(), inbox)
}

// Rotating the page access token and the app secret in the Secret: the webhook follows both
// without a restart and the conversation goes on; the old token is revoked afterwards.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	waitSaid(t, p, ada.PSID(), bot, 1)

	// A new page token: put it in the Secret, wait for the webhook to use it, revoke the old:
	// the next answer can only go out with the new one.
	token, err := p.Sim.IssueToken(bot, p.PageID)
	must(t, err)
	rotate(t, p, "pageAccessToken", token)
	must(t, p.Sim.RevokeToken(p.PageToken))
	must(t, ada.Say("still there?"))
	waitSaid(t, p, ada.PSID(), bot, 2)

	// A new app secret: Meta signs with it as soon as it is reset, so the Secret goes first.
	const secret = "a-rotated-app-secret-0123456789"
	rotate(t, p, "appSecret", secret)
	must(t, p.Sim.SetAppSecret(bot, secret))
	must(t, ada.Say("and now?"))
	waitSaid(t, p, ada.PSID(), bot, 3)
	settle(t, p)
	for _, d := range p.Sim.Deliveries(bot) {
		if !d.OK {
			t.Errorf("a delivery was refused (status %d): the webhook did not follow the rotation", d.Status)
		}
	}
	for _, c := range p.Sim.CallLog() {
		// The operator's token check (debug_token, with the app token) may fall between the
		// Secret's new app secret and Meta's reset, as a rotation must; it says CheckFailed and
		// asks again. The webhook's calls must all go through.
		if c.Code != 0 && c.Endpoint != simulator.EndpointDebugToken {
			t.Errorf("Graph call %s answered code %d", c.Endpoint, c.Code)
		}
	}
	out := p.Webhook.Output()
	for _, s := range []string{p.PageToken, token, p.AppSecret, secret} {
		if strings.Contains(out, s) {
			t.Error("a credential reached the webhook's logs")
		}
	}
	if refused := p.Transcript(ada.PSID()).Kinds(simulator.StepRefused); len(refused) > 0 {
		t.Fatalf("refused: %s", refused)
	}
}

// rotate writes key=value into the page's Secret and waits for the webhook to apply it.
func rotate(t *testing.T, p *harness.Page, key, value string) {
	t.Helper()
	applied, err := p.ConfigApplied(ctx(t))
	must(t, err)
	update(t, &corev1.Secret{}, keyOf(p, "shop-credentials"), func(s *corev1.Secret) {
		s.Data[key] = []byte(value)
	})
	must(t, p.WaitConfigApplied(ctx(t), applied))
}

// The page's status follows the Graph API: a revoked token makes GraphAuthorized and Ready false
// (without the token in the message); a fresh token in the Secret makes them true again.
func TestStatusFollowsTheGraphAPI(t *testing.T) {
	t.Parallel()
	p := pageFixture(t, v1alpha1.HandoverPolicySpec{})
	c := ctx(t)
	_, err := p.WaitCondition(c, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonAvailable)
	must(t, err)
	ada := p.Customer(ada)
	must(t, ada.Say("hi"))
	waitSaid(t, p, ada.PSID(), bot, 1)
	_, err = p.WaitCondition(c, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	must(t, err)

	_, err = p.Sim.RevokeTokens(bot, p.PageID)
	must(t, err)
	must(t, ada.Say("hello?"))
	cond, err := p.WaitCondition(c, v1alpha1.ConditionGraphAuthorized, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	must(t, err)
	ready, err := p.WaitCondition(c, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	must(t, err)
	for _, m := range []string{cond.Message, ready.Message} {
		if !strings.Contains(m, "190") || strings.Contains(m, p.PageToken) {
			t.Errorf("condition message %q: want the Graph code and no token", m)
		}
	}
	settle(t, p)
	wantBotSaid(t, p, ada.PSID(), 1, v1alpha1.DefaultWelcomeText)

	token, err := p.Sim.IssueToken(bot, p.PageID)
	must(t, err)
	rotate(t, p, "pageAccessToken", token)
	must(t, ada.Say("and now?"))
	waitSaid(t, p, ada.PSID(), bot, 2)
	_, err = p.WaitCondition(c, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	must(t, err)
	_, err = p.WaitCondition(c, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonAvailable)
	must(t, err)
}
