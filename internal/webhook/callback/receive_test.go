package callback_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
)

// FuzzReceive: any signed body gets 200 exactly when it is a JSON object of the envelope's
// shape, 400 otherwise (413 beyond the limit); the handler never panics.
func FuzzReceive(f *testing.F) {
	for _, s := range callback.DecodeSeeds {
		f.Add([]byte(s))
	}
	for _, tc := range hostileCases() {
		if len(tc.body) < 4096 && tc.headers == nil {
			f.Add([]byte(tc.body))
		}
	}
	h := newHarness(f)
	handler := h.Srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/webhook", strings.NewReader(string(body)))
		req.Header.Set(callback.SignatureHeader, sign(body, testSecret))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		want := http.StatusOK
		if !callback.Decodes(body) {
			want = http.StatusBadRequest
		}
		if len(body) > callback.MaxBody {
			want = http.StatusRequestEntityTooLarge
		}
		if rec.Code != want {
			t.Fatalf("status %d, want %d for %q", rec.Code, want, body)
		}
	})
}
