// Command playground is `make playground`: the setup of `make demo` (a local kwok cluster, the
// operator, the app sample with its two Pages and the sample policy, pointed at the Messenger
// Platform simulator, and the app's webhook) that stays up and serves the handover playground
// (bin/playground) on localhost until Ctrl-C, then removes everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

const (
	namespace = "playground"
	// user is the playground's identity in the cluster: it may get and update handoverpolicies.
	user = "messenger-playground"
)

// The customers of the playground, known to the simulator on both Pages.
var customers = []simulator.UserConfig{
	{PSID: "27458394012345678", FirstName: "Ada", LastName: "Lovelace"},
	{PSID: "27458394012345679", FirstName: "Grace", LastName: "Hopper"},
	{PSID: "27458394012345680", FirstName: "Alan", LastName: "Turing"},
}

func main() {
	manager := flag.String("manager", "bin/manager", "the operator's binary")
	webhook := flag.String("webhook", "bin/webhook", "the webhook's binary")
	server := flag.String("playground", "bin/playground", "the playground's binary")
	samples := flag.String("samples", "config/samples", "directory of the sample HandoverPolicy, with the app sample in app/")
	listen := flag.String("listen", "127.0.0.1:8090", "address of the playground (loopback only)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	env, err := run(ctx, *manager, *webhook, *server, *samples, *listen)
	if env != nil {
		fmt.Println("\nCleaning up: the playground, the webhook, the simulator, the operator, the cluster and their files")
		env.Stop()
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
	fmt.Println("Done; everything the playground started was removed.")
}

func run(ctx context.Context, manager, webhook, server, samples, listen string) (*harness.Env, error) {
	pol, app, pages, err := loadSamples(samples)
	if err != nil {
		return nil, err
	}
	fmt.Println("Starting a local cluster (kwok), the operator, the app sample with two Pages, the simulator and the webhook...")
	env, err := harness.Start(harness.Options{Name: fmt.Sprintf("messenger-playground-%d", os.Getpid()), ManagerBinary: manager,
		WebhookBinary: webhook, Logf: func(f string, a ...any) { fmt.Printf("   "+f+"\n", a...) }})
	if err != nil {
		return nil, err
	}
	app.Spec.Ingress = nil
	var atMeta []harness.AppPage
	for _, p := range pages {
		atMeta = append(atMeta, harness.AppPage{ID: p.Spec.PageID, Name: p.Spec.BusinessName, Users: customers})
	}
	a, err := env.StartApp(ctx, harness.AppOptions{Namespace: namespace, App: app, Pages: atMeta})
	if err != nil {
		return env, err
	}
	if bh := pol.Spec.BusinessHours; bh != nil {
		bh.OutsideHours.Action = v1alpha1.OutsidePassAnyway // hands over at any hour, as the demo does
	}
	pol.Namespace = namespace
	c := env.Cluster.Client
	if err := c.Create(ctx, pol); err != nil {
		return env, err
	}
	for _, p := range pages {
		if err := a.AddPage(ctx, p); err != nil {
			return env, err
		}
	}
	for _, p := range pages {
		if _, err := a.PageCondition(ctx, p.Name, v1alpha1.ConditionReady, "True", ""); err != nil {
			return env, err
		}
	}
	dir, err := os.MkdirTemp("", "messenger-playground-")
	if err != nil {
		return env, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfig, err := policyEditor(ctx, env, dir)
	if err != nil {
		return env, err
	}
	logPath := filepath.Join(dir, "webhook.log")
	go copyLog(ctx, a.Webhook, logPath)
	args := []string{"--listen", listen, "--simulator", a.SimURL, "--kubeconfig", kubeconfig,
		"--policy", namespace + "/" + pol.Name, "--audit-log", logPath}
	for _, p := range pages {
		args = append(args, "--page", p.Spec.PageID+"="+p.Spec.BusinessName+" ("+p.Name+")")
	}
	for _, u := range customers {
		args = append(args, "--customer", u.PSID+"="+u.FirstName)
	}
	proc, err := testenv.StartProcess(server, args)
	if err != nil {
		return env, err
	}
	defer func() { _ = proc.Stop(5 * time.Second) }()
	url := "http://" + listen + "/"
	for i := 0; i < 100 && !strings.Contains(proc.Output(), "The playground is at"); i++ {
		select {
		case <-proc.Exited():
			return env, fmt.Errorf("bin/playground exited: %s", proc.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Printf("\nThe playground is at %s  (policy %s/%s, Pages %d; Ctrl-C removes everything)\n", url, namespace, pol.Name, len(pages))
	select {
	case <-ctx.Done():
	case <-proc.Exited():
		return env, fmt.Errorf("bin/playground exited: %s", proc.Output())
	}
	return env, nil
}

// policyEditor grants the playground's user get and update of handoverpolicies in the
// namespace, nothing more, and writes a kubeconfig that acts as that user.
func policyEditor(ctx context.Context, env *harness.Env, dir string) (string, error) {
	c := env.Cluster.Client
	meta := metav1.ObjectMeta{Name: "messenger-playground", Namespace: namespace}
	if err := c.Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"handoverpolicies"}, Verbs: []string{"get", "update"}}}}); err != nil {
		return "", err
	}
	if err := c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: meta,
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: meta.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}); err != nil {
		return "", err
	}
	return testenv.ImpersonatingKubeconfig(env.Cluster.Config, dir, user)
}

// copyLog appends what the webhook logs to path, where the playground reads the audit.
func copyLog(ctx context.Context, p *testenv.Process, path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	done := 0
	for {
		out := p.Output()
		if len(out) > done {
			_, _ = f.WriteString(out[done:])
			done = len(out)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// loadSamples reads the policy of dir and the app sample of dir/app.
func loadSamples(dir string) (*v1alpha1.HandoverPolicy, *v1alpha1.MessengerApp, []*v1alpha1.MessengerPage, error) {
	pol, app := &v1alpha1.HandoverPolicy{}, &v1alpha1.MessengerApp{}
	for file, obj := range map[string]any{"messenger_v1alpha1_handoverpolicy.yaml": pol, "app/messengerapp.yaml": app} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, nil, nil, err
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "app", "messengerpages.yaml"))
	if err != nil {
		return nil, nil, nil, err
	}
	var pages []*v1alpha1.MessengerPage
	for _, doc := range strings.Split(string(data), "\n---\n") {
		p := &v1alpha1.MessengerPage{}
		if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
			return nil, nil, nil, fmt.Errorf("app/messengerpages.yaml: %w", err)
		}
		pages = append(pages, p)
	}
	return pol, app, pages, nil
}
