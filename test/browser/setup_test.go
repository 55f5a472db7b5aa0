package browser

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/playground"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// The customers of the playground: two people writing to the page.
var customers = []playground.Customer{{PSID: "2600000000000001", Name: "Ada"}, {PSID: "2600000000000002", Name: "Grace"}}

// world is one playground with everything it talks to.
type world struct {
	URL     string // the playground's page
	Sim     *simulator.Simulator
	Webhook *rig.Webhook
	Page    *rig.Page
	Policy  types.NamespacedName
}

// startWorld starts a page with the tutorial's policy in its own namespace, the simulator, the
// webhook (as the page's ServiceAccount, logging to a file the playground reads) and the
// playground, whose identity may only get and update handoverpolicies.
func startWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	p := &rig.Page{NS: rig.UniqueNS("playground"), PageID: "1000000000000001", AppID: "1517776481860111", AppName: "bot",
		Token: "EAAplayground", AppSecret: "playground-app-secret", VerifyToken: "playground-verify"}
	whLn := rig.Listen(t)
	sim := rig.NewSimulator(t, func(*rig.Page) string { return "http://" + whLn.Addr().String() + rig.HookPath }, p)
	simSrv := sim.Serve(rig.Listen(t))
	t.Cleanup(func() { _ = simSrv.Close() })
	p.GraphURL = simSrv.URL
	rig.CreatePage(t, p)
	rig.CreateSecret(t, p)
	key := types.NamespacedName{Namespace: p.NS, Name: rig.PolicyName}
	// The tutorial's conversation: the empty spec.
	rig.Update(t, &v1alpha1.HandoverPolicy{}, key, func(pol *v1alpha1.HandoverPolicy) { pol.Spec = v1alpha1.HandoverPolicySpec{} })

	logPath := filepath.Join(t.TempDir(), "webhook.log")
	logFile, err := os.Create(logPath)
	rig.Must(t, err)
	t.Cleanup(func() { _ = logFile.Close() })
	wh := rig.StartReady(t, webhook.Options{Page: p.Key(), RESTConfig: rig.WebhookUser(t, p.Key()), Listener: whLn,
		AuditKey: []byte("playground-audit-key"), Logger: slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))})

	pg := playground.New(playground.Options{SimulatorURL: simSrv.URL, Client: policyEditor(t, p.NS), Policy: key, AuditLog: logPath,
		Pages: []playground.Page{{ID: p.PageID, Name: "Shop"}}, Customers: customers})
	srv := httptest.NewServer(pg.Handler())
	t.Cleanup(srv.Close)
	_ = ctx
	return &world{URL: srv.URL, Sim: sim, Webhook: wh, Page: p, Policy: key}
}

// policyEditor is the playground's identity: a Role that gets and updates handoverpolicies, no more.
func policyEditor(t *testing.T, ns string) client.Client {
	t.Helper()
	ctx := context.Background()
	c := rig.Env.Client
	rig.Must(t, c.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "playground", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"handoverpolicies"}, Verbs: []string{"get", "update"}}}}))
	rig.Must(t, c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "playground", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "playground"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "playground-" + ns}}}))
	cfg, err := rig.Env.AddUser("playground-" + ns)
	rig.Must(t, err)
	pc, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	rig.Must(t, err)
	return pc
}

// chromium is Debian's Chromium (hack/test.sh installs it); CHROMIUM names another binary.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: install Debian's chromium package (hack/test.sh does, as root)")
	return ""
}

// screenshotDir is where the screenshots are kept.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PLAYGROUND_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(testenv.RepoRoot(), "bin", "screenshots")
	}
	rig.Must(t, os.MkdirAll(dir, 0o755))
	return dir
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
