package kwok

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// chartGrant is one binding of the chart's manager ServiceAccount as rendered: where it holds
// which rules. Namespace "" is cluster-wide.
type chartGrant struct {
	Binding   string              `json:"binding"`
	Namespace string              `json:"namespace,omitempty"`
	Role      string              `json:"role"`
	Rules     []rbacv1.PolicyRule `json:"rules"`
}

// chartManagerGrants renders the chart with set and lists what its manager is granted.
func chartManagerGrants(t *testing.T, set ...string) []chartGrant {
	t.Helper()
	return managerGrants(t, helmTemplate(t, "rel", "ops", set...), "rel-messenger-operator-manager", "ops")
}

// kustomizeManagerGrants builds the kustomization in config/dir and lists what its manager is
// granted.
func kustomizeManagerGrants(t *testing.T, dir string) []chartGrant {
	t.Helper()
	out, err := exec.Command("kubectl", "kustomize", filepath.Join(testenv.RepoRoot(), "config", dir)).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/%s: %v", dir, err)
	}
	return managerGrants(t, out, "messenger-operator-controller-manager", "messenger-operator-system")
}

// managerGrants lists what the ServiceAccount ns/sa is granted by the rendered manifests.
func managerGrants(t *testing.T, rendered []byte, sa, ns string) []chartGrant {
	t.Helper()
	roles := map[string][]rbacv1.PolicyRule{} // kind/namespace/name -> rules
	type binding struct {
		kind, namespace, name string
		ref                   rbacv1.RoleRef
	}
	var bindings []binding
	for _, doc := range bytes.Split(rendered, []byte("\n---\n")) {
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
			Rules    []rbacv1.PolicyRule
			RoleRef  rbacv1.RoleRef
			Subjects []rbacv1.Subject
		}
		must(t, yaml.Unmarshal(doc, &obj))
		switch obj.Kind {
		case "ClusterRole", "Role":
			roles[obj.Kind+"/"+obj.Metadata.Namespace+"/"+obj.Metadata.Name] = obj.Rules
		case "ClusterRoleBinding", "RoleBinding":
			for _, s := range obj.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == ns {
					bindings = append(bindings, binding{obj.Kind, obj.Metadata.Namespace, obj.Metadata.Name, obj.RoleRef})
				}
			}
		}
	}
	var out []chartGrant
	for _, b := range bindings {
		key := b.ref.Kind + "/" + b.namespace + "/" + b.ref.Name
		if b.ref.Kind == "ClusterRole" {
			key = "ClusterRole//" + b.ref.Name
		}
		rules, ok := roles[key]
		if !ok {
			t.Fatalf("%s %s/%s binds %s, which the chart does not render", b.kind, b.namespace, b.name, key)
		}
		out = append(out, chartGrant{Binding: b.kind + "/" + b.name, Namespace: b.namespace, Role: b.ref.Kind + "/" + b.ref.Name,
			Rules: normalRules(rules, nil)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+out[i].Binding < out[j].Namespace+out[j].Binding })
	return out
}

// The manager's RBAC from the chart and from kustomize, in both modes, is exactly the reviewed
// list: cluster-wide without watchNamespaces (config/default); with it, the namespaced rules (Secrets first) in a Role of each
// watched namespace only, and cluster-wide nothing but the metrics endpoint's token and access
// reviews.
func TestInstallRBACMatchesTheReviewedList(t *testing.T) {
	got := map[string][]chartGrant{
		"chart":                             chartManagerGrants(t),
		"chart watchNamespaces={shop,ops}":  chartManagerGrants(t, "watchNamespaces={shop,ops}"),
		"kustomize config/default":          kustomizeManagerGrants(t, "default"),
		"kustomize config/watch-namespaces": kustomizeManagerGrants(t, "watch-namespaces"),
	}
	for _, mode := range []string{"chart watchNamespaces={shop,ops}", "kustomize config/watch-namespaces"} {
		for _, g := range got[mode] {
			for _, r := range g.Rules {
				if g.Namespace == "" && !strings.HasSuffix(r.Resources[0], "reviews") {
					t.Errorf("%s: the manager holds %v cluster-wide through %s", mode, r.Resources, g.Binding)
				}
			}
		}
	}
	gotYAML, err := yaml.Marshal(got)
	must(t, err)
	golden := filepath.Join("testdata", "install-rbac.golden.yaml")
	const header = "# Reviewed list of what the manager's ServiceAccount is granted, and where, by the chart and by\n" +
		"# kustomize, without and with watchNamespaces. A change here is a change of the security model: review it, then\n" +
		"#   go test ./test/kwok -run TestInstallRBACMatchesTheReviewedList -update\n"
	if *update {
		must(t, os.WriteFile(golden, append([]byte(header), gotYAML...), 0o644))
	}
	want, err := os.ReadFile(golden)
	must(t, err)
	if strings.TrimPrefix(string(want), header) != string(gotYAML) {
		t.Fatalf("the chart's manager RBAC differs from %s (review, then -update):\n%s", golden, gotYAML)
	}
}
