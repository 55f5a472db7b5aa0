package callback_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
)

type nopQueue struct{}

func (nopQueue) Accept([]handover.Event) bool { return true }
func (nopQueue) Ignore(string, ...slog.Attr)  {}

// While the verify token rotates, Meta's verification GET passes with the old and the new token;
// the old one only for VerifyTokenGrace after the new one was applied, and a later reload of the
// same configuration does not extend it.
func TestVerifyTokenRotation(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	h := callback.New(callback.Options{Queue: nopQueue{}, Now: clock})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	verify := func(token string) int {
		t.Helper()
		resp, err := http.Get(srv.URL + callback.DefaultPath + "?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	cfg := callback.Config{PageIDs: []string{"1"}, VerifyToken: []byte("old-token"), AppSecret: []byte("s")}
	h.Apply(cfg)
	if verify("new-token") != http.StatusForbidden || verify("old-token") != http.StatusOK {
		t.Fatal("before the rotation")
	}
	cfg.VerifyToken = []byte("new-token")
	h.Apply(cfg)
	if verify("new-token") != http.StatusOK || verify("old-token") != http.StatusOK {
		t.Error("during the rotation both tokens pass")
	}
	advance(callback.VerifyTokenGrace - time.Minute)
	h.Apply(cfg) // a reload of the same configuration
	if verify("old-token") != http.StatusOK {
		t.Error("the old token refused before its grace ended")
	}
	advance(2 * time.Minute)
	if verify("old-token") != http.StatusForbidden || verify("new-token") != http.StatusOK {
		t.Error("after the grace only the new token passes")
	}
	if verify("other") != http.StatusForbidden {
		t.Error("any token passes")
	}
}
