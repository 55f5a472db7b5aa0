package replicas

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// delivery is a body the simulator posted, with its signature.
type delivery struct {
	body []byte
	sig  string
}

// The same delivery sent to two replicas at once (Meta's redelivery racing the first attempt)
// is answered once: the dedup key is set in the shared store with the event, atomically.
func TestSameRedeliveryToTwoReplicasAtOnce(t *testing.T) {
	r := newRig(t, 2, 3*time.Second)
	for _, p := range r.replicas {
		p.start("")
	}
	// The simulator's deliveries are caught first, to be sent to both replicas by the test.
	var mu sync.Mutex
	var caught []delivery
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		caught = append(caught, delivery{body, req.Header.Get("X-Hub-Signature-256")})
		mu.Unlock()
	}))
	defer catcher.Close()
	r.proxy.only(strings.TrimPrefix(catcher.URL, "http://"))
	convs := r.conversations(20)
	for i, c := range convs {
		if err := r.sim.Customer(c.page, c.psid).Say("hello"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(caught)
			mu.Unlock()
			if n > i {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the simulator did not deliver")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, d := range caught {
		var wg sync.WaitGroup
		for _, p := range r.replicas {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhook", bytes.NewReader(d.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", d.sig)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: status %d", p.name, resp.StatusCode)
				}
			})
		}
		wg.Wait()
	}
	r.settle()
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range convs {
		for r.botMessages(c) < 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(500 * time.Millisecond) // room for a second answer, were there one
	for _, c := range convs {
		if got := r.botMessages(c); got != 1 {
			t.Errorf("%s/%s: %d replies to one message delivered to two replicas, want 1", c.page, c.psid, got)
		}
	}
}
