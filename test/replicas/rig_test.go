package replicas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/redistest"
)

// webhookBin is the webhook built with the crash points, once for the package's tests.
var webhookBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "replicas")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	webhookBin = filepath.Join(dir, "webhook")
	build := exec.Command("go", "build", "-tags", "crashpoints", "-o", webhookBin, "../../cmd/webhook")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the webhook with crash points:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const (
	appID     = "1517776481860111"
	appSecret = "app-secret-replicas"
	page1     = "1000000000000001"
	page2     = "1000000000000002"
	inboxApp  = simulator.InboxAppID
)

var pages = []string{page1, page2}

func pageToken(page string) string { return "EAA-token-" + page }

// rig is one app's webhook replicas, their Redis, the proxy in front and the simulator.
type rig struct {
	t        *testing.T
	redis    *redistest.Server
	sim      *simulator.Simulator
	graphURL string
	dir      string // the manifests
	proxy    *proxy
	replicas []*replica
	// graphDelay slows every Graph call (ns), so that work queues when a fault lands.
	graphDelay atomic.Int64
	mu         sync.Mutex
	passed     map[string]int // successful passes per PSID
}

// statusWriter keeps the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func newRig(t *testing.T, n int, claimIdle time.Duration) *rig {
	t.Helper()
	r := &rig{t: t, redis: redistest.Start(t), dir: t.TempDir(), passed: map[string]int{}}
	r.proxy = newProxy(t)
	var sim atomic.Pointer[simulator.Simulator]
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		time.Sleep(time.Duration(r.graphDelay.Load()))
		if !strings.HasSuffix(req.URL.Path, "/"+simulator.EndpointPass) {
			sim.Load().GraphHandler().ServeHTTP(w, req)
			return
		}
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var pass struct {
			Recipient struct{ ID string } `json:"recipient"`
		}
		_ = json.Unmarshal(body, &pass)
		rec := &statusWriter{ResponseWriter: w, status: 200}
		sim.Load().GraphHandler().ServeHTTP(rec, req)
		if rec.status < 300 {
			r.mu.Lock()
			r.passed[pass.Recipient.ID]++
			r.mu.Unlock()
		}
	}))
	t.Cleanup(graph.Close)
	r.graphURL = graph.URL
	opts := simulator.Options{Logf: func(string, ...any) {},
		// One connection per delivery, so that the proxy spreads deliveries over the replicas.
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		Apps:       []simulator.AppConfig{{ID: appID, Name: "app", Secret: appSecret, CallbackURL: r.proxy.url() + "/webhook", CanTake: true}}}
	for _, p := range pages {
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: p, Name: "Page " + p, DefaultApp: "app", Apps: []string{"app"}})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: "app", Page: p, Token: pageToken(p)})
	}
	s, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	sim.Store(s)
	r.sim = s
	r.writeManifests()
	for i := range n {
		rp := &replica{rig: r, name: fmt.Sprintf("replica-%d", i), claimIdle: claimIdle}
		r.replicas = append(r.replicas, rp)
	}
	return r
}

func (r *rig) writeManifests() {
	m := fmt.Sprintf(`apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerApp
metadata: {name: shop, namespace: ha}
spec:
  appID: "%s"
  secretRef: {name: app-credentials}
  graphAPI: {baseURL: %s}
---
apiVersion: v1
kind: Secret
metadata: {name: app-credentials, namespace: ha}
stringData: {appSecret: %s, verifyToken: ha-verify}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support, namespace: ha}
spec:
  welcome:
    text: "Welcome! Say real person to talk to a person."
  handoff:
    triggers:
      keywords: ["real person"]
`, appID, r.graphURL, appSecret)
	for i, p := range pages {
		m += fmt.Sprintf(`---
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: page-%d, namespace: ha}
spec:
  pageID: "%s"
  appRef: {name: shop}
  secretRef: {name: page-%d-credentials}
  policyRef: {name: support}
  graphAPI: {maxSendsPerSecond: 0}
---
apiVersion: v1
kind: Secret
metadata: {name: page-%d-credentials, namespace: ha}
stringData: {pageAccessToken: %s}
`, i, p, i, i, pageToken(p))
	}
	if err := os.WriteFile(filepath.Join(r.dir, "app.yaml"), []byte(m), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// replica is one webhook process (started, killed, restarted on the same addresses).
type replica struct {
	rig       *rig
	name      string
	claimIdle time.Duration
	addr      string // webhook
	probe     string
	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{}
	log       *os.File
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// start runs the process (crashAt: a crash point, "" for none) and waits until it is ready.
func (p *replica) start(crashAt string) {
	t := p.rig.t
	t.Helper()
	if p.addr == "" {
		p.addr, p.probe = freeAddr(t), freeAddr(t)
		p.rig.proxy.add(p.addr)
		t.Cleanup(p.kill)
	}
	if p.log == nil {
		f, err := os.Create(filepath.Join(t.TempDir(), p.name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		p.log = f
	}
	cmd := exec.Command(webhookBin, "--manifests", p.rig.dir, "--app", "ha/shop", "--listen", p.addr, "--probe-addr", p.probe,
		"--replica-name", p.name, "--claim-idle", p.claimIdle.String(), "--log-level", "warn", "--drain-timeout", "20s")
	cmd.Env = append(os.Environ(), "REDIS_URL="+p.rig.redis.URL(0), "REDIS_KEY_PREFIX=mo:{ha/app/shop}:",
		"MESSENGER_WEBHOOK_CRASH_AT="+crashAt)
	if crashAt != "" {
		// One action at a time: at the crash point nothing else is in flight, so what is
		// repeated is what the crash point allows.
		cmd.Env = append(cmd.Env, "MESSENGER_WEBHOOK_CRASH_WORKERS=1")
	}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + p.probe + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited at start: %v\n%s", p.name, cmd.ProcessState, p.logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v\n%s", p.name, err, p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *replica) logs() string {
	b, _ := os.ReadFile(p.log.Name())
	return string(b)
}

// exited says whether the process has exited (a crash point).
func (p *replica) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill is kill -9, and waits for the exit.
func (p *replica) kill() { p.signal(syscall.SIGKILL) }

// stop is SIGTERM (a rollout: drain, then exit), and waits for the exit.
func (p *replica) stop() { p.signal(syscall.SIGTERM) }

func (p *replica) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-done
}

// proxy spreads TCP connections round-robin over the replicas' addresses, skipping one that
// refuses the connection (a dead replica), like a Service in front of pods.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	backs []string
	next  int
}

func newProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go p.serve()
	return p
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

// only makes the proxy forward to addrs alone.
func (p *proxy) only(addrs ...string) {
	p.mu.Lock()
	p.backs = addrs
	p.mu.Unlock()
}

func (p *proxy) add(addr string) {
	p.mu.Lock()
	p.backs = append(p.backs, addr)
	p.mu.Unlock()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	defer func() { _ = c.Close() }()
	p.mu.Lock()
	backs, start := append([]string(nil), p.backs...), p.next
	p.next++
	p.mu.Unlock()
	for i := range backs {
		b, err := net.DialTimeout("tcp", backs[(start+i)%len(backs)], time.Second)
		if err != nil {
			continue
		}
		defer func() { _ = b.Close() }()
		go func() { _, _ = io.Copy(b, c); _ = b.(*net.TCPConn).CloseWrite() }()
		_, _ = io.Copy(c, b)
		return
	}
}

// conversation is one customer's: "hello" (the bot welcomes), then "real person" (the bot
// says it passes, and passes to the Page Inbox).
type conversation struct {
	page, psid string
}

func (r *rig) conversations(n int) []conversation {
	out := make([]conversation, n)
	for i := range out {
		out[i] = conversation{page: pages[i%len(pages)], psid: fmt.Sprintf("%d", 7000000000000000+i)}
	}
	return out
}

// botMessages counts what the app sent to the conversation's customer.
func (r *rig) botMessages(c conversation) int {
	n := 0
	for _, m := range r.sim.Messages(c.page, c.psid) {
		if m.From == "app" {
			n++
		}
	}
	return n
}

// passes counts the successful pass_thread_control calls made for each customer.
func (r *rig) passes() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.passed)
}

// play runs the conversations, at most par at a time: each customer waits for the bot's
// welcome before asking for a person, and the conversation is over once the thread is with
// the Page Inbox. mid, when set, runs once a share of them are over (the fault).
func (r *rig) play(convs []conversation, par int, midAt int, mid func()) {
	t := r.t
	var over atomic.Int32
	var once sync.Once
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Minute)
	waitFor := func(what string, c conversation, cond func() bool) bool {
		for !cond() {
			if time.Now().After(deadline) {
				t.Errorf("%s/%s: timed out waiting for %s", c.page, c.psid, what)
				return false
			}
			time.Sleep(20 * time.Millisecond)
		}
		return true
	}
	for _, c := range convs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cu := r.sim.Customer(c.page, c.psid)
			if err := cu.Say("hello"); err != nil {
				t.Errorf("say: %v", err)
				return
			}
			if !waitFor("the welcome", c, func() bool { return r.botMessages(c) >= 1 }) {
				return
			}
			if err := cu.Say("I want a real person"); err != nil {
				t.Errorf("say: %v", err)
				return
			}
			if !waitFor("the pass to the inbox", c, func() bool {
				return r.sim.Owner(c.page, c.psid) == simulator.InboxName && r.botMessages(c) >= 2
			}) {
				return
			}
			if int(over.Add(1)) == midAt && mid != nil {
				once.Do(func() { go mid() })
			}
		})
	}
	wg.Wait()
}

// check asserts the guarantee over the conversations: every one finished (owner the inbox,
// welcome and pass notice sent), each pass made once, and at most maxDup duplicate messages in
// all, at most one per thread. It returns the duplicates.
func (r *rig) check(convs []conversation, maxDup int) int {
	t := r.t
	t.Helper()
	// Let anything still queued or claimed finish before counting.
	r.settle()
	passes := r.passes()
	dups := 0
	for _, c := range convs {
		n := r.botMessages(c)
		switch {
		case r.sim.Owner(c.page, c.psid) != simulator.InboxName:
			t.Errorf("%s/%s: owner %q, want the inbox", c.page, c.psid, r.sim.Owner(c.page, c.psid))
		case n < 2:
			t.Errorf("%s/%s: %d bot messages, want 2 (an accepted event lost)", c.page, c.psid, n)
		case n > 3:
			t.Errorf("%s/%s: %d bot messages: more than one duplicate in a thread", c.page, c.psid, n)
		}
		if n > 2 {
			dups += n - 2
		}
		if passes[c.psid] != 1 {
			t.Errorf("%s/%s: %d passes, want 1", c.page, c.psid, passes[c.psid])
		}
	}
	if dups > maxDup {
		t.Errorf("%d duplicate messages, want at most %d", dups, maxDup)
	}
	return dups
}

// settle waits until the journal is empty: every accepted event handled and acknowledged.
func (r *rig) settle() {
	t := r.t
	deadline := time.Now().Add(2 * time.Minute)
	c := r.redis.Client()
	defer func() { _ = c.Close() }()
	for {
		n, err := c.XLen(context.Background(), "mo:{ha/app/shop}:events").Result()
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still in the journal (%v)", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
