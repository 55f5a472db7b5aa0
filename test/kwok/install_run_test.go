package kwok

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// `kubectl apply -k config/default` installs the operator; the manager, run with the installed
// ServiceAccount and the Deployment's flags, reconciles the samples (config/samples, with the
// placeholder Secret) to Ready, and serves its metrics to the scraper the install's metrics-reader role is meant for, only.
func TestKustomizeInstallReconcilesTheSamples(t *testing.T) {
	ctx := context.Background()
	inst := installKustomize(t)
	ns := &corev1.Namespace{}
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Name: inst.namespace}, ns))
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("the install's namespace does not enforce the restricted Pod Security Standard: %v", ns.Labels)
	}
	op := newOperator(t, inst)
	if !slices.Contains(op.args, "--leader-elect") {
		t.Fatalf("the install runs the manager without leader election: %v", op.args)
	}
	op.start(t)

	pages := namespace(t, "samples", nil)
	kubectl(t, nil, "apply", "-n", pages, "-k", filepath.Join(testenv.RepoRoot(), "config", "samples", "placeholder-secrets"))
	kubectl(t, nil, "apply", "-n", pages, "-f", filepath.Join(testenv.RepoRoot(), "config", "samples"))
	page := &messengerPage{}
	page.Name, page.Namespace = "acme-support", pages
	got := waitReady(t, page)
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, webhookKey(got), d))
	if img := d.Spec.Template.Spec.Containers[0].Image; img != op.webhookImg {
		t.Fatalf("webhook image %q, want the install's %q", img, op.webhookImg)
	}
	// Leader election ran in the install's namespace (the Role the install grants there).
	out := kubectl(t, nil, "get", "lease", "-n", inst.namespace, "-o", "name")
	if !strings.Contains(out, "messenger-operator.messenger.handover.dev") {
		t.Fatalf("no leader election Lease in %s: %s", inst.namespace, out)
	}

	// Metrics: authenticated and authorized by the API server, through the install's RBAC.
	if code, _ := op.getMetrics(t, ""); code != http.StatusUnauthorized {
		t.Fatalf("metrics without a token: %d, want 401", code)
	}
	if code, _ := op.getMetrics(t, op.scraperToken(t, false)); code != http.StatusForbidden {
		t.Fatalf("metrics with a token not bound to the metrics-reader role: %d, want 403", code)
	}
	code, text := op.getMetrics(t, op.scraperToken(t, true))
	if code != http.StatusOK || metric(text, "controller_runtime_reconcile_total", "controller", "messengerpage", "result", "success") == 0 {
		t.Fatalf("metrics for the scraper: %d\n%s", code, tail(text, 20))
	}
}

// The Helm chart, rendered and applied, installs an operator limited to the namespaces of
// watchNamespaces: it reconciles a page there, and leaves a page elsewhere alone.
func TestHelmInstallReconcilesWatchedNamespaces(t *testing.T) {
	ctx := context.Background()
	watched := namespace(t, "helm-watched", nil)
	other := namespace(t, "helm-other", nil)
	inst := installHelm(t, "mo", fmt.Sprintf("helm-operator-%d", seq.Add(1)),
		"watchNamespaces={"+watched+"}", "image.tag=v9.9.9")
	op := newOperator(t, inst)
	if op.webhookImg != "ghcr.io/messenger-operator/messenger-operator:v9.9.9" {
		t.Fatalf("the chart's webhook image %q does not follow image.tag", op.webhookImg)
	}
	op.start(t)

	for _, ns := range []string{watched, other} {
		credentials(t, ns, "creds", true)
		policy(t, ns, "support")
	}
	p := newPage(t, watched, "shop", nil)
	outside := newPage(t, other, "elsewhere", nil)
	got := waitReady(t, p)
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, webhookKey(got), d))
	if img := d.Spec.Template.Spec.Containers[0].Image; img != op.webhookImg {
		t.Fatalf("webhook image %q, want %q", img, op.webhookImg)
	}
	// The page outside arrived before the watched one was Ready; the operator never saw it.
	must(t, cluster.Client.Get(ctx, client.ObjectKeyFromObject(outside), outside))
	if len(outside.Status.Conditions) != 0 || len(ownedObjects(t, outside)) != 0 {
		t.Fatalf("a page outside watchNamespaces was reconciled: %s", stringify(outside.Status))
	}

	// The operator did all this with a Role in the watched namespace and no cluster-wide role
	// but the metrics endpoint's reviews: its rules are config/rbac/role.yaml's namespaced ones
	// (hack/chart-sync.sh keeps them so).
	var helmRole rbacv1.Role
	var kustomizeRole rbacv1.ClusterRole
	installKustomize(t)
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Namespace: watched, Name: inst.managerRole}, &helmRole))
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Name: kustomizeInstall.managerRole}, &kustomizeRole))
	namespaced := slices.DeleteFunc(slices.Clone(kustomizeRole.Rules), func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.APIGroups, "authentication.k8s.io") || slices.Contains(r.APIGroups, "authorization.k8s.io")
	})
	if stringify(helmRole.Rules) != stringify(namespaced) {
		t.Fatalf("the chart's Role differs from config/rbac/role.yaml:\n%s\n%s", stringify(helmRole.Rules), stringify(namespaced))
	}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Name: inst.managerRole}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Fatalf("with watchNamespaces the chart still installs the manager's ClusterRole: %v", err)
	}
}

// The chart's values reach the manifests: image, webhook image, replicas, resources, watch
// namespaces, claim bindings and the ServiceMonitor toggle.
func TestHelmValues(t *testing.T) {
	out := helmTemplate(t, "rel", "ops",
		"image.repository=registry.example/mo", "image.tag=1.2.3", "webhookImage=registry.example/hook:4.5.6",
		"replicas=2", "resources.limits.memory=512Mi", "resources.requests.cpu=100m",
		"watchNamespaces={a,b}", "serviceMonitor.enabled=true", "claimBindings.9100={shop,staging}", "claimBindings.42={ops}")
	var d *appsv1.Deployment
	kinds := map[string]int{}
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var meta struct{ Kind string }
		must(t, yaml.Unmarshal(doc, &meta))
		kinds[meta.Kind]++
		if meta.Kind == "Deployment" {
			d = &appsv1.Deployment{}
			must(t, yaml.UnmarshalStrict(doc, d))
		}
	}
	if d == nil {
		t.Fatalf("no Deployment rendered: %v", kinds)
	}
	c := d.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	switch {
	case c.Image != "registry.example/mo:1.2.3":
		t.Errorf("image %q", c.Image)
	case !slices.Contains(c.Args, "--webhook-image=registry.example/hook:4.5.6"):
		t.Errorf("args %v", c.Args)
	case *d.Spec.Replicas != 2 || !slices.Contains(c.Args, "--leader-elect=true"):
		t.Errorf("replicas %d with args %v", *d.Spec.Replicas, c.Args)
	case c.Resources.Limits.Memory().String() != "512Mi" || c.Resources.Requests.Cpu().String() != "100m":
		t.Errorf("resources %v", c.Resources)
	case !slices.Contains(c.Args, "--claim-bindings=42=ops,9100=shop;staging"):
		t.Errorf("args %v", c.Args)
	case env["WATCH_NAMESPACE"] != "a,b":
		t.Errorf("WATCH_NAMESPACE %q", env["WATCH_NAMESPACE"])
	case kinds["ServiceMonitor"] != 1 || kinds["CustomResourceDefinition"] != 3:
		t.Errorf("kinds rendered: %v", kinds)
	}
	// Off by default.
	plain := string(helmTemplate(t, "rel", "ops"))
	if strings.Contains(plain, "kind: ServiceMonitor") {
		t.Error("a ServiceMonitor rendered without serviceMonitor.enabled")
	}
	if strings.Contains(plain, "--claim-bindings") {
		t.Error("--claim-bindings rendered without claimBindings")
	}
}
