package kwok

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

var update = flag.Bool("update", false, "rewrite testdata/rbac.golden.yaml from the cluster (review the diff)")

// A namespace enforcing the restricted Pod Security Standard admits the webhook's pods: a
// non-compliant pod template would be refused by admission and the page would never be Ready.
func TestRestrictedNamespaceRunsTheWebhook(t *testing.T) {
	ctx := context.Background()
	op := newOperator(t, installKustomize(t))
	op.start(t)
	ns := namespace(t, "restricted", map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	})
	// The control: this cluster does enforce the label.
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example/none"}}},
	}
	if err := cluster.Client.Create(ctx, bare); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a pod without a security context in a restricted namespace: %v, want refused by PodSecurity", err)
	}

	credentials(t, ns, "creds", false)
	policy(t, ns, "support")
	p := waitReady(t, newPage(t, ns, "acme", withIngress))
	var pods corev1.PodList
	must(t, cluster.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(specs.SelectorLabels(p))))
	ready := 0
	for _, pod := range pods.Items {
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && pod.Status.Phase == corev1.PodRunning {
				ready++
			}
		}
	}
	if ready != 1 || p.Status.ReadyReplicas != 1 {
		t.Fatalf("%d webhook pods Ready (page says %d), want 1", ready, p.Status.ReadyReplicas)
	}
}

// goldenRBAC is the reviewed list of every permission the operator and a page's webhook hold.
type goldenRBAC struct {
	// Manager is the operator's ClusterRole (config/rbac/role.yaml, from the +kubebuilder:rbac
	// markers); LeaderElection its Role in its own namespace.
	Manager        []rbacv1.PolicyRule `json:"manager"`
	LeaderElection []rbacv1.PolicyRule `json:"leaderElection"`
	// Webhook is the Role the operator writes for a page (internal/specs/rbac.go), with the
	// names of the page's objects as placeholders.
	Webhook []rbacv1.PolicyRule `json:"webhook"`
}

// normalRules sorts rules and their lists, and replaces resource names by placeholders.
func normalRules(rules []rbacv1.PolicyRule, names map[string]string) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, 0, len(rules))
	for _, r := range rules {
		r = *r.DeepCopy()
		for i, n := range r.ResourceNames {
			if p, ok := names[n]; ok {
				r.ResourceNames[i] = p
			}
		}
		for _, l := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs} {
			sort.Strings(l)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return stringify(out[i]) < stringify(out[j]) })
	return out
}

// The permissions in force on the cluster (the installed roles, and the Role the running
// operator wrote for a page) are exactly the reviewed ones; then explicit checks, through
// `kubectl auth can-i --as`, of what the webhook and the operator may not do.
func TestRBACMatchesTheReviewedListAndDenies(t *testing.T) {
	ctx := context.Background()
	inst := installKustomize(t)
	op := newOperator(t, inst)
	op.start(t)
	ns := namespace(t, "rbac", nil)
	elsewhere := namespace(t, "rbac-elsewhere", nil)
	credentials(t, ns, "creds", false) // the generated verify-token Secret is granted too
	credentials(t, ns, "other-creds", true)
	policy(t, ns, "support")
	policy(t, ns, "other-policy")
	acme := waitReady(t, newPage(t, ns, "acme", nil))
	waitReady(t, newPage(t, ns, "other", func(p *messengerPage) {
		p.Spec.SecretRef.Name, p.Spec.PolicyRef.Name = "other-creds", "other-policy"
	}))

	var manager rbacv1.ClusterRole
	var election, webhook rbacv1.Role
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Name: inst.managerRole}, &manager))
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Namespace: inst.namespace, Name: "messenger-operator-leader-election-role"}, &election))
	must(t, cluster.Client.Get(ctx, webhookKey(acme), &webhook))
	got := goldenRBAC{
		Manager:        normalRules(manager.Rules, nil),
		LeaderElection: normalRules(election.Rules, nil),
		Webhook: normalRules(webhook.Rules, map[string]string{
			"acme": "<page>", "creds": "<spec.secretRef.name>", "support": "<spec.policyRef.name>",
			specs.VerifyTokenSecretName("acme"): "<generated verify-token Secret>",
			specs.WebhookName("acme"):           "<its own Role>",
		}),
	}
	gotYAML, err := yaml.Marshal(got)
	must(t, err)
	golden := filepath.Join("testdata", "rbac.golden.yaml")
	const header = "# Reviewed list of the permissions of the operator and of a page's webhook. A change here is a\n" +
		"# change of the security model: review it, then regenerate with\n" +
		"#   go test ./test/kwok -run TestRBACMatchesTheReviewedListAndDenies -update\n"
	if *update {
		must(t, os.WriteFile(golden, append([]byte(header), gotYAML...), 0o644))
	}
	want, err := os.ReadFile(golden)
	must(t, err)
	if strings.TrimPrefix(string(want), header) != string(gotYAML) {
		t.Fatalf("the permissions in force differ from %s (review, then -update):\n--- in force\n%s", golden, gotYAML)
	}

	webhookSA := "system:serviceaccount:" + ns + ":" + specs.WebhookName("acme")
	pages := "messengerpages.messenger.handover.dev"
	policies := "handoverpolicies.messenger.handover.dev"
	for _, c := range []struct {
		as      string
		allowed bool
		args    []string
	}{
		// The webhook: its page, its status, its Secrets by name, its policy...
		{webhookSA, true, []string{"get", pages + "/acme", "-n", ns}},
		{webhookSA, true, []string{"watch", pages + "/acme", "-n", ns}},
		{webhookSA, true, []string{"patch", pages + "/acme", "--subresource=status", "-n", ns}},
		{webhookSA, true, []string{"list", "secrets/creds", "-n", ns}},
		{webhookSA, true, []string{"get", "secrets/" + specs.VerifyTokenSecretName("acme"), "-n", ns}},
		{webhookSA, true, []string{"watch", policies + "/support", "-n", ns}},
		// its own Role (it watches a Secret once the Role grants it), no other.
		{webhookSA, true, []string{"watch", "roles/" + specs.WebhookName("acme"), "-n", ns}},
		{webhookSA, false, []string{"get", "roles/" + specs.WebhookName("other"), "-n", ns}},
		// ...and not another page's Secret, another page, Secrets without a name, its own
		// page's spec, nor anything in another namespace.
		{webhookSA, false, []string{"get", "secrets/other-creds", "-n", ns}},
		{webhookSA, false, []string{"get", "secrets/" + specs.VerifyTokenSecretName("other"), "-n", ns}},
		{webhookSA, false, []string{"get", pages + "/other", "-n", ns}},
		{webhookSA, false, []string{"patch", pages + "/other", "--subresource=status", "-n", ns}},
		{webhookSA, false, []string{"get", policies + "/other-policy", "-n", ns}},
		{webhookSA, false, []string{"list", "secrets", "-n", ns}},
		{webhookSA, false, []string{"watch", "secrets", "-n", ns}},
		{webhookSA, false, []string{"patch", pages + "/acme", "-n", ns}},
		{webhookSA, false, []string{"update", "secrets/creds", "-n", ns}},
		{webhookSA, false, []string{"get", "secrets/creds", "-n", elsewhere}},
		{webhookSA, false, []string{"get", pages + "/acme", "-n", elsewhere}},
		{webhookSA, false, []string{"create", "events", "-n", elsewhere}},
		{webhookSA, false, []string{"list", "secrets", "--all-namespaces"}},
		{webhookSA, false, []string{"get", "pods", "-n", ns}},
		// The operator: what it writes for the webhooks, in any namespace...
		{op.user, true, []string{"patch", "roles", "-n", elsewhere}},
		{op.user, true, []string{"patch", "deployments", "-n", elsewhere}},
		{op.user, true, []string{"patch", pages + "/acme", "--subresource=status", "-n", ns}},
		// ...and deletes those of a page moved onto a MessengerApp, once the app serves it.
		{op.user, true, []string{"delete", "deployments", "-n", ns}},
		{op.user, true, []string{"delete", "rolebindings", "-n", ns}},
		{op.user, true, []string{"update", "leases.coordination.k8s.io", "-n", inst.namespace}},
		// ...but never the users' pages and policies, nor more than RBAC inside namespaces.
		{op.user, false, []string{"patch", pages + "/acme", "-n", ns}},
		{op.user, false, []string{"delete", pages + "/acme", "-n", ns}},
		{op.user, false, []string{"update", policies + "/support", "-n", ns}},
		{op.user, false, []string{"update", "leases.coordination.k8s.io", "-n", ns}},
		{op.user, false, []string{"update", "roles", "-n", ns}},
		{op.user, false, []string{"escalate", "roles.rbac.authorization.k8s.io", "-n", ns}},
		{op.user, false, []string{"bind", "clusterroles.rbac.authorization.k8s.io"}},
		{op.user, false, []string{"create", "clusterrolebindings"}},
		{op.user, false, []string{"create", "clusterroles"}},
		{op.user, false, []string{"update", "customresourcedefinitions"}},
		{op.user, false, []string{"create", "pods", "-n", ns}},
		{op.user, false, []string{"get", "configmaps", "-n", ns}},
		{op.user, false, []string{"get", "nodes"}},
		{op.user, false, []string{"delete", "namespaces"}},
	} {
		out, err := kubectlErr(nil, append([]string{"auth", "can-i", "--as", c.as}, c.args...)...)
		answer := strings.TrimSpace(out)
		if (answer == "yes") != c.allowed || (err == nil) != c.allowed {
			t.Errorf("%s may %s: %q (%v), want allowed=%v", c.as, strings.Join(c.args, " "), answer, err, c.allowed)
		}
	}
}
