package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// AppPage is a Page of the app as Meta knows it. The simulator knows every Page of the app from
// the start, so entries of a Page whose MessengerPage does not exist (yet, or any more) reach the
// app's webhook as they would from Meta.
type AppPage struct {
	ID, Name string
	Users    []simulator.UserConfig
}

// AppOptions describe one MessengerApp, its Pages at Meta, and the platform around it.
type AppOptions struct {
	// Namespace is created if missing; several apps may share it.
	Namespace string
	// App is applied with its namespace set, spec.graphAPI.baseURL pointing at the simulator and,
	// when it registers its callback, spec.subscription.callbackURL at the webhook process;
	// metadata.name, spec.appID and spec.secretRef.name are required.
	App *v1alpha1.MessengerApp
	// Pages at Meta connected to the app, our app their default app.
	Pages []AppPage
	// Platform, instead of Pages, puts the app on the Messenger Platform of a standalone page
	// whose app this is (spec.appID the page's app id): to move the page onto the app. The
	// app's secret is the page's; Meta keeps calling the page's webhook until the app's
	// callback is registered (spec.subscription.registerCallback).
	Platform *Page
	// Simulator, if set, edits the simulator's options last.
	Simulator func(*simulator.Options)
}

// App is one MessengerApp served end to end: its objects in the cluster, the simulator playing
// the Messenger Platform for its Pages, and the app's webhook process.
type App struct {
	Namespace, Name, AppID string
	Sim                    *simulator.Simulator
	SimURL                 string
	// Webhook is the app's webhook process; CallbackURL what Meta calls, ProbeURL its probes' base.
	Webhook     *testenv.Process
	CallbackURL string
	ProbeURL    string
	// ServiceAccount is the identity the webhook runs as (from the operator's Deployment).
	ServiceAccount string
	// AppSecret is in the app's Secret; PageTokens the page access token of each Page id (never
	// log them).
	AppSecret  string
	PageTokens map[string]string

	env      *Env
	server   *simulator.Server
	shared   bool // the simulator is a page's (Platform), which stops it
	dir      string
	simLog   *lockedLog
	stopOnce sync.Once
}

// StartApp applies the app's Secret and MessengerApp (no MessengerPage: see AddPage), waits for
// the operator's webhook ServiceAccount and RBAC, then starts the simulator and the app's
// webhook (as that ServiceAccount), and returns once the webhook is ready.
func (e *Env) StartApp(ctx context.Context, o AppOptions) (*App, error) {
	if o.App == nil || o.Namespace == "" || o.App.Spec.SecretRef.Name == "" || (len(o.Pages) == 0) == (o.Platform == nil) {
		return nil, errors.New("harness: AppOptions needs Namespace, App (with spec.secretRef.name), and Pages or Platform")
	}
	app := o.App.DeepCopy()
	app.Namespace = o.Namespace
	dir, err := os.MkdirTemp(e.workdir, "app-"+o.Namespace+"-"+app.Name+"-")
	if err != nil {
		return nil, err
	}
	a := &App{Namespace: o.Namespace, Name: app.Name, AppID: app.Spec.AppID, env: e, dir: dir,
		simLog: &lockedLog{}, AppSecret: randomHex(16), PageTokens: map[string]string{}}
	for _, pg := range o.Pages {
		a.PageTokens[pg.ID] = "EAAE2E" + randomHex(24)
	}
	if p := o.Platform; p != nil {
		a.AppSecret, a.PageTokens[p.PageID] = p.AppSecret, p.PageToken
	}
	e.mu.Lock()
	e.apps = append(e.apps, a)
	e.mu.Unlock()
	if err := a.start(ctx, o, app); err != nil {
		a.Stop()
		return nil, fmt.Errorf("app %s/%s: %w", o.Namespace, app.Name, err)
	}
	return a, nil
}

func (a *App) start(ctx context.Context, o AppOptions, app *v1alpha1.MessengerApp) error {
	c := a.env.Cluster.Client
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	a.SimURL = "http://" + simLn.Addr().String()
	addrs, err := testenv.FreeAddrs(2)
	if err != nil {
		_ = simLn.Close()
		return err
	}
	listen, probe := addrs[0], addrs[1]
	a.CallbackURL = "http://" + listen + app.Spec.WebhookPath()
	a.ProbeURL = "http://" + probe
	if o.Platform != nil {
		_ = simLn.Close()
		a.Sim, a.SimURL, a.shared = o.Platform.Sim, o.Platform.SimURL, true
	} else if err := a.startSimulator(o, simLn); err != nil {
		_ = simLn.Close()
		return err
	}

	a.env.logf("applying the app's Secret and MessengerApp %s in namespace %s", app.Name, a.Namespace)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.Namespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	ref := app.Spec.SecretRef
	if err := c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: ref.Name},
		StringData: map[string]string{ref.GetAppSecretKey(): a.AppSecret},
	}); err != nil {
		return err
	}
	app.Spec.GraphAPI.BaseURL = a.SimURL
	if sub := app.Spec.Subscription; sub != nil && sub.RegistersCallback() {
		// Meta is to call the webhook process (the operator registers and Meta verifies it).
		sub.CallbackURL = a.CallbackURL
	}
	if err := c.Create(ctx, app); err != nil {
		return err
	}

	a.env.logf("waiting for the operator to create the app's webhook ServiceAccount and Role")
	if a.ServiceAccount, err = a.env.waitRBAC(ctx, a.Namespace, "MessengerApp", app.Name); err != nil {
		return err
	}
	if want := specs.AppWebhookName(app.Name); a.ServiceAccount != want {
		return fmt.Errorf("the app's Deployment runs as %q, want %q", a.ServiceAccount, want)
	}
	env, err := a.env.auditKeyEnv(ctx, a.Namespace, specs.AppAuditKeySecretName(app.Name))
	if err != nil {
		return err
	}
	a.Webhook, err = a.env.startWebhook(a.Namespace, a.ServiceAccount, a.dir, listen, probe, env,
		// As the operator's Deployment of an app does.
		"--app", a.Namespace+"/"+app.Name, "--verify-token-secret", specs.AppVerifyTokenSecretName(app.Name))
	return err
}

func (a *App) startSimulator(o AppOptions, ln net.Listener) error {
	opts := simulator.Options{
		Clock: &simulator.OffsetClock{},
		Apps: []simulator.AppConfig{{
			ID: a.AppID, Name: BotName, Secret: a.AppSecret, CallbackURL: a.CallbackURL, CanTake: true,
		}},
		HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		Logf:       a.simLog.printf,
	}
	for _, pg := range o.Pages {
		opts.Pages = append(opts.Pages, simulator.PageConfig{ID: pg.ID, Name: pg.Name, DefaultApp: BotName, Users: pg.Users})
		opts.Tokens = append(opts.Tokens, simulator.TokenConfig{App: BotName, Page: pg.ID, Token: a.PageTokens[pg.ID]})
	}
	if o.Simulator != nil {
		o.Simulator(&opts)
	}
	sim, err := simulator.New(opts)
	if err != nil {
		return err
	}
	a.Sim = sim
	a.server = sim.Serve(ln)
	return nil
}

// AddPage applies a Secret holding the Page's access token (named as spec.secretRef says) and the
// MessengerPage with spec.appRef naming this app. The Page must be one of AppOptions.Pages.
func (a *App) AddPage(ctx context.Context, page *v1alpha1.MessengerPage) error {
	token, ok := a.PageTokens[page.Spec.PageID]
	if !ok {
		return fmt.Errorf("harness: page id %s is not a Page of app %s at the simulator", page.Spec.PageID, a.Name)
	}
	c := a.env.Cluster.Client
	page = page.DeepCopy()
	page.Namespace = a.Namespace
	page.Spec.AppRef = &v1alpha1.LocalReference{Name: a.Name}
	page.Spec.AppID = ""
	ref := page.Spec.SecretRef
	if err := c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: ref.Name},
		StringData: map[string]string{ref.GetPageAccessTokenKey(): token},
	}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	a.env.logf("applying MessengerPage %s/%s of app %s", a.Namespace, page.Name, a.Name)
	return c.Create(ctx, page)
}

// PageCondition waits until the MessengerPage name's condition typ has status (and reason, when
// not empty), and returns it.
func (a *App) PageCondition(ctx context.Context, name, typ string, status metav1.ConditionStatus, reason string) (*metav1.Condition, error) {
	return waitCondition(ctx, a.env, types.NamespacedName{Namespace: a.Namespace, Name: name}, typ, status, reason)
}

// Unserved is the webhook's count of entries of pages the app does not serve.
func (a *App) Unserved(ctx context.Context) (int, error) {
	v, err := metric(ctx, a.ProbeURL, "messenger_webhook_unserved_entries_total")
	return int(v), err
}

// WaitUnserved waits until the webhook has counted more than before unserved entries.
func (a *App) WaitUnserved(ctx context.Context, before int) (int, error) {
	var n int
	err := Eventually(ctx, 60*time.Second, func() (bool, error) {
		var err error
		n, err = a.Unserved(ctx)
		return n > before, err
	})
	return n, err
}

// Customer is the person psid writing to the Page pageID.
func (a *App) Customer(pageID, psid string) *simulator.Customer { return a.Sim.Customer(pageID, psid) }

// SimulatorLog is the simulator's log.
func (a *App) SimulatorLog() string { return a.simLog.String() }

// Stop stops the webhook (SIGTERM, then kill) and the simulator (unless it is a page's). The
// cluster objects stay.
func (a *App) Stop() {
	a.stopOnce.Do(func() {
		if a.Webhook != nil {
			_ = a.Webhook.Stop(15 * time.Second)
		}
		if a.server != nil {
			_ = a.server.Close()
		}
		if a.Sim != nil && !a.shared {
			a.Sim.Close()
		}
		_ = os.RemoveAll(a.dir)
	})
}
