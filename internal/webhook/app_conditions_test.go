package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// TestAppPagesKeepTheirOwnConditions: an app's webhook serves two pages; what one page's
// traffic shows (standby-only new threads, a refused take) changes that page's CanAct and
// HandoverPermitted only, never the other's, and a message on messaging on one page does not
// clear the other page's standby threads.
func TestAppPagesKeepTheirOwnConditions(t *testing.T) {
	graph := webhooktest.NewGraph(t)
	const brand, support = "1000000000000021", "1000000000000022"
	// Conversation Routing refuses brand's takes and lets support take.
	graph.SetScript(func(c webhooktest.GraphCall, n int, w http.ResponseWriter) bool {
		return c.Endpoint == "take_thread_control" && c.Token == "brand-token" &&
			webhooktest.Answer(w, 400, `{"error":{"message":"The action is invalid since it's not the thread owner","code":100,"error_subcode":2534037}}`)
	})
	eng := &webhooktest.Engine{OnDecide: func(ev handover.Event, th handover.Thread) handover.Decision {
		if ev.Text == "take" {
			return handover.Decision{Thread: th, Actions: []handover.Action{{Kind: handover.ActTake, PSID: ev.PSID, Reason: "take_back"}}}
		}
		return handover.Decision{Thread: th}
	}}
	srv := webhook.NewAppServer(runner.Options{Registry: prometheus.NewRegistry(), Engine: eng, RetryBase: time.Millisecond}, nil)
	reporters := map[string]*webhooktest.Reporter{"brand": {}, "support": {}}
	srv.ApplyApp(config.App{AppID: webhooktest.AppID, Path: "/hooks/app", VerifyToken: []byte("v"), AppSecret: []byte(webhooktest.AppSecret),
		Pages: []config.Page{appPage(t, graph.URL, brand, "brand"), appPage(t, graph.URL, support, "support")}},
		func(name string) runner.Reporter { return reporters[name] })
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	shut := false
	shutdown := func() {
		if shut {
			return
		}
		shut = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(shutdown)

	ts := time.Now().UnixMilli()
	// send posts one user message per page-psid pair on channel ("messaging" or "standby") and
	// waits until the webhook handled it.
	send := func(channel, pageID, psid, text string) {
		t.Helper()
		ts++
		body := fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":%d,%q:[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":"m_%s_%d","text":%q}}]}]}`,
			pageID, ts, channel, psid, pageID, ts, psid, ts, text)
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/hooks/app", strings.NewReader(body))
		req.Header.Set(callback.SignatureHeader, webhooktest.Sign([]byte(body), webhooktest.AppSecret))
		resp, err := h.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
		webhooktest.Eventually(t, "the event handled", func() bool { return srv.Pending() == 0 })
	}
	acts := func(name string) string { return reports(reporters[name].Acts()) }

	// Two standby-only new threads on brand; one message on messaging on support, which says
	// support receives its conversations and nothing about brand's.
	send("standby", brand, "51", "hello")
	send("standby", brand, "52", "hello")
	send("messaging", support, "61", "hello")
	webhooktest.Eventually(t, "support CanAct=true", func() bool { return acts("support") == "true" })
	// A third on brand: brand's new conversations reach the app only on standby.
	send("standby", brand, "53", "hello")
	webhooktest.Eventually(t, "brand CanAct=false", func() bool { return acts("brand") == "false" })
	if got := reporters["brand"].Acts()[0]; !strings.Contains(got, "default app") {
		t.Errorf("brand's CanAct message %q", got)
	}
	// Two standby-only new threads on support count with no thread of brand's: support still
	// can act. Then brand receives a message on messaging again.
	send("standby", support, "62", "hello")
	send("standby", support, "63", "hello")
	send("messaging", brand, "54", "hello")
	webhooktest.Eventually(t, "brand CanAct=true", func() bool { return acts("brand") == "false true" })

	// A refused take on brand, a take on support.
	send("messaging", brand, "55", "take")
	send("messaging", support, "64", "take")
	shutdown() // the status pumps report their last states
	if got := acts("support"); got != "true" {
		t.Errorf("support's CanAct reports %q, want true only", got)
	}
	if got := acts("brand"); got != "false true" {
		t.Errorf("brand's CanAct reports %q, want false then true", got)
	}
	_, brandPermits := reporters["brand"].Get()
	_, supportPermits := reporters["support"].Get()
	if got := reports(brandPermits); got != "false" || !strings.Contains(brandPermits[0], "Conversation Routing refuses take_thread_control") {
		t.Errorf("brand's HandoverPermitted reports %q", brandPermits)
	}
	if got := reports(supportPermits); got != "true" {
		t.Errorf("support's HandoverPermitted reports %q, want true only", supportPermits)
	}
}

// reports are the statuses of a webhooktest.Reporter's reports ("ok: message"), space separated.
func reports(rs []string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i], _, _ = strings.Cut(r, ":")
	}
	return strings.Join(out, " ")
}
