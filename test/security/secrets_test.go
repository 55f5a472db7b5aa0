// Package security feeds known secret values (page token, app secret, verify token, the
// generated verify token) through every path of the webhook in cluster mode, and of the operator
// next to it, failing paths included, then searches everything they produced: logs at debug
// level, the page's status, the namespace's Events, the metrics, HTTP answers and returned
// errors.
package security

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// ns is the test's namespace, unique across repeated runs (-count) on the same API server.
var ns string

const (
	pageID = "1000000000000301"
	appID  = "1517776481860301"
	psid   = "2200000000000001"
	// Known secret values, distinctive enough that any form of them is found.
	pageToken   = "EAAGpgTok3nQ7xZ9wVb2Lm"
	appSecret   = "apS3cr3tK8vR4nJ6yHq1"
	verifyToken = "vfyT0k3nP5sD2gF7hW"
)

// out collects everything the webhook and the operator produced, by where it came from.
type out struct {
	mu    sync.Mutex
	items map[string]*bytes.Buffer
}

func (o *out) add(where, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.items == nil {
		o.items = map[string]*bytes.Buffer{}
	}
	b := o.items[where]
	if b == nil {
		b = &bytes.Buffer{}
		o.items[where] = b
	}
	b.WriteString(text)
	b.WriteByte('\n')
}

func (o *out) writer(where string) io.Writer {
	return writerFunc(func(p []byte) (int, error) { o.add(where, string(p)); return len(p), nil })
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// forms are the ways a secret could show up: as is, base64, hex, URL-escaped, and its first 12
// characters (a "truncated for safety" log of a token still leaks it).
func forms(secret string) []string {
	return []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), hex.EncodeToString([]byte(secret)),
		url.QueryEscape(secret), secret[:12]}
}

func (o *out) leaks(secrets map[string]string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var found []string
	for where, b := range o.items {
		for name, s := range secrets {
			for _, f := range forms(s) {
				if strings.Contains(b.String(), f) {
					found = append(found, fmt.Sprintf("%s (%q) in %s", name, f, where))
				}
			}
		}
	}
	return found
}

func TestSecretsNeverInOutput(t *testing.T) {
	ctx := context.Background()
	c := rig.Env.Client
	var o out
	ns = rig.UniqueNS("security")

	// client-go's own logs too.
	klog.LogToStderr(false)
	klog.SetOutput(o.writer("klog"))
	defer klog.LogToStderr(true)

	// The platform: our app signs with appSecret and delivers to the webhook's address.
	ln := rig.Listen(t)
	webURL := "http://" + ln.Addr().String() + rig.HookPath
	p := &rig.Page{NS: ns, PageID: pageID, AppID: appID, AppName: "bot", Welcome: "Hello",
		Token: pageToken, AppSecret: appSecret, VerifyToken: verifyToken}
	sim := rig.NewSimulator(t, func(*rig.Page) string { return webURL }, p)
	simSrv, err := sim.Start("127.0.0.1:0")
	rig.Must(t, err)
	defer func() { _ = simSrv.Close() }()
	p.GraphURL = simSrv.URL

	// The page, its policy and Secret, and the operator running next to the webhook.
	rig.CreatePage(t, p)
	rig.CreateSecret(t, p)
	stopManager := startManager(t, &o, strings.TrimPrefix(simSrv.URL, "http://"))
	defer stopManager()
	key := p.Key()
	userCfg := rig.WebhookUser(t, key)

	// The webhook, logging at debug level.
	wh := rig.Start(t, webhook.Options{Page: key, RESTConfig: userCfg, Listener: ln, VerifyTokenSecret: specs.VerifyTokenSecretName(key.Name),
		DrainTimeout: 10 * time.Second, StatusRetryBase: 50 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(o.writer("webhook logs"), &slog.HandlerOptions{Level: slog.LevelDebug}))})
	probe := wh.ProbeURL
	rig.Eventually(t, "readiness", func() bool { code, _ := httpDo(&o, "GET", probe+"/readyz", "", nil); return code == 200 })

	// Meta's verification: right, wrong, partial tokens.
	if code, body := httpDo(&o, "GET", webURL+"?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=77", "", nil); code != 200 || body != "77" {
		t.Fatalf("verification: %d %q", code, body)
	}
	for _, tok := range []string{"wrong", verifyToken[:8], verifyToken + "x", pageToken, appSecret} {
		if code, _ := httpDo(&o, "GET", webURL+"?hub.mode=subscribe&hub.verify_token="+url.QueryEscape(tok)+"&hub.challenge=1", "", nil); code != 403 {
			t.Errorf("verification with a wrong token: %d", code)
		}
	}

	// Signed events, and every wrong signature (some carrying secret values as the header).
	say := func(text string) {
		t.Helper()
		rig.Must(t, sim.Customer(pageID, psid).Say(text))
	}
	replies := func() int { return rig.Replies(sim, p, psid) }
	say("hi")
	rig.Eventually(t, "the first reply", func() bool { return replies() == 1 })
	body := `{"object":"page","entry":[{"id":"` + pageID + `","messaging":[{"sender":{"id":"` + psid + `"},"message":{"mid":"m_sec_1","text":"x"}}]}]}`
	for name, h := range map[string]map[string]string{
		"none":          {},
		"wrong secret":  {"X-Hub-Signature-256": rig.Sign([]byte(body), "not-"+appSecret)},
		"sha1 only":     {"X-Hub-Signature": sig1(body, appSecret)},
		"secret as sig": {"X-Hub-Signature-256": "sha256=" + appSecret},
		"token as sig":  {"X-Hub-Signature-256": pageToken},
		"token in auth": {"X-Hub-Signature-256": rig.Sign([]byte(body), pageToken), "Authorization": "Bearer " + pageToken},
	} {
		if code, _ := httpDo(&o, "POST", webURL, body, h); code != 403 {
			t.Errorf("signature %s: %d", name, code)
		}
	}
	if code, _ := httpDo(&o, "POST", webURL, `{"object":"page","entry":[`, map[string]string{"X-Hub-Signature-256": rig.Sign([]byte(`{"object":"page","entry":[`), appSecret)}); code != 400 {
		t.Errorf("malformed JSON: %d", code)
	}

	// Graph 5xx and a refusal.
	rig.Must(t, sim.InjectFault(simulator.Fault{Endpoint: simulator.EndpointMessages, Status: 500, Times: 2}))
	say("again")
	rig.Eventually(t, "the reply after 5xx", func() bool { return replies() == 2 })
	rig.Must(t, sim.InjectFault(simulator.Fault{Endpoint: simulator.EndpointMessages, Code: 100, Message: "(#100) Invalid parameter"}))
	say("refused")
	rig.Eventually(t, "the refused call", func() bool {
		return strings.Contains(o.String("webhook logs"), `"class":"bad_request"`)
	})

	// A revoked token (190): the condition is written.
	rig.Must(t, sim.RevokeToken(pageToken))
	say("revoked")
	rig.WaitCondition(t, key, metav1.ConditionFalse, v1alpha1.ReasonGraphUnauthorized)
	fresh, err := sim.IssueToken("bot", pageID)
	rig.Must(t, err)
	rig.UpdateSecret(t, ns, func(s *corev1.Secret) { s.Data["pageAccessToken"] = []byte(fresh) })
	waitConditionAfter(t, key, say, v1alpha1.ReasonGraphAuthorized)

	// A Secret without a key, a Secret that is gone, a bad policy: rejected, logged, reported.
	rig.UpdateSecret(t, ns, func(s *corev1.Secret) { delete(s.Data, "appSecret") })
	rig.Eventually(t, "the missing key to be logged", func() bool { return strings.Contains(o.String("webhook logs"), "appSecret") })
	rig.UpdateSecret(t, ns, func(s *corev1.Secret) { s.Data["appSecret"] = []byte(appSecret) })
	rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
		p.Spec.Handoff.Triggers.Patterns = []string{"(unclosed"}
	})
	rig.Eventually(t, "the bad policy to be logged", func() bool {
		return strings.Contains(o.String("webhook logs"), "spec.handoff.triggers.patterns[0]")
	})
	rig.Update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
		p.Spec.Handoff.Triggers.Patterns = nil
	})

	// The verify token generated by the operator when the Secret has none.
	rig.UpdateSecret(t, ns, func(s *corev1.Secret) { delete(s.Data, "verifyToken") })
	var generated string
	rig.Eventually(t, "the generated verify token", func() bool {
		var s corev1.Secret
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: specs.VerifyTokenSecretName("acme")}, &s); err != nil {
			return false
		}
		generated = string(s.Data[v1alpha1.GeneratedVerifyTokenKey])
		return generated != ""
	})
	rig.Eventually(t, "the webhook to accept the generated verify token", func() bool {
		code, _ := httpDo(&o, "GET", webURL+"?hub.mode=subscribe&hub.verify_token="+generated+"&hub.challenge=5", "", nil)
		return code == 200
	})
	if raw, err := hex.DecodeString(generated); err != nil || len(raw)*8 < 128 {
		t.Errorf("the generated verify token has %d bits", len(raw)*8)
	}

	// Collect: metrics, the page (status included), the namespace's Events, the returned error.
	_, metrics := httpDo(&o, "GET", probe+"/metrics", "", nil)
	o.add("metrics", metrics)
	pj, _ := json.Marshal(rig.GetPage(t, key))
	o.add("page", string(pj))
	var events corev1.EventList
	rig.Must(t, c.List(ctx, &events, client.InNamespace(ns)))
	if len(events.Items) == 0 {
		t.Error("no Events in the namespace: the operator did not run")
	}
	ej, _ := json.Marshal(events)
	o.add("events", string(ej))
	if _, err := wh.Stop(); err != nil {
		o.add("returned error", err.Error())
	}
	stopManager()

	secrets := map[string]string{"page token": pageToken, "new page token": fresh, "app secret": appSecret,
		"verify token": verifyToken, "generated verify token": generated}
	for _, leak := range o.leaks(secrets) {
		t.Errorf("secret leaked: %s", leak)
	}
	// The search itself works: the Secrets, read as admin, do contain the values.
	var probeOut out
	for _, name := range []string{"creds", specs.VerifyTokenSecretName("acme")} {
		var s corev1.Secret
		rig.Must(t, c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s))
		sj, _ := json.Marshal(s)
		probeOut.add(name, string(sj))
	}
	if n := len(probeOut.leaks(secrets)); n < 3 {
		t.Errorf("the search finds only %d secret forms in the Secrets themselves", n)
	}
	for where, b := range o.items {
		t.Logf("searched %s: %d bytes", where, b.Len())
	}
	if t.Failed() {
		for where, b := range o.items {
			t.Logf("--- %s:\n%s", where, b)
		}
	}
}

func (o *out) String(where string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b := o.items[where]; b != nil {
		return b.String()
	}
	return ""
}

// startManager runs the operator's binary against envtest at debug level, its output collected.
// graphHost is the simulator's host:port, the one Graph API host the manager allows.
func startManager(t *testing.T, o *out, graphHost string) func() {
	t.Helper()
	bin, err := testenv.Binary("manager")
	rig.Must(t, err)
	kc, err := testenv.KubeconfigFor(rig.Env.Config, t.TempDir())
	rig.Must(t, err)
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	rig.Must(t, err)
	addr := pln.Addr().String()
	_ = pln.Close()
	p, err := testenv.StartProcess(bin, []string{"--webhook-image=example.com/webhook:dev", "--metrics-bind-address=0",
		"--health-probe-bind-address=" + addr, "--zap-log-level=debug", "--graph-api-hosts=" + graphHost}, "KUBECONFIG="+kc, "WATCH_NAMESPACE="+ns)
	rig.Must(t, err)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := p.Stop(10 * time.Second); err != nil {
				o.add("operator returned error", err.Error())
			}
			o.add("operator logs", p.Output())
		})
	}
	t.Cleanup(stop)
	rig.Eventually(t, "the operator's readyz", func() bool {
		select {
		case <-p.Exited():
			t.Fatalf("the manager exited:\n%s", p.Output())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return stop
}

// httpDo makes a request and records its answer (status, headers, body) in o.
func httpDo(o *out, method, u, body string, headers map[string]string) (int, string) {
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.add("http errors", err.Error())
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var hs []string
	for k, v := range resp.Header {
		hs = append(hs, k+": "+strings.Join(v, ","))
	}
	if !strings.HasSuffix(u, "/metrics") {
		o.add("http answers", fmt.Sprintf("%s %s -> %d %s\n%s", method, filepath.Base(req.URL.Path), resp.StatusCode, strings.Join(hs, "; "), b))
	}
	return resp.StatusCode, string(b)
}

func sig1(body, secret string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(body))
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// waitConditionAfter writes again until the condition has the reason (the new Secret is
// applied asynchronously).
func waitConditionAfter(t *testing.T, key types.NamespacedName, say func(string), reason string) {
	t.Helper()
	rig.Eventually(t, "GraphAuthorized "+reason, func() bool {
		say("ping")
		for range 25 {
			c := meta.FindStatusCondition(rig.GetPage(t, key).Status.Conditions, v1alpha1.ConditionGraphAuthorized)
			if c != nil && c.Reason == reason {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	})
}
