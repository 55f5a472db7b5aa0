package faults

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// The webhook process (Run, cluster mode) follows the simulator's clock with the test-only Clock
// option: two simulated hours after the pass, the agent idle timeout takes the conversation back
// without the test waiting for them.
func TestWebhookFollowsTheSimulatorsClock(t *testing.T) {
	p := newPageSite(t, "clock", "1000000000000031", "1517776481860131", "bot")
	plat := newPlatform(t, p)
	setupPage(t, p, plat.url)
	rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: p.NS, Name: rig.PolicyName}, func(pol *v1alpha1.HandoverPolicy) {
		pol.Spec.Welcome.QuickReplies = []v1alpha1.QuickReply{{Title: v1alpha1.PassToInboxTitle, Payload: v1alpha1.PassToInboxPayload}}
		pol.Spec.AgentIdleTimeout = &metav1.Duration{Duration: 2 * time.Hour}
	})
	wh := rig.StartReady(t, webhook.Options{Page: p.Key(), RESTConfig: p.userCfg, DrainTimeout: 10 * time.Second,
		StatusRetryBase: 50 * time.Millisecond, Clock: &rig.SimClock{Sim: plat.sim}})
	p.front.point(wh.URL)

	const psid = "2000000000000031"
	c := plat.sim.Customer(p.PageID, psid)
	rig.Must(t, c.Say("Hello"))
	waitFor(t, plat.sim, "the welcome", func() bool { return rig.Replies(plat.sim, p.Page, psid) == 1 })
	rig.Must(t, c.Tap(v1alpha1.PassToInboxTitle))
	waitFor(t, plat.sim, "the pass", func() bool { return plat.sim.Owner(p.PageID, psid) == simulator.InboxName })

	rig.Must(t, plat.sim.Advance(2*time.Hour+time.Minute))
	waitFor(t, plat.sim, "the take-back", func() bool { return plat.sim.Owner(p.PageID, psid) == "bot" })
	waitFor(t, plat.sim, "the take-back message", func() bool { return rig.Replies(plat.sim, p.Page, psid) == 3 })
}
