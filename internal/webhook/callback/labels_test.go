package callback_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrapeSeries scrapes the registry over HTTP, as Prometheus would, and counts the series of the
// metric family name.
func scrapeSeries(t *testing.T, h http.Handler, name string) (series int, size int) {
	t.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			series++
		}
	}
	return series, len(b)
}

// Made-up HTTP methods must not create metric series: a label value from the request would let
// anyone grow /metrics and the process's memory without bound.
func TestMadeUpMethodsCreateNoSeries(t *testing.T) {
	h := newHarness(t)
	metrics := promhttp.HandlerFor(h.Reg, promhttp.HandlerOpts{})
	for _, m := range []string{"GET", "POST", "PUT"} {
		req, _ := http.NewRequest(m, h.HTTP.URL+"/webhook", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	before, _ := scrapeSeries(t, metrics, "messenger_webhook_requests_total")
	for i := range 1000 {
		req, _ := http.NewRequest(fmt.Sprintf("X%04d", i), h.HTTP.URL+"/webhook", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("method X%04d: %d, want 405", i, resp.StatusCode)
		}
	}
	after, size := scrapeSeries(t, metrics, "messenger_webhook_requests_total")
	// At most one new series: method="other" with code 405.
	if after > before+1 {
		t.Errorf("1000 made-up methods made %d new series (%d bytes of /metrics), want at most 1", after-before, size)
	}
	if got := h.Counter("messenger_webhook_requests_total", "method", "other", "code", "405"); got != 1001 {
		t.Errorf("requests{method=other,code=405} = %v, want 1001 (PUT and the made-up methods)", got)
	}
}
