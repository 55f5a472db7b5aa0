package runner_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

func TestTextEventGetsOneReply(t *testing.T) {
	h := newHarness(t)
	if got := h.Post(pageBody(textEvent("2000000000000042", "m_a", 1700000000000))); got != 200 {
		t.Fatalf("status %d", got)
	}
	h.Drain()
	calls := h.Graph.All()
	if len(calls) != 1 {
		t.Fatalf("%d Graph calls, want 1: %+v", len(calls), calls)
	}
	c := calls[0]
	if c.Method != "POST" || c.Endpoint != "messages" || c.PSID != "2000000000000042" || c.Token != testPageToken {
		t.Errorf("call %+v", c)
	}
	// The token in the Authorization header only; the app secret's proof with the call.
	if strings.Contains(c.URL, testPageToken) || c.Proof != proofOf(testPageToken, testSecret) {
		t.Errorf("call URL %q, appsecret_proof %q", c.URL, c.Proof)
	}
	if c.Body["messaging_type"] != "RESPONSE" {
		t.Errorf("body %v", c.Body)
	}
	if msg, _ := c.Body["message"].(map[string]any); msg["text"] != "reply to m_a" {
		t.Errorf("message %v", c.Body["message"])
	}
	if r := h.Engine.Outcomes(); len(r) != 1 || !r[0].OK {
		t.Errorf("outcomes %+v", r)
	}
}

func TestDedup(t *testing.T) {
	h := newHarness(t)
	ev := textEvent("2001", "m_dup", 1700000000000)
	for range 3 {
		if got := h.Post(pageBody(ev)); got != 200 {
			t.Fatalf("status %d", got)
		}
	}
	h.Post(pageBody(ev, ev)) // twice in one POST
	take := `{"sender":{"id":"2002"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000001,"take_thread_control":{"previous_owner_app_id":"1","new_owner_app_id":"2"}}`
	h.Post(pageBody(take))
	h.Post(pageBody(take))
	h.Drain()
	if n := h.Graph.Count("messages"); n != 1 {
		t.Errorf("%d replies to one mid, want 1", n)
	}
	if n := len(h.Engine.Events()); n != 2 {
		t.Errorf("the engine saw %d events, want 2 (one message, one take)", n)
	}
	if d := h.Counter("messenger_webhook_ignored_events_total", "reason", "duplicate"); d != 5 {
		t.Errorf("duplicates counted %v, want 5", d)
	}
}

// Many users at once: each user's events reach the engine one at a time, in order, while users
// run in parallel.
func TestPerUserOrderUnderConcurrency(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.Workers = 16 })
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		return false
	})
	var mu sync.Mutex
	inflight := map[string]int{}
	var overlap atomic.Int32
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		mu.Lock()
		inflight[ev.PSID]++
		if inflight[ev.PSID] > 1 {
			overlap.Add(1)
		}
		mu.Unlock()
		return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID, Message: &handover.OutMessage{Text: ev.MID}}}}
	}
	h.Engine.OnOutcome = func(th handover.Thread, r handover.Result) handover.Decision {
		mu.Lock()
		inflight[r.Action.PSID]--
		mu.Unlock()
		return handover.Decision{Thread: th}
	}
	const users, perUser = 40, 15
	var wg sync.WaitGroup
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			psid := fmt.Sprint(3000 + u)
			for i := 0; i < perUser; {
				// Sometimes two events in one POST, given in reverse order.
				if i+1 < perUser && rand.IntN(3) == 0 {
					a := textEvent(psid, fmt.Sprintf("m_%s_%02d", psid, i), 1700000000000+int64(i))
					b := textEvent(psid, fmt.Sprintf("m_%s_%02d", psid, i+1), 1700000000000+int64(i+1))
					if got := h.Post(pageBody(b, a)); got != 200 {
						t.Errorf("status %d", got)
					}
					i += 2
					continue
				}
				if got := h.Post(pageBody(textEvent(psid, fmt.Sprintf("m_%s_%02d", psid, i), 1700000000000+int64(i)))); got != 200 {
					t.Errorf("status %d", got)
				}
				i++
			}
		}()
	}
	wg.Wait()
	h.Drain()
	if overlap.Load() != 0 {
		t.Errorf("%d times a user's event started while another of theirs was in progress", overlap.Load())
	}
	per := map[string][]string{}
	for _, ev := range h.Engine.Events() {
		per[ev.PSID] = append(per[ev.PSID], ev.MID)
	}
	if len(per) != users {
		t.Fatalf("%d users seen", len(per))
	}
	for psid, mids := range per {
		if len(mids) != perUser {
			t.Errorf("%s: %d events", psid, len(mids))
		}
		for i, m := range mids {
			if want := fmt.Sprintf("m_%s_%02d", psid, i); m != want {
				t.Errorf("%s: event %d is %s, want %s (order %v)", psid, i, m, want, mids)
				break
			}
		}
	}
	if n := h.Graph.Count("messages"); n != users*perUser {
		t.Errorf("%d sends, want %d", n, users*perUser)
	}
}

func TestRetryUntilSuccessExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name, status, body string
	}{
		{"500 code 2", "500", `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","code":2,"is_transient":true}}`},
		{"503 no body", "503", ``},
		{"page rate limit 32", "400", `{"error":{"code":32}}`},
		{"user rate limit 17", "400", `{"error":{"code":17}}`},
		{"app rate limit 4", "400", `{"error":{"code":4}}`},
		{"613", "400", `{"error":{"code":613}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
				if c.Endpoint == "messages" && n < 3 {
					var st int
					_, _ = fmt.Sscan(tc.status, &st)
					return webhooktest.Answer(w, st, tc.body)
				}
				return false
			})
			h.Post(pageBody(textEvent("2100", "m_r", 1700000000000)))
			h.Drain()
			if n := h.Graph.Count("messages"); n != 4 {
				t.Errorf("%d send attempts, want 4 (3 failures, 1 success)", n)
			}
			res := h.Engine.Outcomes()
			if len(res) != 1 || !res[0].OK {
				t.Errorf("outcomes %+v: want one success", res)
			}
			if r := h.Counter("messenger_webhook_retries_total", "endpoint", "messages"); r != 3 {
				t.Errorf("retries %v", r)
			}
			if d := h.Counter("messenger_webhook_dead_letters_total"); d != 0 {
				t.Errorf("dead letters %v", d)
			}
		})
	}
}

// refuseFirst fails the first n dials: the request certainly never left.
type refuseFirst struct {
	n  atomic.Int32
	rt http.RoundTripper
}

func (r *refuseFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	}
	return r.rt.RoundTrip(req)
}

func TestRetryAfterConnectionRefused(t *testing.T) {
	rt := &refuseFirst{rt: http.DefaultTransport}
	rt.n.Store(2)
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.GraphTransport = rt })
	h.Post(pageBody(textEvent("2101", "m_cr", 1700000000000)))
	h.Drain()
	if n := h.Graph.Count("messages"); n != 1 {
		t.Errorf("%d sends reached Graph, want 1", n)
	}
	if res := h.Engine.Outcomes(); len(res) != 1 || !res[0].OK {
		t.Errorf("outcomes %+v", res)
	}
	if r := h.Counter("messenger_webhook_retries_total"); r != 2 {
		t.Errorf("retries %v, want 2", r)
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		failure handover.Failure
	}{
		{"190", `{"error":{"message":"Error validating access token: the token ` + testPageToken + ` expired","type":"OAuthException","code":190,"error_subcode":463}}`, handover.FailTokenInvalid},
		{"551", `{"error":{"message":"This person isn't available right now.","code":551,"error_subcode":1545041}}`, handover.FailUnreachable},
		{"2018278", `{"error":{"message":"outside of allowed window","code":10,"error_subcode":2018278}}`, handover.FailOutsideWindow},
		{"2018300", `{"error":{"message":"(#10) another app is controlling this thread now.","code":10,"error_subcode":2018300}}`, handover.FailNotOwner},
		{"proof", `{"error":{"message":"API calls from the server require an appsecret_proof argument","type":"GraphMethodException","code":100}}`, handover.FailNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
				return c.Endpoint == "messages" && webhooktest.Answer(w, 400, tc.body)
			})
			h.Post(pageBody(textEvent("2200", "m_p", 1700000000000)))
			h.Drain()
			if n := h.Graph.Count("messages"); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
			res := h.Engine.Outcomes()
			if len(res) != 1 || res[0].OK || res[0].Failure != tc.failure {
				t.Errorf("outcomes %+v", res)
			}
			if r := h.Counter("messenger_webhook_retries_total"); r != 0 {
				t.Errorf("retries %v", r)
			}
		})
	}
}

func TestGraphAuthorizedReported(t *testing.T) {
	h := newHarness(t)
	var expired atomic.Bool
	expired.Store(true)
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		return expired.Load() && webhooktest.Answer(w, 400, `{"error":{"message":"Invalid OAuth access token `+testPageToken+`","type":"OAuthException","code":190}}`)
	})
	h.Post(pageBody(textEvent("2300", "m_1", 1700000000000)))
	h.Post(pageBody(textEvent("2300", "m_2", 1700000000001)))
	h.Drain()
	eventually(t, "GraphAuthorized=false", func() bool { a, _ := h.Reporter.Get(); return len(a) == 1 })
	expired.Store(false)
	h.Post(pageBody(textEvent("2300", "m_3", 1700000000002)))
	h.Post(pageBody(textEvent("2300", "m_4", 1700000000003)))
	h.Drain()
	eventually(t, "GraphAuthorized=true", func() bool { a, _ := h.Reporter.Get(); return len(a) == 2 })
	time.Sleep(20 * time.Millisecond) // let a (wrong) third report show up
	auth, _ := h.Reporter.Get()
	if len(auth) != 2 || !strings.HasPrefix(auth[0], "false: ") || !strings.Contains(auth[0], "190") || !strings.HasPrefix(auth[1], "true: ") {
		t.Fatalf("reports %q: want false (once) then true (once)", auth)
	}
	if strings.Contains(strings.Join(auth, " "), testPageToken) {
		t.Error("token in the condition message")
	}
}

// A refusal of the app, not the token, turns GraphAuthorized false too, saying why (#20).
func TestGraphNotAuthorizedReported(t *testing.T) {
	for name, body := range map[string]string{
		"proof missing": `{"error":{"message":"API calls from the server require an appsecret_proof argument","type":"GraphMethodException","code":100,"fbtrace_id":"A1"}}`,
		"proof wrong":   `{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException","code":100,"fbtrace_id":"A2"}}`,
		"permission":    `{"error":{"message":"(#200) Requires pages_messaging permission to manage the object","type":"OAuthException","code":200,"error_subcode":2018028}}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
				return webhooktest.Answer(w, 400, body)
			})
			h.Post(pageBody(textEvent("2350", "m_1", 1700000000000)))
			h.Drain()
			eventually(t, "GraphAuthorized=false", func() bool { a, _ := h.Reporter.Get(); return len(a) == 1 })
			auth, _ := h.Reporter.Get()
			if !strings.HasPrefix(auth[0], "false: ") || !strings.Contains(auth[0], "appsecret_proof") {
				t.Fatalf("report %q", auth[0])
			}
			if n := h.Graph.Count("messages"); n != 1 {
				t.Errorf("%d attempts: a refusal of the app is not retried", n)
			}
		})
	}
}

func TestAmbiguousTimeoutIsNotRetried(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.GraphTimeout = 100 * time.Millisecond })
	release := make(chan struct{})
	defer close(release)
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		if c.Endpoint == "messages" {
			<-release
			return true
		}
		return false
	})
	h.Post(pageBody(textEvent("2400", "m_t", 1700000000000)))
	h.Drain()
	if n := h.Graph.Count("messages"); n != 1 {
		t.Errorf("%d attempts, want exactly 1 (at most once)", n)
	}
	res := h.Engine.Outcomes()
	if len(res) != 1 || res[0].OK || res[0].Failure != handover.FailAmbiguous {
		t.Errorf("outcomes %+v", res)
	}
	if r := h.Counter("messenger_webhook_retries_total"); r != 0 {
		t.Errorf("retries %v", r)
	}
	if n := h.Counter("messenger_graph_calls_total", "endpoint", "messages", "result", "ambiguous"); n != 1 {
		t.Errorf("ambiguous calls counted %v", n)
	}
}

func TestDeadLetterAfterRetryWindow(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.RetryWindow = 150 * time.Millisecond })
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		return webhooktest.Answer(w, 500, `{"error":{"code":1,"message":"An unknown error occurred"}}`)
	})
	var errorSends atomic.Int32
	h.Engine.OnOutcome = func(th handover.Thread, r handover.Result) handover.Decision {
		if r.Failure == handover.FailInternal && r.Action.Reason != "error" {
			errorSends.Add(1)
			return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: r.Action.PSID, Reason: "error", Message: &handover.OutMessage{Text: "sorry"}}}}
		}
		return handover.Decision{Thread: th}
	}
	h.Post(pageBody(textEvent("2500", "m_d", 1700000000000)))
	h.Drain()
	if d := h.Counter("messenger_webhook_dead_letters_total", "endpoint", "messages"); d != 2 {
		t.Errorf("dead letters %v, want 2 (the reply, then the error message)", d)
	}
	res := h.Engine.Outcomes()
	if len(res) != 2 || res[0].Failure != handover.FailInternal || res[0].OK {
		t.Errorf("outcomes %+v", res)
	}
	if n := h.Graph.Count("messages"); n < 3 {
		t.Errorf("only %d attempts in the window", n)
	}
	if errorSends.Load() != 1 {
		t.Errorf("engine follow-up ran %d times", errorSends.Load())
	}
	if !strings.Contains(h.Logs.String(), "dead letter") {
		t.Error("dead letter not logged")
	}
}

func TestThenRunsOnlyAfterSuccessAndTakeRefusal(t *testing.T) {
	h := newHarness(t)
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		return handover.Decision{Thread: th, Actions: []handover.Action{{
			Kind: handover.ActTake, PSID: ev.PSID, Metadata: "back", Reason: "take_back",
			Then: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID, Reason: "take_back", Message: &handover.OutMessage{Text: "back"}}},
		}}}
	}
	var refuse atomic.Bool
	refuse.Store(true)
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		return c.Endpoint == "take_thread_control" && refuse.Load() &&
			webhooktest.Answer(w, 400, `{"error":{"message":"The action is invalid since it's not the thread owner","code":100,"error_subcode":2534037}}`)
	})
	h.Post(pageBody(textEvent("2600", "m_1", 1700000000000)))
	h.Drain()
	if n := h.Graph.Count("messages"); n != 0 {
		t.Errorf("the send after a refused take ran (%d)", n)
	}
	eventually(t, "HandoverPermitted=false", func() bool { _, p := h.Reporter.Get(); return len(p) == 1 })
	if h.Counter("messenger_webhook_take_refused_total") != 1 {
		t.Error("refusal not counted")
	}
	refuse.Store(false)
	h.Post(pageBody(textEvent("2600", "m_2", 1700000000001)))
	h.Drain()
	calls := h.Graph.All()
	last := calls[len(calls)-2:]
	if last[0].Endpoint != "take_thread_control" || last[1].Endpoint != "messages" || last[0].Body["metadata"] != "back" {
		t.Errorf("calls %+v: want take then send", calls)
	}
	eventually(t, "HandoverPermitted=true", func() bool { _, p := h.Reporter.Get(); return len(p) == 2 })
	_, p := h.Reporter.Get()
	if !strings.HasPrefix(p[0], "false: ") || !strings.HasPrefix(p[1], "true: ") {
		t.Errorf("reports %q", p)
	}
}

func TestResolveOwner(t *testing.T) {
	for _, tc := range []struct {
		owner string
		want  handover.Owner
		id    string
	}{
		{"", handover.OwnerIdle, ""},
		{testApp, handover.OwnerUs, ""},
		{`"263902037430900"`, handover.OwnerOther, "263902037430900"},
	} {
		h := newHarness(t)
		h.Graph.SetOwner(tc.owner)
		h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
			if th.Owner == handover.OwnerUnknown {
				return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActResolveOwner, PSID: ev.PSID}}}
			}
			return handover.Decision{Thread: th}
		}
		h.Engine.OnOutcome = func(th handover.Thread, r handover.Result) handover.Decision {
			if r.Action.Kind == handover.ActResolveOwner && r.OK {
				th.Owner, th.OwnerAppID = r.Owner, r.OwnerAppID
				if r.Owner == handover.OwnerUs {
					return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: r.Action.PSID, Message: &handover.OutMessage{Text: "deferred"}}}}
				}
			}
			return handover.Decision{Thread: th}
		}
		h.Post(pageBody(textEvent("2700", "m_1", 1700000000000)))
		h.Drain()
		res := h.Engine.Outcomes()
		if len(res) < 1 || res[0].Owner != tc.want || res[0].OwnerAppID != tc.id {
			t.Errorf("owner %q: outcomes %+v", tc.owner, res)
		}
		th := h.Store.Thread(testPage, "2700")
		if th.Owner != tc.want {
			t.Errorf("owner %q: stored thread %+v", tc.owner, th)
		}
		wantSends := 0
		if tc.want == handover.OwnerUs {
			wantSends = 1
		}
		if n := h.Graph.Count("messages"); n != wantSends {
			t.Errorf("owner %q: %d sends", tc.owner, n)
		}
		// The thread is known now: no second thread_owner call.
		h.Post(pageBody(textEvent("2700", "m_2", 1700000000001)))
		h.Drain()
		if n := h.Graph.Count("thread_owner"); n != 1 {
			t.Errorf("owner %q: %d thread_owner calls", tc.owner, n)
		}
	}
}

func TestFirstNameFromProfile(t *testing.T) {
	h := newHarness(t)
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID,
			Message: &handover.OutMessage{Text: "Hi {{first_name}}", NeedsFirstName: true, FirstNameFallback: "there"}}}}
	}
	h.Post(pageBody(textEvent("2800", "m_1", 1700000000000)))
	h.Post(pageBody(textEvent("2800", "m_2", 1700000000001)))
	h.Drain()
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		return c.Endpoint == "profile" && webhooktest.Answer(w, 400, `{"error":{"code":100,"error_subcode":2018218,"message":"No profile available for this user."}}`)
	})
	h.Post(pageBody(textEvent("2801", "m_3", 1700000000002)))
	h.Drain()
	var texts []string
	for _, c := range h.Graph.All() {
		if c.Endpoint == "messages" {
			texts = append(texts, c.Body["message"].(map[string]any)["text"].(string))
		}
	}
	if fmt.Sprint(texts) != "[Hi Peter Hi Peter Hi there]" {
		t.Errorf("texts %q", texts)
	}
	if n := h.Graph.Count("profile"); n != 2 {
		t.Errorf("%d profile calls, want 2 (one per user, cached)", n)
	}
}

func TestIdleTimerTicks(t *testing.T) {
	clock := webhooktest.NewClock()
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.Clock = clock })
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		th.Owner, th.OwnerAppID, th.PassedAt = handover.OwnerOther, "263902037430900", clock.Now()
		return handover.Decision{Thread: th}
	}
	h.Engine.OnNextTick = func(th handover.Thread) time.Time {
		if th.Owner != handover.OwnerOther || th.PassedAt.IsZero() {
			return time.Time{}
		}
		return th.PassedAt.Add(time.Hour)
	}
	h.Engine.OnTick = func(th handover.Thread, now time.Time) handover.Decision {
		th.Owner, th.PassedAt = handover.OwnerUs, time.Time{}
		return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActTake, PSID: "2900", Reason: "idle_timeout"}}}
	}
	h.Post(pageBody(textEvent("2900", "m_1", 1700000000000)))
	h.Drain()
	clock.Advance(30 * time.Minute)
	// A new event moves the deadline.
	h.Post(pageBody(textEvent("2900", "m_2", 1700000000001)))
	h.Drain()
	clock.Advance(40 * time.Minute) // 70 min after the first, 40 after the second
	time.Sleep(20 * time.Millisecond)
	h.Drain()
	if n := h.Graph.Count("take_thread_control"); n != 0 {
		t.Fatalf("tick ran before its time (%d takes)", n)
	}
	clock.Advance(21 * time.Minute)
	eventually(t, "the idle timeout's take", func() bool { return h.Graph.Count("take_thread_control") == 1 })
	h.Drain()
	if th := h.Store.Thread(testPage, "2900"); th.Owner != handover.OwnerUs {
		t.Errorf("thread %+v", th)
	}
	if n := clock.Pending(); n != 0 {
		t.Errorf("%d timers left", n)
	}
}

func TestShutdownDrains(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.Workers = 4 })
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		time.Sleep(5 * time.Millisecond)
		return false
	})
	for i := range 40 {
		if got := h.Post(pageBody(textEvent(fmt.Sprint(4000+i%8), fmt.Sprintf("m_%d", i), 1700000000000+int64(i)))); got != 200 {
			t.Fatalf("status %d", got)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.Graph.Count("messages"); n != 40 {
		t.Errorf("%d of 40 accepted events answered before Shutdown returned", n)
	}
	if got := h.Post(pageBody(textEvent("4100", "m_late", 1700000000000))); got != 503 {
		t.Errorf("POST after shutdown: %d, want 503", got)
	}
	if h.Srv.Ready() {
		t.Error("ready after shutdown")
	}
}

func TestShutdownDeadline(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		return false
	})
	defer close(release)
	h.Post(pageBody(textEvent("4200", "m_1", 1700000000000)))
	eventually(t, "the call to start", func() bool { return h.Graph.Count("messages") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the deadline", err)
	}
}

func TestQueueFullAnswers503AndForgetsNothing(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.MaxQueued = 2; o.Workers = 1 })
	release := make(chan struct{})
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		<-release
		return false
	})
	if h.Post(pageBody(textEvent("4300", "m_1", 1700000000000))) != 200 || h.Post(pageBody(textEvent("4301", "m_2", 1700000000000))) != 200 {
		t.Fatal("first two not accepted")
	}
	third := pageBody(textEvent("4302", "m_3", 1700000000000))
	if got := h.Post(third); got != 503 {
		t.Fatalf("third: %d, want 503", got)
	}
	close(release)
	h.Drain()
	// Meta's retry of the refused POST is new, not a duplicate.
	if got := h.Post(third); got != 200 {
		t.Fatalf("retry: %d", got)
	}
	h.Drain()
	if n := h.Graph.Count("messages"); n != 3 {
		t.Errorf("%d sends, want 3", n)
	}
}

func TestQueueByteBudget(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.MaxQueuedBytes = 3000; o.Workers = 1 })
	release := make(chan struct{})
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		<-release
		return false
	})
	long := func(psid, mid string) string {
		return pageBody(strings.Replace(textEvent(psid, mid, 1700000000000), "hello", strings.Repeat("x", 1000), 1))
	}
	if got := h.Post(long("4700", "m_1")); got != 200 {
		t.Fatalf("first: %d", got)
	}
	if got := h.Post(long("4701", "m_2")); got != 200 {
		t.Fatalf("second: %d", got)
	}
	if got := h.Post(long("4702", "m_3")); got != 503 {
		t.Fatalf("third, over the byte budget: %d", got)
	}
	close(release)
	h.Drain()
	if got := h.Post(long("4702", "m_3")); got != 200 {
		t.Fatalf("retry: %d", got)
	}
	h.Drain()
	if b := h.Counter("messenger_webhook_queue_bytes"); b != 0 {
		t.Errorf("%v bytes still counted after the drain", b)
	}
}

func TestApplyWhileServing(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cfg := testConfig(h.Graph.URL)
			cfg.PageAccessToken = []byte(fmt.Sprintf("token-%d", i%3))
			cfg.Generation = fmt.Sprint(i)
			h.Srv.Apply(cfg)
		}
	}()
	for i := range 50 {
		if got := h.Post(pageBody(textEvent(fmt.Sprint(4400+i%5), fmt.Sprintf("m_%d", i), 1700000000000+int64(i)))); got != 200 {
			t.Errorf("status %d", got)
		}
	}
	close(stop)
	wg.Wait()
	h.Drain()
	if n := h.Graph.Count("messages"); n != 50 {
		t.Errorf("%d sends", n)
	}
	cfg := testConfig(h.Graph.URL)
	cfg.PageAccessToken = []byte("rotated")
	h.Srv.Apply(cfg)
	h.Post(pageBody(textEvent("4500", "m_rot", 1700000000000)))
	h.Drain()
	calls := h.Graph.All()
	if last := calls[len(calls)-1]; last.Token != "rotated" || last.Proof != proofOf("rotated", testSecret) {
		t.Errorf("the next event used token %q, appsecret_proof %q", last.Token, last.Proof)
	}
}

// Logs carry no secrets and no message text, even at debug level and when Meta echoes the token.
func TestNoSecretsOrTextInLogs(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) { o.RetryWindow = 30 * time.Millisecond })
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		switch n % 3 {
		case 0:
			return webhooktest.Answer(w, 400, `{"error":{"message":"Invalid OAuth access token `+testPageToken+`","code":190}}`)
		case 1:
			return webhooktest.Answer(w, 500, `{"error":{"message":"boom `+testPageToken+`","code":2}}`)
		}
		return false
	})
	secretText := "my card number is 4111"
	for i := range 6 {
		body := pageBody(strings.Replace(textEvent("4600", fmt.Sprintf("m_%d", i), 1700000000000+int64(i)), "hello", secretText, 1))
		h.Post(body)
	}
	h.PostWith(pageBody(textEvent("4600", "m_x", 1)), map[string]string{callback.SignatureHeader: sign([]byte("x"), testSecret)})
	_, _ = http.Get(h.HTTP.URL + "/webhook?hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "x&hub.challenge=1")
	h.Drain()
	logs := h.Logs.String()
	if logs == "" {
		t.Fatal("no logs captured")
	}
	for _, s := range []string{testPageToken, testSecret, testVerifyToken, secretText} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q", s)
		}
	}
}

func TestRejectedTemplateFallsBackToText(t *testing.T) {
	h := newHarness(t)
	h.Engine.OnDecide = func(ev handover.Event, th handover.Thread) handover.Decision {
		return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActSend, PSID: ev.PSID,
			Message: &handover.OutMessage{Text: "plain", Buttons: &handover.ButtonTemplate{Text: "pick"}}}}}
	}
	h.Graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		if msg, _ := c.Body["message"].(map[string]any); msg["attachment"] != nil {
			return webhooktest.Answer(w, 400, `{"error":{"code":100,"message":"(#100) Invalid template"}}`)
		}
		return false
	})
	h.Post(pageBody(textEvent("4800", "m_1", 1700000000000)))
	h.Drain()
	calls := h.Graph.All()
	if len(calls) != 2 {
		t.Fatalf("calls %+v: want the template, then its text", calls)
	}
	if msg, _ := calls[1].Body["message"].(map[string]any); msg["text"] != "fallback: plain" {
		t.Errorf("second send %v", calls[1].Body)
	}
	if res := h.Engine.Outcomes(); len(res) != 1 || !res[0].OK {
		t.Errorf("outcomes %+v", res)
	}
}
