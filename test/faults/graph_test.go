package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// TestGraphErrorsDeliverEveryReplyOnce: 5xx bursts, transient codes and every rate-limit code
// (4, 17, 32, 613) on the Send API; every event the webhook accepted gets
// its reply exactly once (the simulator keeps each accepted message once).
func TestGraphErrorsDeliverEveryReplyOnce(t *testing.T) {
	p, plat, wh := newServedSite(t, "faults-burst", "1000000000000101", "1517776481860101")

	faults := []simulator.Fault{
		{Endpoint: simulator.EndpointMessages, Status: 502, Times: 4},
		{Endpoint: simulator.EndpointMessages, Status: 500, Times: 2},
		{Endpoint: simulator.EndpointMessages, Code: 2, Times: 2},
		{Endpoint: simulator.EndpointMessages, Code: 4, Times: 2},
		{Endpoint: simulator.EndpointMessages, Code: 17, Times: 2},
		{Endpoint: simulator.EndpointMessages, Code: 32, Times: 2},
		{Endpoint: simulator.EndpointMessages, Code: 613, Times: 2},
	}
	armed := 0
	for _, f := range faults {
		rig.Must(t, plat.sim.InjectFault(f))
		armed += f.Times
	}

	// A stream of users writing at once while the faults are armed.
	const users = 12
	var wg sync.WaitGroup
	psids := make([]string, users)
	for i := range users {
		psids[i] = fmt.Sprintf("2100000000000%03d", i)
		wg.Go(func() {
			if err := plat.sim.Customer(p.PageID, psids[i]).Say("hi"); err != nil {
				t.Errorf("customer %s: %v", psids[i], err)
			}
		})
	}
	wg.Wait()
	assertAccepted(t, plat.sim, p, users)

	waitFor(t, plat.sim, "a reply to every user", func() bool {
		for _, psid := range psids {
			if rig.Replies(plat.sim, p.Page, psid) < 1 {
				return false
			}
		}
		return true
	})
	quiet(t, plat.sim)
	for _, psid := range psids {
		if n := rig.Replies(plat.sim, p.Page, psid); n != 1 {
			t.Errorf("%s got %d replies, want exactly 1\n%s", psid, n, plat.sim.Transcript())
		}
	}
	faulted := 0
	for _, c := range plat.sim.CallLog() {
		if c.Fault {
			faulted++
		}
	}
	if faulted != armed {
		t.Errorf("%d calls answered by a fault, %d armed: the test did not exercise them all", faulted, armed)
	}
	if got := wh.Metric(t, "messenger_webhook_retries_total"); got < float64(armed) {
		t.Errorf("retries_total = %v, want at least %d", got, armed)
	}
	if got := wh.Metric(t, "messenger_webhook_dead_letters_total"); got != 0 {
		t.Errorf("dead letters: %v", got)
	}
	for _, class := range []string{"transient", "throttled"} {
		if wh.Metric(t, "messenger_graph_calls_total", "result", class) == 0 {
			t.Errorf("no Graph call counted as %s", class)
		}
	}
}

// assertAccepted checks that the simulator's deliveries to the page's app were all acknowledged
// with 200 and carried n events.
func assertAccepted(t *testing.T, s *simulator.Simulator, p *pageSite, n int) {
	t.Helper()
	events := 0
	for _, d := range s.Deliveries(p.AppName) {
		if !d.OK {
			t.Errorf("delivery answered %d (%s)", d.Status, d.Err)
		}
		if d.Attempt == 1 && d.OK {
			events += d.Events
		}
	}
	if events < n {
		t.Fatalf("%d events accepted, want %d", events, n)
	}
}

// TestTimeoutAfterSendingIsNotRepeated: a Send API call that took effect but whose answer never
// came is not repeated (at most once: the webhook cannot know whether it was sent, and a
// duplicate is worse than a loss for a chat message). The user's next message is answered.
func TestTimeoutAfterSendingIsNotRepeated(t *testing.T) {
	p, plat, wh := newServedSite(t, "faults-timeout", "1000000000000102", "1517776481860102")

	const psid = "2100000000000201"
	rig.Must(t, plat.sim.InjectFault(simulator.Fault{Endpoint: simulator.EndpointMessages, AfterEffect: true}))
	rig.Must(t, plat.sim.Customer(p.PageID, psid).Say("hi"))
	rig.Eventually(t, "the held call to be cut", func() bool { return plat.graph.cut.Load() == 1 })
	quiet(t, plat.sim)
	if n := rig.Replies(plat.sim, p.Page, psid); n != 1 {
		t.Fatalf("%d replies after a timeout after sending, want exactly 1 (sent once, never repeated)\n%s", n, plat.sim.Transcript())
	}
	if n := plat.sim.Calls(simulator.EndpointMessages); n != 1 {
		t.Errorf("%d Send API calls, want 1", n)
	}
	if got := wh.Metric(t, "messenger_graph_calls_total", "endpoint", "messages", "result", "ambiguous"); got != 1 {
		t.Errorf("ambiguous sends counted: %v", got)
	}
	if got := wh.Metric(t, "messenger_webhook_retries_total"); got != 0 {
		t.Errorf("retries after an ambiguous send: %v", got)
	}

	// The user's queue is not stuck: the next message is answered, once.
	rig.Must(t, plat.sim.Customer(p.PageID, psid).Say("still there?"))
	waitFor(t, plat.sim, "the second reply", func() bool { return rig.Replies(plat.sim, p.Page, psid) == 2 })
	quiet(t, plat.sim)
	if n := rig.Replies(plat.sim, p.Page, psid); n != 2 {
		t.Errorf("%d replies, want 2", n)
	}
}

// TestRevokedToken: a revoked page token (190) turns GraphAuthorized False with a message that
// says what to do and no secret, the webhook's metrics count it, a second page on its own
// webhook keeps working, and a good token in the Secret brings the page back.
func TestRevokedToken(t *testing.T) {
	a := newPageSite(t, "faults-revoke-a", "1000000000000103", "1517776481860103", "bot-a")
	b := newPageSite(t, "faults-revoke-b", "1000000000000104", "1517776481860104", "bot-b")
	plat := newPlatform(t, a, b)
	setupPage(t, a, plat.url)
	setupPage(t, b, plat.url)
	wa := startWebhook(t, a, nil, 10*time.Second)
	a.front.point(wa.URL)
	wb := startWebhook(t, b, nil, 10*time.Second)
	b.front.point(wb.URL)

	say := func(p *pageSite, psid string) {
		t.Helper()
		rig.Must(t, plat.sim.Customer(p.PageID, psid).Say("hi"))
	}
	say(a, "2100000000000301")
	say(b, "2100000000000401")
	waitFor(t, plat.sim, "both pages to answer", func() bool {
		return rig.Replies(plat.sim, a.Page, "2100000000000301") == 1 && rig.Replies(plat.sim, b.Page, "2100000000000401") == 1
	})
	rig.WaitCondition(t, a.Key(), metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)

	rig.Must(t, plat.sim.RevokeToken(a.Token))
	say(a, "2100000000000302")
	cond := rig.WaitCondition(t, a.Key(), metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	for _, want := range []string{"190", "page access token", "Secret"} {
		if !strings.Contains(cond.Message, want) {
			t.Errorf("condition message %q does not say %q", cond.Message, want)
		}
	}
	if strings.Contains(cond.Message, a.Token) {
		t.Error("the token is in the condition")
	}
	if got := wa.Metric(t, "messenger_graph_calls_total", "result", "token_invalid"); got < 1 {
		t.Errorf("token_invalid calls counted: %v", got)
	}
	if got := wa.Metric(t, "messenger_webhook_retries_total"); got != 0 {
		t.Errorf("a 190 was retried (%v times)", got)
	}
	if n := rig.Replies(plat.sim, a.Page, "2100000000000302"); n != 0 {
		t.Errorf("a reply with a revoked token: %d", n)
	}

	// The other page is unaffected.
	say(b, "2100000000000402")
	waitFor(t, plat.sim, "page B's reply", func() bool { return rig.Replies(plat.sim, b.Page, "2100000000000402") == 1 })
	if c := rig.WaitCondition(t, b.Key(), metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized); c.Status != metav1.ConditionTrue {
		t.Errorf("page B: %+v", c)
	}

	// A good token in the Secret: page A answers again and is authorized.
	fresh, err := plat.sim.IssueToken(a.AppName, a.PageID)
	rig.Must(t, err)
	rig.UpdateSecret(t, a.NS, func(s *corev1.Secret) { s.Data["pageAccessToken"] = []byte(fresh) })
	psid := "2100000000000303"
	i := 0
	rig.Eventually(t, "page A to answer with the new token", func() bool {
		i++
		p := fmt.Sprintf("%s%d", psid, i) // a new user each time: the Secret is applied asynchronously
		_ = plat.sim.Customer(a.PageID, p).Say("hi")
		return waitReply(plat.sim, a, p)
	})
	rig.WaitCondition(t, a.Key(), metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	for _, s := range []string{a.Token, fresh, a.AppSecret, a.VerifyToken} {
		if strings.Contains(wa.Logs.String(), s) {
			t.Errorf("a secret reached page A's logs")
		}
	}
}

// waitReply gives one reply a moment to arrive (the webhook answers after acknowledging).
func waitReply(s *simulator.Simulator, p *pageSite, psid string) bool {
	for range 50 {
		if rig.Replies(s, p.Page, psid) > 0 {
			return true
		}
		if n := len(s.Messages(p.PageID, psid)); n == 0 {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
