package kwok

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

var ourCRDs = []string{"handoverpolicies.messenger.handover.dev", "messengerpages.messenger.handover.dev", "messengerapps.messenger.handover.dev"}

// helmRun runs the pinned helm on the cluster and fails the test on error.
func helmRun(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// helmTemplateOf renders a chart as release in ns.
func helmTemplateOf(t *testing.T, chart, release, ns string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(helm(t), append([]string{"template", release, chart, "-n", ns}, args...)...).Output()
	if err != nil {
		t.Fatalf("helm template %s: %v", chart, err)
	}
	return out
}

// getCRD reads a CRD (the tests' client has no scheme for them).
func getCRD(t *testing.T, name string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	must(t, json.Unmarshal([]byte(kubectl(t, nil, "get", "crd", name, "-o", "json")), crd))
	return crd
}

// crdHasSpecField reports whether the served schema of CRD name has spec.<field>.
func crdHasSpecField(t *testing.T, name, field string) (bool, *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	crd := getCRD(t, name)
	_, ok := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties[field]
	return ok, crd
}

// stored reads an object as the API server serves it, without the fields every write changes.
func stored(t *testing.T, kind, ns, name string) map[string]any {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "messenger.handover.dev", Version: "v1alpha1", Kind: kind})
	must(t, cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, u))
	obj := u.DeepCopy().Object
	meta := obj["metadata"].(map[string]any)
	for _, k := range []string{"managedFields", "resourceVersion"} {
		delete(meta, k)
	}
	return obj
}

// subset fails unless every field of before reads back the same in after (new fields with
// defaults may appear: the API evolution rules allow defaults on new fields).
func subset(t *testing.T, what string, before, after any) {
	t.Helper()
	switch b := before.(type) {
	case map[string]any:
		a, ok := after.(map[string]any)
		if !ok {
			t.Errorf("%s: %v became %v", what, before, after)
			return
		}
		for k, v := range b {
			subset(t, what+"."+k, v, a[k])
		}
	default:
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s: %v became %v", what, before, after)
		}
	}
}

// webhookState is what must survive the upgrade and the rollback: the same Deployment, Available.
func webhookState(t *testing.T, key types.NamespacedName) (types.UID, bool) {
	t.Helper()
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(context.Background(), key, d))
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return d.UID, c.Status == corev1.ConditionTrue
		}
	}
	return d.UID, false
}

// releaseObjects are the objects of the release's manifest (helm get manifest, of revision when
// given) by kind/name, and those the cluster holds with the release's label.
func releaseObjects(t *testing.T, release, ns string, revision ...string) (manifest, labelled []string) {
	t.Helper()
	args := []string{"get", "manifest", release, "-n", ns}
	if len(revision) > 0 {
		args = append(args, "--revision", revision[0])
	}
	for _, doc := range strings.Split(helmRun(t, args...), "\n---") {
		var m struct {
			Kind     string
			Metadata struct{ Name string }
		}
		must(t, yaml.Unmarshal([]byte(doc), &m))
		if m.Kind != "" && m.Kind != "CustomResourceDefinition" {
			manifest = append(manifest, m.Kind+"/"+m.Metadata.Name)
		}
	}
	sel := "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/managed-by=Helm"
	for _, kind := range []string{"deployments", "services", "serviceaccounts", "roles", "rolebindings", "networkpolicies", "poddisruptionbudgets", "secrets"} {
		out := kubectl(t, nil, "get", kind, "-n", ns, "-l", sel, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name}{\"\\n\"}{end}")
		labelled = append(labelled, strings.Fields(out)...)
	}
	for _, kind := range []string{"clusterroles", "clusterrolebindings", "validatingadmissionpolicies", "validatingadmissionpolicybindings"} {
		out := kubectl(t, nil, "get", kind, "-l", sel, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name}{\"\\n\"}{end}")
		labelled = append(labelled, strings.Fields(out)...)
	}
	slices.Sort(manifest)
	slices.Sort(labelled)
	return manifest, labelled
}

// A real `helm upgrade` from the previous chart (testdata/previous-chart) to the current one
// and a `helm rollback`, with the helm binary, on the kwok cluster:
//   - objects stored under the previous CRDs read back unchanged after the upgrade;
//   - the upgrade installs the current CRDs; the rollback rolls the manager back but the chart's
//     downgrade guard refuses it the older CRDs (helm reports that), so an object's newer fields
//     survive it;
//   - the webhook Deployment the operator made stays, Available, with the same UID, through the
//     upgrade, the rollback and the upgrade again;
//   - the release's objects in the cluster are its manifest's after each upgrade, and those of
//     its two revisions after the rollback: nothing orphaned.
func TestHelmUpgradeAndRollback(t *testing.T) {
	ctx := context.Background()
	const release = "mo-up"
	ns := namespace(t, "helm-upgrade", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	inst := install{namespace: ns, deployment: release + "-messenger-operator-manager",
		managerRole: release + "-messenger-operator-manager", metricsReader: release + "-messenger-operator-metrics-reader"}
	previous, current := filepath.Join("testdata", "previous-chart"), filepath.Join(testenv.RepoRoot(), "dist", "chart")

	// The cluster as the previous release left it: its CRDs (the test cluster installed the
	// current ones), owned by the release; the MessengerApp CRD, which it did not have, is
	// annotated for the upgrade to adopt, as a CRD kept from an earlier install would be.
	prevCRDs := helmTemplateOf(t, previous, release, ns, "--show-only", "templates/crd/messenger.handover.dev_handoverpolicies.yaml",
		"--show-only", "templates/crd/messenger.handover.dev_messengerpages.yaml")
	kubectl(t, prevCRDs, "replace", "-f", "-")
	for _, name := range ourCRDs {
		kubectl(t, nil, "label", "--overwrite", "crd", name, "app.kubernetes.io/managed-by=Helm")
		kubectl(t, nil, "annotate", "--overwrite", "crd", name, "meta.helm.sh/release-name="+release, "meta.helm.sh/release-namespace="+ns)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(helm(t), "--kubeconfig", cluster.Kubeconfig, "uninstall", release, "-n", ns, "--wait").CombinedOutput(); err != nil {
			t.Errorf("helm uninstall: %v\n%s", err, out)
		}
		// The CRDs are kept (resource policy); put them back to the current ones, without the
		// release's labels and annotations (other tests' installs set their own).
		kubectl(t, nil, "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(testenv.RepoRoot(), "config", "crd"))
		for _, name := range ourCRDs {
			kubectl(t, nil, "label", "crd", name, "app.kubernetes.io/name-", "app.kubernetes.io/instance-", "app.kubernetes.io/version-",
				"app.kubernetes.io/managed-by-", "helm.sh/chart-")
			kubectl(t, nil, "annotate", "crd", name, "meta.helm.sh/release-name-", "meta.helm.sh/release-namespace-",
				"helm.sh/resource-policy-", "messenger.handover.dev/chart-version-")
		}
	})

	helmRun(t, "install", release, previous, "-n", ns, "--wait", "--timeout", "2m")
	if ok, _ := crdHasSpecField(t, ourCRDs[1], "appRef"); ok {
		t.Fatal("the previous chart did not install its CRDs (spec.appRef is newer)")
	}
	// Objects stored under the previous CRDs.
	credentials(t, ns, "creds", false)
	kubectl(t, []byte(fmt.Sprintf(`apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support, namespace: %[1]s}
spec:
  firstNameFallback: friend
  handoff: {triggers: {keywords: [real person]}, metadata: from-the-previous-version}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: shop, namespace: %[1]s}
spec:
  pageID: "%[2]d"
  appID: "%[3]d"
  businessName: Shop
  secretRef: {name: creds}
  policyRef: {name: support}
  ingress: {host: shop.example.com, className: nginx, tls: {secretName: shop-tls}}
  webhook: {podAnnotations: {team: support}}
`, ns, 7300000+seq.Add(1), 8300000+seq.Add(1))), "apply", "-f", "-")
	policyBefore, pageBefore := stored(t, "HandoverPolicy", ns, "support"), stored(t, "MessengerPage", ns, "shop")

	// Upgrade to the current chart; its NOTES say what was installed and what comes next.
	notes := helmRun(t, "upgrade", release, current, "-n", ns, "--wait", "--timeout", "2m")
	for _, s := range []string{
		"messenger-operator v0.1.0 is installed in namespace " + ns,
		"kubectl -n " + ns + " rollout status deployment/" + inst.deployment,
		"It watches every namespace", "kubectl create secret generic", "IngressClass",
	} {
		if !strings.Contains(notes, s) {
			t.Errorf("the chart's NOTES lack %q:\n%s", s, notes)
		}
	}
	for _, name := range ourCRDs {
		if crd := getCRD(t, name); crd.Annotations["messenger.handover.dev/chart-version"] != "0.1.0" {
			t.Fatalf("CRD %s not upgraded: annotations %v", name, crd.Annotations)
		}
	}
	if ok, _ := crdHasSpecField(t, ourCRDs[1], "appRef"); !ok {
		t.Fatal("the upgrade left the previous MessengerPage schema")
	}
	subset(t, "the policy after the upgrade", policyBefore, stored(t, "HandoverPolicy", ns, "support"))
	subset(t, "the page after the upgrade", pageBefore, stored(t, "MessengerPage", ns, "shop"))
	manifest, labelled := releaseObjects(t, release, ns)
	if !slices.Equal(manifest, labelled) || !slices.Contains(labelled, "ValidatingAdmissionPolicy/"+release+"-messenger-operator-crd-downgrade-guard") {
		t.Fatalf("after the upgrade the release's manifest has %v, the cluster %v", manifest, labelled)
	}

	// The current operator, as the upgraded Deployment runs it, makes the page's webhook.
	op := newOperator(t, inst)
	op.start(t)
	page := &messengerPage{}
	page.Name, page.Namespace = "shop", ns
	waitReady(t, page)
	key := webhookKey(page)
	uid, available := webhookState(t, key)
	if !available {
		t.Fatal("the webhook is not Available")
	}
	// The rollback runs the previous manager, which this test cannot run: stop ours.
	op.stop(t)

	// A field only the current CRD has, then the rollback.
	kubectl(t, nil, "patch", "messengerpage", "shop", "-n", ns, "--type=merge", "-p",
		`{"spec":{"httpRoute":{"parentRefs":[{"name":"gateway"}],"hostnames":["shop.example.com"]}}}`)
	withRoute := stored(t, "MessengerPage", ns, "shop")
	// The guard refuses the previous CRDs; helm applies the rest of the rollback and says so.
	out, err := exec.Command(helm(t), "--kubeconfig", cluster.Kubeconfig, "rollback", release, "1", "-n", ns, "--wait", "--timeout", "2m").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "crd-downgrade-guard") || !strings.Contains(string(out), "kept the CRD of chart 0.1.0") {
		t.Fatalf("helm rollback: %v, want the guard's refusal of the older CRDs:\n%s", err, out)
	}
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: inst.deployment}, d))
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, ":0.1.0-pre.0f1d939") {
		t.Fatalf("the rollback left the manager on %s", img)
	}
	for _, name := range ourCRDs {
		_, crd := crdHasSpecField(t, name, "")
		if crd.Annotations["messenger.handover.dev/chart-version"] != "0.1.0" {
			t.Errorf("the rollback changed CRD %s: annotations %v", name, crd.Annotations)
		}
	}
	if ok, _ := crdHasSpecField(t, ourCRDs[1], "httpRoute"); !ok {
		t.Fatal("the rollback installed the previous MessengerPage schema over the current one")
	}
	subset(t, "the page after the rollback", withRoute, stored(t, "MessengerPage", ns, "shop"))
	// What the rollback left: the previous release's objects and those only the current one has
	// (the refusal stops helm before it deletes them), all still the release's: nothing else.
	prevManifest, labelled := releaseObjects(t, release, ns, "1")
	curManifest, _ := releaseObjects(t, release, ns, "2")
	both := slices.Compact(slices.Sorted(slices.Values(append(prevManifest, curManifest...))))
	if !slices.Equal(both, labelled) {
		t.Fatalf("after the rollback the cluster holds %v, the two revisions %v", labelled, both)
	}
	if u, ok := webhookState(t, key); u != uid || !ok {
		t.Fatalf("after the rollback the webhook Deployment is %s (Available %v), was %s", u, ok, uid)
	}

	// Upgrade again; the operator settles the page on the same webhook.
	kubectl(t, nil, "patch", "messengerpage", "shop", "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/spec/httpRoute"}]`)
	helmRun(t, "upgrade", release, current, "-n", ns, "--wait", "--timeout", "2m")
	manifest, labelled = releaseObjects(t, release, ns)
	if !slices.Equal(manifest, labelled) {
		t.Fatalf("after the second upgrade the release's manifest has %v, the cluster %v", manifest, labelled)
	}
	op = newOperator(t, inst)
	op.start(t)
	waitReady(t, page)
	if u, ok := webhookState(t, key); u != uid || !ok {
		t.Fatalf("after the second upgrade the webhook Deployment is %s (Available %v), was %s", u, ok, uid)
	}
	var history []struct {
		Revision    int    `json:"revision"`
		Chart       string `json:"chart"`
		Status      string `json:"status"`
		Description string `json:"description"`
	}
	must(t, json.Unmarshal([]byte(helmRun(t, "history", release, "-n", ns, "-o", "json")), &history))
	var charts []string
	for _, h := range history {
		charts = append(charts, h.Chart+":"+h.Status)
	}
	want := []string{"messenger-operator-0.1.0-pre.0f1d939:superseded", "messenger-operator-0.1.0:superseded",
		"messenger-operator-0.1.0-pre.0f1d939:superseded", "messenger-operator-0.1.0:deployed"}
	if !strings.Contains(history[2].Description, "Rollback") {
		t.Errorf("revision 3 is %q, want the rollback", history[2].Description)
	}
	if !slices.Equal(charts, want) {
		t.Fatalf("helm history %v, want %v", charts, want)
	}
}
