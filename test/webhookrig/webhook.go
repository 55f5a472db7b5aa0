package webhookrig

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

// Webhook is one webhook process: webhook.Run in-process until Stop or the end of the test.
type Webhook struct {
	URL, ProbeURL string // the webhook's listener and its probe listener
	// Logs is what the webhook logged (JSON, debug level), unless Start was given a Logger.
	Logs         *LogBuffer
	DrainTimeout time.Duration

	once    sync.Once
	stopped atomic.Bool // Stop was called
	cancel  context.CancelFunc
	done    chan error
	took    time.Duration
	runErr  error
}

// Listen opens a listener on a free local port.
func Listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err)
	return ln
}

// Start runs the webhook with o, filling what o leaves out: listeners on free ports, a logger
// into Logs, a 5 s drain timeout. The test's end stops it; if the test did not call Stop, an
// error Run returns fails the test, and failing tests (or WEBHOOK_TEST_LOGS=1) show the logs.
func Start(t *testing.T, o webhook.Options) *Webhook {
	t.Helper()
	if o.Listener == nil {
		o.Listener = Listen(t)
	}
	if o.ProbeListener == nil {
		o.ProbeListener = Listen(t)
	}
	w := &Webhook{URL: "http://" + o.Listener.Addr().String(), ProbeURL: "http://" + o.ProbeListener.Addr().String(),
		Logs: &LogBuffer{}, done: make(chan error, 1)}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(w.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 5 * time.Second
	}
	w.DrainTimeout = o.DrainTimeout
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- webhook.Run(ctx, o) }()
	t.Cleanup(func() {
		byTest := w.stopped.Load()
		if _, err := w.Stop(); err != nil && !byTest {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() || os.Getenv("WEBHOOK_TEST_LOGS") != "" {
			t.Logf("webhook logs (%s):\n%s", o.Page, w.Logs)
		}
	})
	return w
}

// StartReady is Start, then WaitReady.
func StartReady(t *testing.T, o webhook.Options) *Webhook {
	t.Helper()
	w := Start(t, o)
	w.WaitReady(t)
	return w
}

// Stop cancels Run's context (what SIGTERM does) and returns how long Run took to return and
// what it returned. Later calls return the same.
func (w *Webhook) Stop() (time.Duration, error) {
	w.stopped.Store(true)
	w.once.Do(func() {
		start := time.Now()
		w.cancel()
		select {
		case w.runErr = <-w.done:
		case <-time.After(2*w.DrainTimeout + 60*time.Second):
			w.runErr = errors.New("the webhook's Run did not return after cancel")
		}
		w.took = time.Since(start)
	})
	return w.took, w.runErr
}

// Ready reports whether /readyz answers 200.
func (w *Webhook) Ready(t *testing.T) bool {
	t.Helper()
	code, _ := Get(t, w.ProbeURL+"/readyz")
	return code == http.StatusOK
}

// WaitReady waits until the webhook is ready.
func (w *Webhook) WaitReady(t *testing.T) {
	t.Helper()
	Eventually(t, "the webhook at "+w.URL+" to be ready", func() bool { return w.Ready(t) })
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)

// Metric returns the sum of the samples of name on /metrics whose labels include every given
// pair (name, value, name, value...).
func (w *Webhook) Metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	_, body := Get(t, w.ProbeURL+"/metrics")
	total := 0.0
	for _, line := range strings.Split(body, "\n") {
		m := sampleRE.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(m[2], labels[i]+`="`+labels[i+1]+`"`) {
				ok = false
			}
		}
		if ok {
			v, _ := strconv.ParseFloat(m[3], 64)
			total += v
		}
	}
	return total
}

// LogBuffer collects logs written from any goroutine.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count returns how many times s was logged.
func (b *LogBuffer) Count(s string) int { return strings.Count(b.String(), s) }
