package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The flood posts bodies of the size asked, with a signature that is not the app's, and counts
// the answers by code.
func TestFloodPostsUnsignedBodies(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if len(b) != 1000 || !strings.HasPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=000") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		n.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := flood(&out, srv.URL, 3, 1000, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	if n.Load() == 0 || line != "403:"+strconv.FormatInt(n.Load(), 10) {
		t.Fatalf("%q after %d bodies", line, n.Load())
	}
}
