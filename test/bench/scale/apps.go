package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// appsPrefix names the namespaces of the app phase: one app per namespace.
const appsPrefix = "bench-apps-"

func app(ns, name string, i int, graphURL string) *v1alpha1.MessengerApp {
	return &v1alpha1.MessengerApp{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.MessengerAppSpec{
			AppID:     fmt.Sprintf("%d", 1600000000000000+i),
			SecretRef: v1alpha1.AppSecretReference{Name: name + "-credentials"},
			GraphAPI:  v1alpha1.AppGraphAPISpec{BaseURL: graphURL},
		},
	}
}

func appPage(ns string, i int, appName, policyName string) *v1alpha1.MessengerPage {
	return &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%d", i), Namespace: ns},
		Spec: v1alpha1.MessengerPageSpec{
			PageID:    fmt.Sprintf("%d", 1100000000000000+i),
			AppRef:    &v1alpha1.LocalReference{Name: appName},
			SecretRef: v1alpha1.SecretReference{Name: fmt.Sprintf("page-%d-credentials", i)},
			PolicyRef: v1alpha1.LocalReference{Name: policyName},
			GraphAPI:  v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)},
		},
	}
}

// appNamespaces creates the namespaces prefix0 to prefix<apps-1> and their policies: what the app
// phase has before its clock starts.
func appNamespaces(ctx context.Context, c client.Client, prefix string, apps int) error {
	var objs []client.Object
	for i := range apps {
		objs = append(objs, namespace(fmt.Sprintf("%s%d", prefix, i)))
	}
	if err := createAll(ctx, c, objs); err != nil {
		return err
	}
	objs = objs[:0]
	for i := range apps {
		ns := fmt.Sprintf("%s%d", prefix, i)
		for j := range policiesPer {
			objs = append(objs, policy(ns, fmt.Sprintf("policy-%d", j), fmt.Sprintf("Welcome from policy %d", j)))
		}
	}
	return createAll(ctx, c, objs)
}

// appObjects are the apps app-0 to app-<apps-1>, one in each namespace of the prefix, and their
// Secrets.
func appObjects(prefix string, apps int) []client.Object {
	var objs []client.Object
	for i := range apps {
		ns, name := fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("app-%d", i)
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: ns},
			StringData: map[string]string{"appSecret": "appsecret", "verifyToken": "bench-verify"}},
			app(ns, name, i, "http://127.0.0.1:1"))
	}
	return objs
}

// appsPhase creates apps MessengerApps, one per namespace, and n MessengerPages spread over them,
// and returns the time from the first create to every page Ready. kwok runs no containers, so
// one webhook process per app, in cluster mode, stands in for the app's pod: it is what marks
// the pages Served, as the pod would. Like the pod it acts as the app's ServiceAccount (an
// impersonating kubeconfig), so it reads only what the app's Role grants as the operator grants
// it, and it starts once that Role exists (the pod's Deployment comes after it); it gets the
// Role's name in env ROLE, as the operator's Deployment sets it. tl records each page's steps.
// stop ends those processes.
func appsPhase(ctx context.Context, cl *testenv.Cluster, w *watcher, webhookBin string, n, apps int, tl *timeline) (took time.Duration, stop func(), err error) {
	c := cl.Client
	var procs []*testenv.Process
	stop = func() {
		for _, p := range procs {
			_ = p.Stop(10 * time.Second)
		}
	}
	if err := appNamespaces(ctx, c, appsPrefix, apps); err != nil {
		return 0, stop, err
	}
	objs := appObjects(appsPrefix, apps)
	pages := make([]client.Object, 0, 2*n)
	for i := range n {
		ns := fmt.Sprintf("%s%d", appsPrefix, i%apps)
		pages = append(pages, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%d-credentials", i), Namespace: ns},
			StringData: map[string]string{"pageAccessToken": "bench-token"}},
			appPage(ns, i, fmt.Sprintf("app-%d", i%apps), fmt.Sprintf("policy-%d", i%policiesPer)))
	}
	dir, err := os.MkdirTemp("", "bench-apps-")
	if err != nil {
		return 0, stop, err
	}
	// With BENCH_COUNT_WEBHOOKS=1 the app webhooks' requests are counted by a proxy of their own
	// (in this process: its CPU time counts as the bench's, on the same cores).
	var hooks *countingProxy
	if os.Getenv("BENCH_COUNT_WEBHOOKS") == "1" {
		if hooks, err = startProxy(cl.Config); err != nil {
			return 0, stop, err
		}
	}
	defer os.RemoveAll(dir) // each process has read its kubeconfig by the time the phase ends
	t0 := time.Now()
	if err := createAll(ctx, c, objs); err != nil {
		return 0, stop, err
	}
	for i := range apps {
		ns, name := fmt.Sprintf("%s%d", appsPrefix, i), fmt.Sprintf("app-%d", i)
		sa := specs.AppWebhookName(name)
		if _, err := until(ctx, "the Role of "+ns+"/"+name, 1, 2*time.Minute, func() int { return w.roles(ctx, ns, sa) }); err != nil {
			return 0, stop, err
		}
		user, groups := testenv.ServiceAccountUser(ns, sa)
		var kc string
		if hooks != nil {
			kc, err = hooks.kubeconfigAs(dir, "kubeconfig-"+ns, user, groups...)
		} else {
			kc, err = testenv.ImpersonatingKubeconfig(cl.Config, dir, user, groups...)
		}
		if err != nil {
			return 0, stop, err
		}
		p, err := testenv.StartProcess(webhookBin, []string{"--app", ns + "/" + name,
			"--verify-token-secret", specs.AppVerifyTokenSecretName(name),
			"--listen", freeAddr(), "--probe-addr", freeAddr(), "--kubeconfig", kc, "--log-level", "warn"},
			// An env var, not --role: a webhook built before the flag ignores it.
			"ROLE="+sa)
		if err != nil {
			return 0, stop, err
		}
		procs = append(procs, p)
	}
	if path := os.Getenv("BENCH_PROFILE"); path != "" {
		// The API server's CPU profile of the phase's first 30 s.
		go func() {
			if err := profileAPIServer(ctx, cl.Config, 30*time.Second, path); err != nil {
				note("profile of the API server: %v", err)
				return
			}
			note("profile of the API server in the app phase (30 s from the pages' creates): %s", path)
		}()
	}
	t1 := time.Now()
	if err := createAllThen(ctx, c, pages, func(o client.Object) {
		if _, ok := o.(*v1alpha1.MessengerPage); ok {
			tl.createdAt(o.GetNamespace(), o.GetName(), time.Now())
		}
	}); err != nil {
		return 0, stop, err
	}
	note("app phase: the apps' Roles there and their webhooks started %s after the first create; the pages and their Secrets created in the next %s",
		t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	// A webhook that exits (a listen port taken meanwhile by another process) would leave its
	// app's pages waiting until the timeout: the phase ends at once, with its output.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var exited atomic.Pointer[testenv.Process]
	for _, p := range procs {
		go func() {
			select {
			case <-p.Exited():
				exited.Store(p)
				cancel()
			case <-wctx.Done():
			}
		}()
	}
	tReady, err := until(wctx, "app pages Ready", n, 20*time.Minute, func() int { return w.readyPages(ctx, appsPrefix) })
	if err != nil {
		if p := exited.Load(); p != nil {
			return 0, stop, fmt.Errorf("an app webhook exited; its output (tail):\n%s", tail(p.Output(), 20))
		}
		return 0, stop, fmt.Errorf("%w\nfirst app webhook's output (tail):\n%s", err, tail(procs[0].Output(), 20))
	}
	cancel()
	// Where the machine's CPU went (the control plane shares it): the app webhooks' part.
	var webhookCPU float64
	for _, p := range procs {
		webhookCPU += cpuSeconds(p.Pid())
	}
	note("CPU time of the %d app webhooks until every page was Ready: %.1f s", len(procs), webhookCPU)
	if hooks != nil {
		hc := hooks.take()
		note("app webhooks' requests until every page was Ready: %d (%s), mean latency %s; by resource: %s",
			total(hc), verbs(hc), hooks.meanLatency(), verbs(hooks.takeResources()))
	}
	return tReady.Sub(t0), stop, nil
}
