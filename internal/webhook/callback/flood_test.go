package callback_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/webhook/callback"
)

// A flood of large unsigned bodies holds at most the body budget, and Meta's signed traffic
// alongside still gets through: at least 90 % on the first try, every event in the end (Meta
// retries what is answered 503).
func TestUnsignedFloodStaysInBudget(t *testing.T) {
	h := newHarness(t)
	const flooders, signed = 200, 200
	big := bytes.Repeat([]byte("x"), 1<<20)
	floodClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: flooders}}
	defer floodClient.CloseIdleConnections()

	done := make(chan struct{})
	var peak atomic.Int64
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			v := int64(h.Counter("messenger_webhook_body_bytes_in_flight"))
			if v > peak.Load() {
				peak.Store(v)
			}
		}
	})
	var flood sync.WaitGroup
	var floodSent atomic.Int64
	for range flooders {
		flood.Go(func() {
			for {
				req, _ := http.NewRequest("POST", h.HTTP.URL+"/webhook", bytes.NewReader(big))
				req.ContentLength = int64(len(big))
				req.Header.Set(callback.SignatureHeader, "sha256=00")
				if resp, err := floodClient.Do(req); err == nil { // a reset connection is expected
					resp.Body.Close()
				}
				floodSent.Add(1)
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}

	post := func(body string) int {
		req, _ := http.NewRequest("POST", h.HTTP.URL+"/webhook", bytes.NewReader([]byte(body)))
		req.Header.Set(callback.SignatureHeader, sign([]byte(body), testSecret))
		resp, err := h.HTTP.Client().Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var firstTry atomic.Int64
	var senders sync.WaitGroup
	for s := range 4 {
		senders.Go(func() {
			for i := s; i < signed; i += 4 {
				body := pageBody(textEvent(fmt.Sprintf("psid-%d", i), fmt.Sprintf("m-%d", i), 1700000000000+int64(i)))
				code := post(body)
				if code == 200 {
					firstTry.Add(1)
				}
				for tries := 0; code != 200 && tries < 1000; tries++ {
					code = post(body)
				}
			}
		})
	}
	senders.Wait()
	close(done)
	flood.Wait()
	sampler.Wait()

	t.Logf("flood requests %d, peak body bytes in flight %d (budget %d), signed 200 on first try %d/%d",
		floodSent.Load(), peak.Load(), callback.BodyBudget, firstTry.Load(), signed)
	if p := peak.Load(); p > callback.BodyBudget || p == 0 {
		t.Errorf("peak body bytes in flight %d, want within (0, %d]", p, callback.BodyBudget)
	}
	if got := firstTry.Load(); got*10 < signed*9 {
		t.Errorf("signed posts answered 200 on the first try: %d of %d, want >= 90 %%", got, signed)
	}
	eventually(t, "every signed event", func() bool { return len(h.Engine.Events()) == signed })
}
