// Command appjoin measures how long a page created for a MessengerApp takes to be served by the
// app's webhook: from the create of the MessengerPage (its Secret already there) to its Served
// condition, True for the page's generation. It starts an envtest API server (bin/k8s, or
// KUBEBUILDER_ASSETS), runs the webhook in-process in cluster mode with --app, has pages join one
// after the other, and prints ROW lines for hack/bench.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

const ns = "bench"

func main() {
	joins := flag.Int("joins", 20, "pages that join, one after the other")
	flag.Parse()
	if err := run(*joins); err != nil {
		fmt.Fprintln(os.Stderr, "appjoin:", err)
		os.Exit(1)
	}
}

func run(joins int) error {
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	ctx := context.Background()
	c := env.Client
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app-creds", Namespace: ns}, StringData: map[string]string{"appSecret": "s", "verifyToken": "v"}},
		&v1alpha1.MessengerApp{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
			Spec: v1alpha1.MessengerAppSpec{AppID: "1", SecretRef: v1alpha1.AppSecretReference{Name: "app-creds"}}},
		&v1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns},
			Spec: v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: "Hello"}}},
	} {
		if err := c.Create(ctx, o); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(wctx, webhook.Options{App: types.NamespacedName{Namespace: ns, Name: "shop"}, RESTConfig: env.Config,
			Listener: ln, ProbeListener: probe, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "appjoin: the webhook:", err)
		}
	}()

	var took []time.Duration
	for i := 1; i <= joins; i++ {
		name := fmt.Sprintf("page-%d", i)
		if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-creds", Namespace: ns},
			StringData: map[string]string{"pageAccessToken": "t"}}); err != nil {
			return err
		}
		page := &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.MessengerPageSpec{PageID: fmt.Sprint(1000000000000000 + i), AppRef: &v1alpha1.LocalReference{Name: "shop"},
				SecretRef: v1alpha1.SecretReference{Name: name + "-creds"}, PolicyRef: v1alpha1.LocalReference{Name: "support"},
				GraphAPI: v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)}}}
		start := time.Now()
		if err := c.Create(ctx, page); err != nil {
			return err
		}
		d, err := waitServed(ctx, c, types.NamespacedName{Namespace: ns, Name: name}, start)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: %s served after %v\n", name, d.Round(time.Millisecond))
		took = append(took, d)
	}
	slices.Sort(took)
	med, worst := took[len(took)/2], took[len(took)-1]
	fmt.Printf("ROW|7 app webhook|page join delay: create -> Served (median / max of %d joins)|%d ms / %d ms|< 1 s|%s\n",
		joins, med.Milliseconds(), worst.Milliseconds(), map[bool]string{true: "pass", false: "miss"}[worst < time.Second])
	return nil
}

// waitServed polls the page until its Served condition is True for its generation.
func waitServed(ctx context.Context, c client.Client, key types.NamespacedName, start time.Time) (time.Duration, error) {
	deadline := start.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var p v1alpha1.MessengerPage
		if err := c.Get(ctx, key, &p); err != nil {
			return 0, err
		}
		if cond := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionServed); cond != nil &&
			cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == p.Generation {
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s not served within 60s", key)
}
