package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// The manager as main wires it: probes answer, both controllers run (a page gets its
// Deployment with the --webhook-image, a policy its status), and it stops with its context.
func TestRunWiresBothControllers(t *testing.T) {
	ctrl.SetLogger(logr.Discard())
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	probe := freeAddr(t)
	opts, err := parseOptions([]string{"--health-probe-bind-address=" + probe, "--webhook-image=registry.example/op:7"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, env.Config, opts) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the manager did not stop")
		}
	}()

	waitFor(t, "/readyz", func() bool {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	c := env.Client
	ns := "default"
	must(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns},
		StringData: map[string]string{"pageAccessToken": "t", "appSecret": "s", "verifyToken": "v"}}))
	must(t, c.Create(ctx, &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns}}))
	must(t, c.Create(ctx, &messengerv1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns},
		Spec: messengerv1alpha1.MessengerPageSpec{PageID: "1", AppID: "2",
			SecretRef: messengerv1alpha1.SecretReference{Name: "creds"}, PolicyRef: messengerv1alpha1.LocalReference{Name: "support"}},
	}))
	waitFor(t, "the webhook Deployment", func() bool {
		d := &appsv1.Deployment{}
		return c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "acme-webhook"}, d) == nil &&
			d.Spec.Template.Spec.Containers[0].Image == "registry.example/op:7"
	})
	waitFor(t, "the policy's status", func() bool {
		p := &messengerv1alpha1.HandoverPolicy{}
		return c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "support"}, p) == nil &&
			apimeta.IsStatusConditionTrue(p.Status.Conditions, messengerv1alpha1.ConditionReady) && p.Status.Pages == 1
	})
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Sprint(err))
	}
}
