package platform

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	wt "github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// The error message after a template rejection: the Send API refuses the welcome's button
// template and its text fallback (code 100); the customer gets the error message, once: a second
// failure within the minute gets nothing more. A refusal that is no failure of ours (551) never
// gets it.
func TestErrorMessageAfterTemplateRejection(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Pick one", Buttons: &v1alpha1.ButtonTemplate{
		Text: "Pick one", Buttons: []v1alpha1.Button{{Type: "postback", Title: "Orders", Payload: "orders"}}}}}
	pol, err := handover.Compile(wt.PageID, wt.AppID, "Shop", spec)
	must(t, err)
	clock := wt.NewClock()
	h := wt.NewHarness(t, func(o *runner.Options, c *config.Page) {
		o.Engine, o.Clock = runner.HandoverEngine{}, clock
		c.Handover = &handover.Page{PageID: wt.PageID, AppID: wt.AppID, BusinessName: "Shop", Policy: pol}
	})
	const rejected = `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"A3"}}`
	h.Graph.SetScript(func(c wt.GraphCall, n int, w http.ResponseWriter) bool {
		b, _ := json.Marshal(c.Body)
		return c.Endpoint == "messages" && strings.Contains(string(b), "Pick one") && wt.Answer(w, 400, rejected)
	})
	say := func(mid string) {
		t.Helper()
		h.Post(wt.PageBody(wt.TextEvent(wt.SimPSID, mid, clock.Now().UnixMilli())))
		h.Drain()
	}
	errorsSent := func() int {
		n := 0
		for _, c := range h.Graph.All() {
			b, _ := json.Marshal(c.Body)
			if c.Endpoint == "messages" && strings.Contains(string(b), "something went wrong") {
				n++
			}
		}
		return n
	}
	say("m_1")
	if n := errorsSent(); n != 1 {
		t.Fatalf("%d error messages after a rejected template; calls %+v", n, h.Graph.All())
	}
	clock.Advance(30 * time.Second)
	say("m_2")
	if n := errorsSent(); n != 1 {
		t.Errorf("%d error messages within a minute", n)
	}
	if n := h.Counter("messenger_webhook_ignored_events_total", "reason", handover.IgnoredErrorLimited); n != 1 {
		t.Errorf("error_limited counted %v times", n)
	}
	clock.Advance(time.Minute)
	say("m_3")
	if n := errorsSent(); n != 2 {
		t.Errorf("%d error messages a minute later", n)
	}

	// 551: the person is unavailable; no error message.
	h.Graph.SetScript(func(c wt.GraphCall, n int, w http.ResponseWriter) bool {
		return c.Endpoint == "messages" && wt.Answer(w, 400, `{"error":{"message":"(#551) This person isn't available right now.","code":551,"error_subcode":1545041}}`)
	})
	clock.Advance(2 * time.Minute)
	say("m_4")
	if n := errorsSent(); n != 2 {
		t.Errorf("an error message after 551")
	}
}
