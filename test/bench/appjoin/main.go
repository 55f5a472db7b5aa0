// Command appjoin measures how long a page created for a MessengerApp takes to be served by the
// app's webhook: from the create of the MessengerPage (its Secret already there) to its Served
// condition, True for the page's generation. It starts an envtest API server (bin/k8s, or
// KUBEBUILDER_ASSETS), runs the webhook in-process in cluster mode with --app, has pages join one
// after the other, and prints ROW lines for hack/bench.sh. It does so twice: the webhook alone
// with the admin's rights (the webhook's own delay), then with the operator in the loop (the
// manager binary as a process): the webhook acts as the app's ServiceAccount, so it may read a
// page's Secret only once the operator has added it to the app's Role, as in a cluster.
//
//	go run ./test/bench/appjoin -joins 20 [-role=false: the webhook without --role]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

func main() {
	joins := flag.Int("joins", 20, "pages that join, one after the other, in each phase")
	role := flag.Bool("role", true, "with the operator: give the webhook its Role's name (--role), as the operator's Deployment does")
	manager := flag.String("manager", "", "the manager binary (default: built from ./cmd/manager)")
	flag.Parse()
	if err := run(*joins, *role, *manager); err != nil {
		fmt.Fprintln(os.Stderr, "appjoin:", err)
		os.Exit(1)
	}
}

func run(joins int, role bool, managerBin string) error {
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	ctx := context.Background()

	// The webhook alone, with every right.
	took, err := phase(ctx, env.Client, "bench", 1, joins, func(ns string) webhook.Options {
		return webhook.Options{RESTConfig: env.Config}
	})
	if err != nil {
		return err
	}
	rows("page join delay: create -> Served, the webhook alone (median / max of %d joins)", took)

	// The operator in the loop: it grants each page's Secret in the app's Role; the webhook acts
	// as the app's ServiceAccount.
	if managerBin == "" {
		if managerBin, err = testenv.Binary("manager"); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "appjoin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kc, err := testenv.KubeconfigFor(env.Config, dir)
	if err != nil {
		return err
	}
	addrs, err := testenv.FreeAddrs(2)
	if err != nil {
		return err
	}
	mgr, err := testenv.StartProcess(managerBin, []string{"--webhook-image", "bench.invalid/webhook:1",
		"--metrics-bind-address", addrs[0], "--metrics-secure=false", "--health-probe-bind-address", addrs[1],
		"--zap-log-level", "error"}, "KUBECONFIG="+kc)
	if err != nil {
		return err
	}
	defer func() { _ = mgr.Stop(10 * time.Second) }()
	sa := specs.AppWebhookName("shop")
	took, err = phase(ctx, env.Client, "bench-operator", 2, joins, func(ns string) webhook.Options {
		cfg := rest.CopyConfig(env.Config)
		user, groups := testenv.ServiceAccountUser(ns, sa)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
		o := webhook.Options{RESTConfig: cfg}
		if role {
			o.Role = sa
		}
		return o
	}, sa)
	if err != nil {
		return fmt.Errorf("%w\noperator output (tail):\n%s", err, mgr.Output())
	}
	what := "with the operator (it grants the Secret in the app's Role; the webhook as the app's ServiceAccount)"
	if !role {
		what += ", webhook without --role"
	}
	rows("page join delay: create -> Served, "+what+" (median / max of %d joins)", took)
	return nil
}

// rows prints the row of a phase's delays.
func rows(what string, took []time.Duration) {
	slices.Sort(took)
	med, worst := took[len(took)/2], took[len(took)-1]
	fmt.Printf("ROW|7 app webhook|"+what+"|%d ms / %d ms|< 1 s|%s\n",
		len(took), med.Milliseconds(), worst.Milliseconds(), map[bool]string{true: "pass", false: "miss"}[worst < time.Second])
}

// phase creates app "shop" in namespace ns, Meta app id, starts its webhook in-process with the
// options of opts (once the Role named waitRole exists, when given: the pod's Deployment comes
// after it) and waits until it is ready, then has joins pages join one after the other; it
// returns each page's delay. The ids differ from phase to phase: the operator would hold the
// second app and its pages in a claim conflict with the first's.
func phase(ctx context.Context, c client.Client, ns string, id, joins int, opts func(ns string) webhook.Options, waitRole ...string) ([]time.Duration, error) {
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app-creds", Namespace: ns}, StringData: map[string]string{"appSecret": "s", "verifyToken": "v"}},
		&v1alpha1.MessengerApp{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
			Spec: v1alpha1.MessengerAppSpec{AppID: fmt.Sprint(id), SecretRef: v1alpha1.AppSecretReference{Name: "app-creds"}}},
		&v1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns},
			Spec: v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Hello"}}},
	} {
		if err := c.Create(ctx, o); err != nil {
			return nil, err
		}
	}
	for _, name := range waitRole {
		if err := poll(ctx, 60*time.Second, func() (bool, error) {
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &rbacv1.Role{})
			return err == nil, client.IgnoreNotFound(err)
		}); err != nil {
			return nil, fmt.Errorf("the app's Role %s: %w", name, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := opts(ns)
	o.App, o.Listener, o.ProbeListener = types.NamespacedName{Namespace: ns, Name: "shop"}, ln, probe
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- webhook.Run(wctx, o) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "appjoin: the webhook:", err)
		}
	}()

	// A running webhook: its caches synced, the app's configuration applied.
	probeURL := "http://" + probe.Addr().String() + "/readyz"
	if err := poll(ctx, 60*time.Second, func() (bool, error) {
		resp, err := http.Get(probeURL)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		return nil, fmt.Errorf("the webhook of %s/shop ready: %w", ns, err)
	}
	var took []time.Duration
	for i := 1; i <= joins; i++ {
		name := fmt.Sprintf("page-%d", i)
		if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-creds", Namespace: ns},
			StringData: map[string]string{"pageAccessToken": "t"}}); err != nil {
			return nil, err
		}
		page := &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.MessengerPageSpec{PageID: fmt.Sprint(1000000000000000*id + i), AppRef: &v1alpha1.LocalReference{Name: "shop"},
				SecretRef: v1alpha1.SecretReference{Name: name + "-creds"}, PolicyRef: v1alpha1.LocalReference{Name: "support"},
				GraphAPI: v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)}}}
		start := time.Now()
		if err := c.Create(ctx, page); err != nil {
			return nil, err
		}
		d, err := waitServed(ctx, c, types.NamespacedName{Namespace: ns, Name: name}, start)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "bench: %s/%s served after %v\n", ns, name, d.Round(time.Millisecond))
		took = append(took, d)
	}
	return took, nil
}

// waitServed polls the page until its Served condition is True for its generation.
func waitServed(ctx context.Context, c client.Client, key types.NamespacedName, start time.Time) (time.Duration, error) {
	err := poll(ctx, 60*time.Second, func() (bool, error) {
		var p v1alpha1.MessengerPage
		if err := c.Get(ctx, key, &p); err != nil {
			return false, err
		}
		cond := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionServed)
		return cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == p.Generation, nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return time.Since(start), nil
}

// poll calls cond every 5 ms until it holds, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return errors.New("not within " + timeout.String())
}
