package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/webhooktest"
)

// appPage is a page of the test app welcoming with its own text, with its own token.
func appPage(t *testing.T, graphURL, pageID, name string) config.Page {
	t.Helper()
	pol, err := handover.Compile(pageID, webhooktest.AppID, name, &v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Welcome to " + name}})
	if err != nil {
		t.Fatal(err)
	}
	return config.Page{PageID: pageID, AppID: webhooktest.AppID, Name: name, PageAccessToken: []byte(name + "-token"),
		AppSecret: []byte(webhooktest.AppSecret), GraphBaseURL: graphURL, GraphVersion: "v25.0",
		Handover: &handover.Page{PageID: pageID, AppID: webhooktest.AppID, BusinessName: name, Policy: pol}}
}

func entry(pageID, psid, mid string, ts int64) string {
	return fmt.Sprintf(`{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":%q,"text":"hi"}}]}`,
		pageID, ts, psid, pageID, ts, mid)
}

// TestAppServerRoutesEachEntryToItsPage: one POST signed with the app secret carries entries of
// two served pages (the same PSID on both: PSIDs are page-scoped, but the test makes them
// collide to prove the queues are per page and user) and of a page not served.
func TestAppServerRoutesEachEntryToItsPage(t *testing.T) {
	graph := webhooktest.NewGraph(t)
	var (
		mu  sync.Mutex
		ids []string
	)
	unserved := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(ids)
	}
	srv := webhook.NewAppServer(runner.Options{Registry: prometheus.NewRegistry(), RetryBase: time.Millisecond}, func(id string) {
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
	})
	const brand, support, stranger = "1000000000000011", "1000000000000012", "1000000000000013"
	app := config.App{AppID: webhooktest.AppID, Path: "/hooks/app", VerifyToken: []byte("v"), AppSecret: []byte(webhooktest.AppSecret),
		Pages: []config.Page{appPage(t, graph.URL, brand, "brand"), appPage(t, graph.URL, support, "support")}}
	srv.ApplyApp(app, nil)
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/hooks/app", strings.NewReader(body))
		req.Header.Set(callback.SignatureHeader, webhooktest.Sign([]byte(body), webhooktest.AppSecret))
		resp, err := h.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().UnixMilli()
	body := `{"object":"page","entry":[` + entry(brand, "42", "m_b", now) + "," + entry(support, "42", "m_s", now) + "," +
		entry(stranger, "43", "m_x", now) + `]}`
	if code := post(body); code != http.StatusOK {
		t.Fatalf("POST: %d", code)
	}
	sends := func() map[string]string {
		got := map[string]string{}
		for _, c := range graph.All() {
			if c.Endpoint == "messages" {
				msg, _ := c.Body["message"].(map[string]any)
				text, _ := msg["text"].(string)
				got[c.Token] = text
			}
		}
		return got
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(sends()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := sends()
	if got["brand-token"] != "Welcome to brand" || got["support-token"] != "Welcome to support" || len(got) != 2 {
		t.Fatalf("sends by token: %v", got)
	}
	if u := unserved(); len(u) != 1 || u[0] != stranger {
		t.Fatalf("unserved %v", u)
	}

	// support leaves: its entries are unserved from the next POST on; a duplicate of brand's is dropped.
	app.Pages = app.Pages[:1]
	srv.ApplyApp(app, nil)
	if code := post(`{"object":"page","entry":[` + entry(support, "44", "m_s2", now+1) + "," + entry(brand, "42", "m_b", now) + `]}`); code != http.StatusOK {
		t.Fatalf("POST: %d", code)
	}
	if u := unserved(); len(u) != 2 || u[1] != support {
		t.Fatalf("unserved %v", u)
	}
	time.Sleep(100 * time.Millisecond)
	if n := graph.Count("messages"); n != 2 {
		t.Fatalf("%d sends, want 2 (the duplicate dropped)", n)
	}
}
