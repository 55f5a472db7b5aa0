package runner_test

import (
	"testing"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// realPage compiles the tutorial's policy (the CRD defaults, spelled out: a Go zero value has
// no defaults applied) with the real engine.
func realPage(t *testing.T) *handover.Page {
	t.Helper()
	qr := []v1alpha1.QuickReply{{Title: v1alpha1.PassToInboxTitle, Payload: v1alpha1.PassToInboxPayload}}
	spec := &v1alpha1.HandoverPolicySpec{
		Welcome: v1alpha1.Message{Text: v1alpha1.DefaultWelcomeText, QuickReplies: qr},
		Handoff: v1alpha1.HandoffSpec{
			Message:     v1alpha1.Message{Text: v1alpha1.DefaultHandoffText, QuickReplies: []v1alpha1.QuickReply{{Title: v1alpha1.TakeFromInboxTitle, Payload: v1alpha1.TakeFromInboxPayload}}},
			Triggers:    v1alpha1.Triggers{QuickReplyPayloads: []string{v1alpha1.PassToInboxPayload}},
			TargetAppID: v1alpha1.PageInboxAppID,
		},
		TakeBack: v1alpha1.TakeBackSpec{
			Message:  v1alpha1.Message{Text: v1alpha1.DefaultTakeBackText, QuickReplies: qr},
			Triggers: v1alpha1.Triggers{QuickReplyPayloads: []string{v1alpha1.TakeFromInboxPayload}},
		},
		Done:              v1alpha1.Message{Text: v1alpha1.DefaultDoneText, QuickReplies: qr},
		OnRequest:         v1alpha1.RequestPass,
		ErrorMessage:      v1alpha1.Message{Text: v1alpha1.DefaultErrorText},
		FirstNameFallback: "there",
	}
	pol, err := handover.Compile(testPage, testApp, "Shop", spec)
	if err != nil {
		t.Fatal(err)
	}
	return &handover.Page{PageID: testPage, AppID: testApp, BusinessName: "Shop", Policy: pol}
}

// With the real engine, a user's text gets exactly one reply, to that user, whatever it says;
// the same message delivered again gets none.
func TestRealEngineOneReplyPerMessage(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) {
		o.Engine = nil // the handover package
		c.Handover = realPage(t)
	})
	h.Graph.SetOwner(testApp) // Graph says we own the thread, if the engine asks
	body := pageBody(textEvent("5000", "m_real_1", 1700000000000))
	if got := h.Post(body); got != 200 {
		t.Fatalf("status %d", got)
	}
	h.Post(body)
	h.Drain()
	var sends []webhooktest.GraphCall
	for _, c := range h.Graph.All() {
		if c.Endpoint == "messages" {
			sends = append(sends, c)
		}
	}
	if len(sends) != 1 || sends[0].PSID != "5000" {
		t.Fatalf("sends %+v, want exactly one to 5000", sends)
	}
	msg, _ := sends[0].Body["message"].(map[string]any)
	if text, _ := msg["text"].(string); text == "" {
		t.Errorf("the reply has no text: %v", sends[0].Body)
	}
	for _, c := range h.Graph.All() {
		if c.Endpoint != "messages" && c.Endpoint != "thread_owner" && c.Endpoint != "profile" {
			t.Errorf("unexpected call %s", c.Endpoint)
		}
	}
}

// With the real engine, the "pass to inbox" quick reply sends the handoff notice first and then
// passes the thread to the Page Inbox (the platform needs that order); a thread Graph reports as
// idle is resolved first.
func TestRealEngineHandoffOrder(t *testing.T) {
	h := newHarness(t, func(o *runner.Options, c *config.Page) {
		o.Engine = nil
		c.Handover = realPage(t)
	})
	h.Graph.SetOwner(testApp)
	tap := `{"sender":{"id":"5001"},"recipient":{"id":"` + testPage + `"},"timestamp":1700000000000,"message":{"mid":"m_tap","text":"Pass to Inbox","quick_reply":{"payload":"` + v1alpha1.PassToInboxPayload + `"}}}`
	if got := h.Post(pageBody(tap)); got != 200 {
		t.Fatalf("status %d", got)
	}
	h.Drain()
	var seq []string
	for _, c := range h.Graph.All() {
		if c.Endpoint == "thread_owner" || c.Endpoint == "profile" {
			continue
		}
		seq = append(seq, c.Endpoint)
		if c.PSID != "5001" {
			t.Errorf("%s to %q", c.Endpoint, c.PSID)
		}
		if c.Endpoint == "pass_thread_control" && c.Body["target_app_id"] != v1alpha1.PageInboxAppID {
			t.Errorf("pass body %v", c.Body)
		}
	}
	if len(seq) != 2 || seq[0] != "messages" || seq[1] != "pass_thread_control" {
		t.Fatalf("calls %v, want messages then pass_thread_control", seq)
	}
	if th := h.Store.Thread(testPage, "5001"); th.Owner != handover.OwnerOther || th.OwnerAppID != v1alpha1.PageInboxAppID {
		t.Errorf("thread after the pass: %+v", th)
	}
}
