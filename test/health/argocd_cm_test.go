package health

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// scripts are the health checks by argocd-cm key, read from the Lua files the table above runs.
func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for kind, file := range map[string]string{
		"MessengerApp": "messengerapp-health.lua", "MessengerPage": "messengerpage-health.lua", "HandoverPolicy": "handoverpolicy-health.lua",
	} {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", file))
		if err != nil {
			t.Fatal(err)
		}
		out["resource.customizations.health.messenger.handover.dev_"+kind] = string(b)
	}
	return out
}

// argocdCM is an argocd-cm as Argo CD's install ships it, with settings of its own.
const argocdCM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  url: https://argocd.example
  resource.customizations.health.argoproj.io_Application: |
    hs = {status = "Healthy"}
    return hs
`

// wantMerged fails unless cm holds Argo CD's own keys and labels, untouched, and our health checks.
func wantMerged(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	var orig corev1.ConfigMap
	if err := yaml.Unmarshal([]byte(argocdCM), &orig); err != nil {
		t.Fatal(err)
	}
	want := scripts(t)
	for k, v := range orig.Data {
		want[k] = v
	}
	var keys []string
	for k := range cm.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("argocd-cm %s = %q, want %q (keys %v)", k, cm.Data[k], v, keys)
		}
	}
	if len(cm.Data) != len(want) || cm.Labels["app.kubernetes.io/part-of"] != "argocd" {
		t.Errorf("argocd-cm: keys %v, labels %v", keys, cm.Labels)
	}
}

// For an Argo CD installed by manifests: the patch is a strategic merge of argocd-cm that adds
// our health checks, exactly the scripts tested above, and leaves Argo CD's own keys alone.
func TestArgoCDConfigMapPatch(t *testing.T) {
	patchYAML, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "argocd-cm-patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var patch corev1.ConfigMap
	if err := yaml.UnmarshalStrict(patchYAML, &patch); err != nil {
		t.Fatal(err)
	}
	if patch.Name != "argocd-cm" || len(patch.Labels) != 0 || len(patch.Data) != 3 {
		t.Fatalf("the patch carries more than our health checks: %+v", patch.ObjectMeta)
	}
	orig, err := yaml.YAMLToJSON([]byte(argocdCM))
	if err != nil {
		t.Fatal(err)
	}
	pj, err := yaml.YAMLToJSON(patchYAML)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(orig, pj, corev1.ConfigMap{})
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(merged, &cm); err != nil {
		t.Fatal(err)
	}
	wantMerged(t, &cm)
}

// For an Argo CD installed with kustomize: config/argocd is a component that patches its
// argocd-cm (kubectl kustomize renders it).
func TestArgoCDKustomizeComponent(t *testing.T) {
	dir := t.TempDir()
	// kustomize takes components by relative path only.
	component, err := filepath.Rel(dir, filepath.Join(testenv.RepoRoot(), "config", "argocd"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"argocd-cm.yaml":     argocdCM,
		"kustomization.yaml": "namespace: argocd\nresources: [argocd-cm.yaml]\ncomponents: [" + component + "]\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "kind: ConfigMap"); n != 1 {
		t.Fatalf("%d ConfigMaps rendered, want argocd-cm patched:\n%s", n, out)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Namespace != "argocd" {
		t.Errorf("namespace %q", cm.Namespace)
	}
	wantMerged(t, &cm)
}

// For an Argo CD installed by its Helm chart: the values file sets configs.cm to our health
// checks only (the chart merges them into its argocd-cm).
func TestArgoCDHelmValues(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "argocd-helm-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Configs struct {
			CM map[string]string `json:"cm"`
		} `json:"configs"`
	}
	if err := yaml.UnmarshalStrict(b, &values); err != nil {
		t.Fatal(err)
	}
	want := scripts(t)
	if len(values.Configs.CM) != len(want) {
		t.Fatalf("configs.cm has %d keys, want %d", len(values.Configs.CM), len(want))
	}
	for k, v := range want {
		if values.Configs.CM[k] != v {
			t.Errorf("configs.cm %s = %q, want the script", k, values.Configs.CM[k])
		}
	}
}
