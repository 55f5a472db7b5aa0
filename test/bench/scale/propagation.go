package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

const (
	propNS     = "bench-prop"
	propPageID = "1999999999999999"
	propAppID  = "1888888888888888"
	propSecret = "appsecret"
)

// textGraph is a small Graph API that notes when it first received each reply text.
type textGraph struct {
	*httptest.Server
	mu    sync.Mutex
	first map[string]time.Time
}

func newTextGraph() *textGraph {
	g := &textGraph{first: map[string]time.Time{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages"):
			var body struct {
				Message struct{ Text string } `json:"message"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			g.mu.Lock()
			if _, ok := g.first[body.Message.Text]; !ok {
				g.first[body.Message.Text] = time.Now()
			}
			g.mu.Unlock()
			_, _ = io.WriteString(w, `{"recipient_id":"1","message_id":"m_prop"}`)
		case strings.HasSuffix(r.URL.Path, "/thread_owner"):
			_, _ = fmt.Fprintf(w, `{"data":[{"thread_owner":{"app_id":%q}}]}`, propAppID)
		default:
			_, _ = io.WriteString(w, `{"success":true}`)
		}
	}))
	return g
}

func (g *textGraph) seen(text string) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.first[text]
	return t, ok
}

// propagation runs the webhook binary in cluster mode for one page and measures, rounds times,
// how long a HandoverPolicy update takes to change the webhook's answer.
func propagation(ctx context.Context, cl *testenv.Cluster, bin string, rounds int) ([]time.Duration, int, error) {
	g := newTextGraph()
	defer g.Close()
	c := cl.Client
	objs := []client.Object{
		namespace(propNS), policy(propNS, "prop", "v0"), secret(propNS, "prop-credentials"),
		&v1alpha1.MessengerPage{
			ObjectMeta: pageMeta(propNS, "prop"),
			Spec: v1alpha1.MessengerPageSpec{
				PageID: propPageID, AppID: propAppID,
				SecretRef: v1alpha1.SecretReference{Name: "prop-credentials"},
				PolicyRef: v1alpha1.LocalReference{Name: "prop"},
				GraphAPI:  v1alpha1.GraphAPISpec{BaseURL: g.URL, MaxSendsPerSecond: new(int32)},
			},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return nil, 0, err
		}
	}
	listen, probe := freeAddr(), freeAddr()
	proc, err := testenv.StartProcess(bin, []string{"--page", propNS + "/prop", "--listen", listen, "--probe-addr", probe,
		"--kubeconfig", cl.Kubeconfig, "--log-level", "warn"})
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = proc.Stop(10 * time.Second) }()
	if err := waitReady("http://"+probe+"/readyz", 60*time.Second); err != nil {
		return nil, 0, fmt.Errorf("%w\n%s", err, proc.Output())
	}
	hook := "http://" + listen + "/webhook"
	// The first answer comes with the initial policy.
	if _, err := askUntil(ctx, g, hook, "v0", time.Time{}, 30*time.Second); err != nil {
		return nil, 0, err
	}
	idleRSS, _ := rss(proc.Pid())
	var took []time.Duration
	for i := 1; i <= rounds; i++ {
		want := fmt.Sprintf("v%d", i)
		var p v1alpha1.HandoverPolicy
		if err := c.Get(ctx, types.NamespacedName{Namespace: propNS, Name: "prop"}, &p); err != nil {
			return nil, 0, err
		}
		before := p.DeepCopy()
		p.Spec.Welcome.Text = want
		start := time.Now()
		// A merge patch: the operator writes the policy's status meanwhile.
		if err := c.Patch(ctx, &p, client.MergeFrom(before)); err != nil {
			return nil, 0, err
		}
		d, err := askUntil(ctx, g, hook, want, start, 30*time.Second)
		if err != nil {
			return nil, 0, err
		}
		took = append(took, d)
	}
	slices.Sort(took)
	return took, int(idleRSS), nil
}

// askUntil posts a message from a new user every 10 ms until the fake Graph API receives want,
// and returns the time from start to that reply.
func askUntil(ctx context.Context, g *textGraph, hook, want string, start time.Time, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for n := 0; ; n++ {
		if t, ok := g.seen(want); ok {
			return t.Sub(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no reply %q within %s", want, timeout)
		}
		post(hook, fmt.Sprintf("%d", 2100000000000000+time.Now().UnixNano()%1e12), fmt.Sprintf("m_prop_%d", time.Now().UnixNano()))
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func post(hook, psid, mid string) {
	body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":%q,"text":"hello"}}]}]}`,
		propPageID, time.Now().UnixMilli(), psid, propPageID, time.Now().UnixMilli(), mid)
	mac := hmac.New(sha256.New, []byte(propSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

func waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s", url, timeout)
}

// freeAddr finds a free local port (closed again; the process binds it a moment later).
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
