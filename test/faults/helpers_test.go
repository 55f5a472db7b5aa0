// Package faults runs the webhook binary's Run in-process, in cluster mode on envtest, against
// the Messenger Platform simulator, and breaks things: Graph errors, timeouts after sending, a
// revoked token, SIGTERM in the middle of a stream, an unreachable API server.
package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/cmd/webhook/app"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

const welcome = "Hello from the bot"

// pageSite is one page: its namespace, app, credentials and the front door the simulator
// delivers to (a switchable proxy, so that a second webhook process can take over the address).
type pageSite struct {
	ns, pageID, appID, appName string
	secret, token, verify      string
	front                      *front
	userCfg                    *rest.Config
}

func (p *pageSite) key() types.NamespacedName {
	return types.NamespacedName{Namespace: p.ns, Name: "acme"}
}

// front forwards the simulator's deliveries to the current webhook; 503 while there is none.
type front struct {
	srv    *httptest.Server
	target atomic.Pointer[string]
}

func newFront(t *testing.T) *front {
	f := &front{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := f.target.Load()
		if target == nil {
			http.Error(w, "no webhook", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, *target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) point(url string) { f.target.Store(&url) }
func (f *front) unpoint()         { f.target.Store(nil) }

// runs makes namespaces unique across repeated runs (-count) on the same API server.
var runs atomic.Int32

func newPageSite(t *testing.T, ns, pageID, appID, appName string) *pageSite {
	ns = fmt.Sprintf("%s-%d", ns, runs.Add(1))
	return &pageSite{ns: ns, pageID: pageID, appID: appID, appName: appName,
		secret: "app-secret-" + ns, token: "EAA-page-token-" + ns, verify: "verify-token-" + ns, front: newFront(t)}
}

// graphFront sits between the webhooks and the simulator's Graph API: it can delay calls and
// cut the connection of a call the simulator holds ("timeout after sending"), so the webhook
// sees the call sent and never answered, without waiting for its own 10 s timeout.
type graphFront struct {
	sim   *simulator.Simulator
	h     http.Handler
	delay atomic.Int64 // nanoseconds added before each messages call
	cut   atomic.Int32 // hung calls cut so far
}

func (g *graphFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(g.delay.Load()); d > 0 && strings.HasSuffix(r.URL.Path, "/messages") {
		time.Sleep(d)
	}
	hungBefore := countHung(g.sim)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.h.ServeHTTP(rec, r.WithContext(ctx))
	}()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		case <-tick.C:
			if countHung(g.sim) > hungBefore {
				// The call took effect and its answer is held: drop the connection unanswered.
				cancel()
				<-done
				g.cut.Add(1)
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						_ = c.Close()
					}
				}
				return
			}
		}
	}
}

func countHung(s *simulator.Simulator) int {
	n := 0
	for _, c := range s.CallLog() {
		if c.Hung {
			n++
		}
	}
	return n
}

// platform is the simulator with its Graph API served through a graphFront.
type platform struct {
	sim   *simulator.Simulator
	graph *graphFront
	url   string
}

func newPlatform(t *testing.T, pages ...*pageSite) *platform {
	t.Helper()
	var opts simulator.Options
	for _, p := range pages {
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: p.pageID, Name: "Shop " + p.ns, DefaultApp: p.appName, Apps: []string{p.appName}})
		opts.Apps = append(opts.Apps, simulator.AppConfig{ID: p.appID, Name: p.appName, Secret: p.secret,
			CallbackURL: p.front.srv.URL + "/hooks/acme", CanTake: true})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: p.appName, Page: p.pageID, Token: p.token})
	}
	opts.Logf = func(string, ...any) {}
	sim, err := simulator.New(opts)
	must(t, err)
	t.Cleanup(sim.Close)
	g := &graphFront{sim: sim, h: sim.GraphHandler()}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.CloseClientConnections)
	t.Cleanup(srv.Close)
	return &platform{sim: sim, graph: g, url: srv.URL}
}

// setupPage creates the page's namespace, policy, page (Graph = the platform), Secret, and the
// Role and RoleBinding the operator writes for the webhook; it returns the webhook's user.
func setupPage(t *testing.T, p *pageSite, graphURL string) {
	t.Helper()
	ctx := context.Background()
	c := env.Client
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.ns}}))
	must(t, c.Create(ctx, &v1alpha1.HandoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: p.ns},
		Spec:       v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: welcome}},
	}))
	must(t, c.Create(ctx, &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: p.ns},
		Spec: v1alpha1.MessengerPageSpec{
			PageID: p.pageID, AppID: p.appID,
			SecretRef: v1alpha1.SecretReference{Name: "creds"},
			PolicyRef: v1alpha1.LocalReference{Name: "support"},
			GraphAPI:  v1alpha1.GraphAPISpec{BaseURL: graphURL, MaxSendsPerSecond: ptr.To[int32](0)},
			Ingress:   &v1alpha1.IngressSpec{Host: p.ns + ".example", Path: "/hooks/acme"},
		},
	}))
	must(t, c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: p.ns},
		StringData: map[string]string{"pageAccessToken": p.token, "appSecret": p.secret, "verifyToken": p.verify},
	}))
	page := getPage(t, p.key())
	kube := kubernetes.NewForConfigOrDie(env.Config)
	_, err := kube.RbacV1().Roles(p.ns).Apply(ctx, specs.Role(specs.Webhook{Page: page}, "creds", specs.VerifyTokenSecretName(page.Name)), applyOpts)
	must(t, err)
	_, err = kube.RbacV1().RoleBindings(p.ns).Apply(ctx, specs.RoleBinding(specs.Webhook{Page: page}), applyOpts)
	must(t, err)
	sa := "system:serviceaccount:" + p.ns + ":" + specs.WebhookName("acme")
	p.userCfg, err = env.AddUser(sa, "system:serviceaccounts", "system:serviceaccounts:"+p.ns)
	must(t, err)
}

var applyOpts = metav1.ApplyOptions{FieldManager: "messenger-operator", Force: true}

func getPage(t *testing.T, key types.NamespacedName) *v1alpha1.MessengerPage {
	t.Helper()
	var p v1alpha1.MessengerPage
	must(t, env.Client.Get(context.Background(), key, &p))
	return &p
}

// webhook is one webhook process (app.Run in-process).
type webhook struct {
	url, probeURL string
	logs          *logBuffer
	drainTimeout  time.Duration
	stop          func() (time.Duration, error) // cancels Run (SIGTERM) and returns how long it took to return
}

func startWebhook(t *testing.T, p *pageSite, restCfg *rest.Config, drain time.Duration) *webhook {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	if restCfg == nil {
		restCfg = p.userCfg
	}
	logs := &logBuffer{}
	o := app.Options{
		Page: p.key(), RESTConfig: restCfg, Listener: ln, ProbeListener: pln, DrainTimeout: drain,
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StatusRetryBase: 50 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	var once sync.Once
	var took time.Duration
	var runErr error
	stop := func() (time.Duration, error) {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(2*drain + 30*time.Second):
				runErr = fmt.Errorf("Run did not return after cancel")
			}
			took = time.Since(start)
		})
		return took, runErr
	}
	t.Cleanup(func() {
		if _, err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() || os.Getenv("WEBHOOK_TEST_LOGS") != "" {
			t.Logf("webhook logs (%s):\n%s", p.ns, logs)
		}
	})
	w := &webhook{url: "http://" + ln.Addr().String(), probeURL: "http://" + pln.Addr().String(), logs: logs, drainTimeout: drain, stop: stop}
	eventually(t, "the webhook of "+p.ns+" to be ready", func() bool {
		code, _ := get(w.probeURL + "/readyz")
		return code == http.StatusOK
	})
	return w
}

// metric returns the sum of the samples of name whose labels include every given pair.
func (w *webhook) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	_, body := get(w.probeURL + "/metrics")
	return sumMetric(body, name, labels...)
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)

func sumMetric(text, name string, labels ...string) float64 {
	total := 0.0
	for _, line := range strings.Split(text, "\n") {
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

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// botReplies counts the messages the page's app sent to psid (the simulator keeps every
// accepted message exactly once).
func botReplies(s *simulator.Simulator, p *pageSite, psid string) int {
	n := 0
	for _, m := range s.Messages(p.pageID, psid) {
		if m.From == p.appName {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, s *simulator.Simulator, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Await(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// quiet waits until nothing has happened on the platform for a while, to check that something
// (a second reply) does not come.
func quiet(t *testing.T, s *simulator.Simulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	must(t, s.WaitQuiet(ctx, 1500*time.Millisecond))
}

func waitCondition(t *testing.T, key types.NamespacedName, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	eventually(t, fmt.Sprintf("GraphAuthorized=%s (%s) on %s", want, reason, key), func() bool {
		p := getPage(t, key)
		cond = meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionGraphAuthorized)
		return cond != nil && cond.Status == want && cond.Reason == reason
	})
	return *cond
}

func updateSecret(t *testing.T, p *pageSite, edit func(*corev1.Secret)) {
	t.Helper()
	update(t, &corev1.Secret{}, types.NamespacedName{Namespace: p.ns, Name: "creds"}, edit)
}

func update[T client.Object](t *testing.T, obj T, key types.NamespacedName, edit func(T)) {
	t.Helper()
	ctx := context.Background()
	eventually(t, "an update of "+key.String(), func() bool {
		must(t, env.Client.Get(ctx, key, obj))
		edit(obj)
		err := env.Client.Update(ctx, obj)
		if err != nil && !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
		return err == nil
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
