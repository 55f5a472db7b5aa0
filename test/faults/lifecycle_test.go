package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// acceptedSenders returns the senders of the events in every delivery the webhook answered 200.
func acceptedSenders(t *testing.T, s *simulator.Simulator, p *pageSite) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, d := range s.Deliveries(p.AppName) {
		if !d.OK {
			continue
		}
		var body struct {
			Entry []struct {
				Messaging []struct {
					Sender  struct{ ID string } `json:"sender"`
					Message *struct {
						IsEcho bool `json:"is_echo"`
					} `json:"message"`
				} `json:"messaging"`
			} `json:"entry"`
		}
		rig.Must(t, json.Unmarshal(d.Body, &body))
		for _, e := range body.Entry {
			for _, ev := range e.Messaging {
				if ev.Message != nil && !ev.Message.IsEcho {
					out[ev.Sender.ID] = true
				}
			}
		}
	}
	return out
}

// TestSIGTERMInTheMiddleOfAStream: users keep writing while the webhook is told to stop and a
// new process takes over. Every event a webhook acknowledged with 200 is answered exactly once
// (the old process drains what it accepted; what it refused with 503 is redelivered by the
// platform to the new one, at once or at its later attempt), and the drain ends within its
// deadline.
func TestSIGTERMInTheMiddleOfAStream(t *testing.T) {
	p, plat, old := newServedSite(t, "faults-sigterm", "1000000000000105", "1517776481860105")
	// Slow sends keep replies in flight when SIGTERM comes.
	plat.graph.delay.Store(int64(150 * time.Millisecond))

	const users = 60
	psids := make([]string, users)
	var wg sync.WaitGroup
	var pendingAtStop int
	var took time.Duration
	var stopErr error
	stopped := make(chan struct{})
	for i := range users {
		psids[i] = fmt.Sprintf("2100000000000%03d", 500+i)
		if i == users/3 {
			// SIGTERM: count what was accepted and not yet answered, then stop.
			for psid := range acceptedSenders(t, plat.sim, p) {
				if rig.Replies(plat.sim, p.Page, psid) == 0 {
					pendingAtStop++
				}
			}
			go func() {
				defer close(stopped)
				took, stopErr = old.Stop()
			}()
		}
		if i == users/2 {
			<-stopped
			p.front.unpoint()
			next := startWebhook(t, p, nil, 10*time.Second)
			p.front.point(next.URL)
		}
		wg.Go(func() { _ = plat.sim.Customer(p.PageID, psids[i]).Say("hi") })
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()

	if stopErr != nil {
		t.Fatalf("Run of the stopped webhook: %v", stopErr)
	}
	if pendingAtStop == 0 {
		t.Fatal("no accepted event was waiting for its reply at SIGTERM: the test proves nothing")
	}
	if took >= old.DrainTimeout {
		t.Errorf("Run returned %v after SIGTERM, drain timeout %v", took, old.DrainTimeout)
	}
	if !strings.Contains(old.Logs.String(), `"webhook drained"`) || strings.Contains(old.Logs.String(), "drain deadline passed") {
		t.Error("the old webhook did not drain cleanly")
	}

	// What both processes refused during the switch waits for the platform's later attempt: move
	// the clock past it, so it reaches the new process.
	rig.Must(t, plat.sim.Advance(2*time.Minute))
	idle, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rig.Must(t, plat.sim.WaitIdle(idle))
	accepted := acceptedSenders(t, plat.sim, p)
	waitFor(t, plat.sim, "a reply to every accepted event", func() bool {
		for psid := range accepted {
			if rig.Replies(plat.sim, p.Page, psid) == 0 {
				return false
			}
		}
		return true
	})
	quiet(t, plat.sim)
	lost := 0
	for _, psid := range psids {
		n := rig.Replies(plat.sim, p.Page, psid)
		switch {
		case accepted[psid] && n != 1:
			t.Errorf("%s: accepted, %d replies (want exactly 1)", psid, n)
		case !accepted[psid]:
			lost++
			if n != 0 {
				t.Errorf("%s: never accepted, yet %d replies", psid, n)
			}
		}
	}
	t.Logf("%d users; %d accepted; %d replies in flight at SIGTERM; drain took %v of %v; %d never accepted",
		users, len(accepted), pendingAtStop, took, old.DrainTimeout, lost)
	if lost != 0 {
		t.Errorf("%d events never accepted: the platform's later attempt should have reached the new process", lost)
	}
}

// TestAPIServerOutage: while the API server cannot be reached the webhook stays ready and keeps
// answering with the last configuration it read; a condition change it saw meanwhile (a revoked token) is
// written once the API server is back, and so are the changes made during the outage read.
func TestAPIServerOutage(t *testing.T) {
	p := newPageSite(t, "faults-outage", "1000000000000106", "1517776481860106", "bot")
	plat := newPlatform(t, p)
	setupPage(t, p, plat.url)
	api, err := url.Parse(p.userCfg.Host)
	rig.Must(t, err)
	proxy, err := testenv.NewTCPProxy(api.Host)
	rig.Must(t, err)
	t.Cleanup(proxy.Close)
	viaProxy := rest.CopyConfig(p.userCfg)
	viaProxy.Host = "https://" + proxy.Addr()
	viaProxy.ServerName = api.Hostname()
	wh := startWebhook(t, p, viaProxy, 10*time.Second)
	p.front.point(wh.URL)

	lastText := func(psid string) string {
		msgs := plat.sim.Messages(p.PageID, psid)
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].From == p.AppName {
				return msgs[i].Text
			}
		}
		return ""
	}
	rig.Must(t, plat.sim.Customer(p.PageID, "2100000000000601").Say("hi"))
	waitFor(t, plat.sim, "the first reply", func() bool { return lastText("2100000000000601") == welcome })
	rig.WaitCondition(t, p.Key(), metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)

	// Outage. Meanwhile the policy changes on the API server.
	proxy.SetDown(true)
	rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: p.NS, Name: "support"}, func(h *v1alpha1.HandoverPolicy) {
		h.Spec.Welcome.Text = "Hello after the outage"
	})
	rig.Eventually(t, "the webhook to try to reach the API server", func() bool { return proxy.Refused() >= 2 })
	if code, _ := rig.Get(t, wh.ProbeURL+"/readyz"); code != 200 {
		t.Fatalf("readyz %d during the outage", code)
	}
	rig.Must(t, plat.sim.Customer(p.PageID, "2100000000000602").Say("hi"))
	waitFor(t, plat.sim, "a reply during the outage", func() bool { return lastText("2100000000000602") != "" })
	if got := lastText("2100000000000602"); got != welcome {
		t.Fatalf("reply %q during the outage, want the last configuration's %q", got, welcome)
	}

	// The token is revoked during the outage: the webhook sees it, cannot write it yet.
	rig.Must(t, plat.sim.RevokeToken(p.Token))
	rig.Must(t, plat.sim.Customer(p.PageID, "2100000000000603").Say("hi"))
	rig.Eventually(t, "the 190 to be seen", func() bool {
		return wh.Metric(t, "messenger_graph_calls_total", "result", "token_invalid") >= 1
	})

	// Back: the condition is written, and the policy edited meanwhile is applied.
	proxy.SetDown(false)
	rig.WaitCondition(t, p.Key(), metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	fresh, err := plat.sim.IssueToken(p.AppName, p.PageID)
	rig.Must(t, err)
	rig.UpdateSecret(t, p.NS, func(s *corev1.Secret) { s.Data["pageAccessToken"] = []byte(fresh) })
	i := 0
	// The informers' reconnect backoff may have grown during the outage: a longer deadline.
	rig.EventuallyWithin(t, 90*time.Second, "the policy edited during the outage", func() bool {
		i++
		psid := fmt.Sprintf("21000000000007%02d", i)
		_ = plat.sim.Customer(p.PageID, psid).Say("hi")
		return waitReply(plat.sim, p, psid) && lastText(psid) == "Hello after the outage"
	})
	rig.WaitCondition(t, p.Key(), metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
}
