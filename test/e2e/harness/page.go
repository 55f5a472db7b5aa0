package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// BotName is our app's readable name in the simulator's transcripts.
const BotName = "bot"

// PageOptions describe one page: the objects to apply and the platform around it.
type PageOptions struct {
	// Namespace is created for the page.
	Namespace string
	// Page is applied with its namespace set and spec.graphAPI.baseURL pointing at the simulator;
	// spec.pageID and spec.appID are required.
	Page *v1alpha1.MessengerPage
	// Policy is applied as it is (in Namespace).
	Policy *v1alpha1.HandoverPolicy
	// Secret is applied named as spec.secretRef says, with the simulator's page access token and
	// app secret under the page's keys; its other keys (a verify token) are kept. Nil: a Secret
	// with those two keys only, so the operator generates the verify token.
	Secret *corev1.Secret

	// ZeroConfig gives the Page no default app (Conversation Routing without a default app);
	// otherwise our app is the default app.
	ZeroConfig bool
	// BotCannotTake turns off the Page setting that lets our app take control of conversations.
	BotCannotTake bool
	// OtherApps connected to the Page besides ours and the Page Inbox.
	OtherApps []simulator.AppConfig
	// Users known to the Page (names for {{first_name}}).
	Users []simulator.UserConfig
	// Simulator, if set, edits the simulator's options last.
	Simulator func(*simulator.Options)
}

// Page is one MessengerPage served end to end: the objects in the cluster, the simulator playing
// the Messenger Platform, and the webhook process.
type Page struct {
	Namespace, Name string
	PageID, AppID   string
	// Sim is the Messenger Platform; Clock its clock (wall time that Advance can push on).
	Sim   *simulator.Simulator
	Clock *simulator.OffsetClock
	// SimURL is the simulator's base URL (the page's Graph API base URL).
	SimURL string
	// Webhook is the webhook process; CallbackURL what Meta calls, ProbeURL its probes' base.
	Webhook     *testenv.Process
	CallbackURL string
	ProbeURL    string
	// ServiceAccount is the identity the webhook runs as (from the operator's Deployment).
	ServiceAccount string
	// PageToken and AppSecret are the credentials in the Secret (for rotation tests; never log them).
	PageToken, AppSecret string

	env       *Env
	server    *simulator.Server
	transport *lossyTransport
	dir       string
	simLog    *lockedLog
	stopOnce  sync.Once
}

// StartPage applies the page's objects, waits for the operator to create the webhook's
// ServiceAccount and RBAC, then starts the simulator and the webhook (as that ServiceAccount),
// and returns once the webhook is ready.
func (e *Env) StartPage(ctx context.Context, o PageOptions) (*Page, error) {
	if o.Page == nil || o.Policy == nil || o.Namespace == "" {
		return nil, errors.New("harness: PageOptions needs Namespace, Page and Policy")
	}
	page := o.Page.DeepCopy()
	page.Namespace = o.Namespace
	dir, err := os.MkdirTemp(e.workdir, "page-"+o.Namespace+"-")
	if err != nil {
		return nil, err
	}
	p := &Page{Namespace: o.Namespace, Name: page.Name, PageID: page.Spec.PageID, AppID: page.Spec.AppID,
		env: e, dir: dir, simLog: &lockedLog{}, PageToken: "EAAE2E" + randomHex(24), AppSecret: randomHex(16)}
	e.mu.Lock()
	e.pages = append(e.pages, p)
	e.mu.Unlock()
	if err := p.start(ctx, o, page); err != nil {
		p.Stop()
		return nil, fmt.Errorf("page %s/%s: %w", o.Namespace, page.Name, err)
	}
	return p, nil
}

func (p *Page) start(ctx context.Context, o PageOptions, page *v1alpha1.MessengerPage) error {
	c := p.env.Cluster.Client
	// The simulator listens first: the page needs its URL. The webhook's address is chosen now
	// for the simulator's callback.
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p.SimURL = "http://" + simLn.Addr().String()
	addrs, err := testenv.FreeAddrs(2)
	if err != nil {
		_ = simLn.Close()
		return err
	}
	listen, probe := addrs[0], addrs[1]
	p.CallbackURL = "http://" + listen + page.Spec.WebhookPath()
	p.ProbeURL = "http://" + probe
	if err := p.startSimulator(o, simLn); err != nil {
		_ = simLn.Close()
		return err
	}

	p.env.logf("applying the Secret, HandoverPolicy and MessengerPage in namespace %s", p.Namespace)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := c.Create(ctx, p.secret(o.Secret, page)); err != nil {
		return err
	}
	policy := o.Policy.DeepCopy()
	policy.Namespace = p.Namespace
	if err := c.Create(ctx, policy); err != nil {
		return err
	}
	page.Spec.GraphAPI.BaseURL = p.SimURL
	if err := c.Create(ctx, page); err != nil {
		return err
	}

	p.env.logf("waiting for the operator to create the webhook's ServiceAccount and Role")
	if p.ServiceAccount, err = p.env.waitRBAC(ctx, p.Namespace, "MessengerPage", page.Name); err != nil {
		return err
	}
	env, err := p.env.auditKeyEnv(ctx, p.Namespace, specs.AuditKeySecretName(page.Name))
	if err != nil {
		return err
	}
	p.Webhook, err = p.env.startWebhook(p.Namespace, p.ServiceAccount, p.dir, listen, probe, env,
		// As the operator's Deployment does: where a generated verify token would be.
		"--page", p.Namespace+"/"+page.Name, "--verify-token-secret", specs.VerifyTokenSecretName(page.Name))
	return err
}

// startWebhook runs the webhook as the ServiceAccount sa of namespace ns (an impersonating
// kubeconfig written into dir), with env added to its environment, and waits for its readiness
// probe.
func (e *Env) startWebhook(ns, sa, dir, listen, probe string, env []string, args ...string) (*testenv.Process, error) {
	user, groups := testenv.ServiceAccountUser(ns, sa)
	// kwok's kubeconfig names its CA and client certificate by file; the impersonating
	// kubeconfig carries them inline.
	admin := rest.CopyConfig(e.Cluster.Config)
	if err := rest.LoadTLSFiles(admin); err != nil {
		return nil, err
	}
	kubeconfig, err := testenv.ImpersonatingKubeconfig(admin, dir, user, groups...)
	if err != nil {
		return nil, err
	}
	e.logf("starting the webhook as %s", user)
	proc, err := testenv.StartProcess(e.webhook, append(args,
		"--listen", listen,
		"--probe-addr", probe,
		"--kubeconfig", kubeconfig,
		"--drain-timeout", "5s",
		"--log-format", "text",
	), env...)
	if err != nil {
		return nil, err
	}
	return proc, waitHTTP(proc, "http://"+probe+"/readyz", 90*time.Second)
}

func (p *Page) startSimulator(o PageOptions, ln net.Listener) error {
	p.Clock = &simulator.OffsetClock{}
	p.transport = &lossyTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	pc := simulator.PageConfig{ID: p.PageID, Name: "Page " + p.Namespace, DefaultApp: BotName, Users: o.Users}
	if o.ZeroConfig {
		pc.DefaultApp = ""
	}
	apps := append([]simulator.AppConfig{{
		ID: p.AppID, Name: BotName, Secret: p.AppSecret, CallbackURL: p.CallbackURL, CanTake: !o.BotCannotTake,
	}}, o.OtherApps...)
	opts := simulator.Options{
		Clock:      p.Clock,
		Pages:      []simulator.PageConfig{pc},
		Apps:       apps,
		Tokens:     []simulator.TokenConfig{{App: BotName, Page: p.PageID, Token: p.PageToken}},
		HTTPClient: &http.Client{Transport: p.transport},
		Logf:       p.simLog.printf,
	}
	if o.Simulator != nil {
		o.Simulator(&opts)
	}
	sim, err := simulator.New(opts)
	if err != nil {
		return err
	}
	p.Sim = sim
	p.server = sim.Serve(ln)
	return nil
}

// secret is the page's Secret with the simulator's credentials under the page's keys.
func (p *Page) secret(tmpl *corev1.Secret, page *v1alpha1.MessengerPage) *corev1.Secret {
	s := &corev1.Secret{}
	if tmpl != nil {
		s = tmpl.DeepCopy()
	}
	s.Name, s.Namespace = page.Spec.SecretRef.Name, p.Namespace
	s.ResourceVersion = ""
	if s.StringData == nil {
		s.StringData = map[string]string{}
	}
	ref := page.Spec.SecretRef
	s.StringData[ref.GetPageAccessTokenKey()] = p.PageToken
	s.StringData[ref.GetAppSecretKey()] = p.AppSecret
	return s
}

// waitRBAC waits for the operator's Deployment owned by the ownerKind object ownerName, then for
// its ServiceAccount and a RoleBinding granting that ServiceAccount a Role, and returns the
// ServiceAccount's name.
func (e *Env) waitRBAC(ctx context.Context, ns, ownerKind, ownerName string) (string, error) {
	c := e.Cluster.Client
	var sa string
	err := Eventually(ctx, 90*time.Second, func() (bool, error) {
		var deps appsv1.DeploymentList
		if err := c.List(ctx, &deps, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, d := range deps.Items {
			for _, ref := range d.OwnerReferences {
				if ref.Kind == ownerKind && ref.Name == ownerName {
					sa = d.Spec.Template.Spec.ServiceAccountName
				}
			}
		}
		if sa == "" {
			return false, nil
		}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: sa}, &corev1.ServiceAccount{}); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		var bindings rbacv1.RoleBindingList
		if err := c.List(ctx, &bindings, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, b := range bindings.Items {
			for _, s := range b.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa {
					err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: b.RoleRef.Name}, &rbacv1.Role{})
					return err == nil, client.IgnoreNotFound(err)
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("the operator's webhook ServiceAccount and Role for %s %s/%s: %w\noperator output:\n%s", ownerKind, ns, ownerName, err, tail(e.Operator.Output(), 40))
	}
	return sa, nil
}

// Key is the MessengerPage's name.
func (p *Page) Key() types.NamespacedName {
	return types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
}

// Customer is the person psid writing to the page.
func (p *Page) Customer(psid string) *simulator.Customer { return p.Sim.Customer(p.PageID, psid) }

// Inbox is the Page Inbox, where people answer.
func (p *Page) Inbox() *simulator.Inbox { return p.Sim.Inbox(p.PageID) }

// Owner is the readable name of the app that owns psid's thread ("none" when idle).
func (p *Page) Owner(psid string) string { return p.Sim.Owner(p.PageID, psid) }

// Transcript is psid's conversation so far.
func (p *Page) Transcript(psid string) simulator.Transcript {
	return p.Sim.Transcript().For(p.PageID, psid)
}

// LoseAnswers makes the simulator lose the webhook's answers to its next n POSTs: the webhook
// handles them, the simulator redelivers them.
func (p *Page) LoseAnswers(n int) { p.transport.lose.Add(int32(n)) }

// SimulatorLog is the simulator's log (one line per transcript step and notable event).
func (p *Page) SimulatorLog() string { return p.simLog.String() }

// Stop stops the webhook (SIGTERM, then kill) and the simulator. The cluster objects stay.
func (p *Page) Stop() {
	p.stopOnce.Do(func() {
		if p.Webhook != nil {
			_ = p.Webhook.Stop(15 * time.Second)
		}
		if p.server != nil {
			_ = p.server.Close()
		}
		if p.Sim != nil {
			p.Sim.Close()
		}
		_ = os.RemoveAll(p.dir)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockedLog collects log lines from the simulator's goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format, args...)
	l.b.WriteByte('\n')
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// auditKeyEnv is the webhook's AUDIT_KEY from the Secret the operator generated, as the kubelet
// gives it to the operator's pods.
func (e *Env) auditKeyEnv(ctx context.Context, ns, secret string) ([]string, error) {
	s := &corev1.Secret{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := e.Cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: secret}, s)
		if err == nil && len(s.Data[v1alpha1.GeneratedAuditKeyKey]) > 0 {
			return []string{contract.EnvAuditKey + "=" + string(s.Data[v1alpha1.GeneratedAuditKeyKey])}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the audit key's Secret %s/%s: %v", ns, secret, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
