package kwok

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// applyInstallWithImage applies config/default with the operator image tag set to tag, as
// `make deploy IMG=...` renders it (kustomize edit set image on config/manager), from a copy.
func applyInstallWithImage(t *testing.T, tag string) {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join(testenv.RepoRoot(), "config")
	for _, dir := range []string{"crd", "rbac", "manager", "default"} {
		must(t, os.CopyFS(filepath.Join(dst, dir), os.DirFS(filepath.Join(src, dir))))
	}
	k := filepath.Join(dst, "manager", "kustomization.yaml")
	b, err := os.ReadFile(k)
	must(t, err)
	newTag := regexp.MustCompile(`(?m)^    newTag: \S+$`)
	if !newTag.Match(b) {
		t.Fatalf("config/manager/kustomization.yaml sets no image tag:\n%s", b)
	}
	must(t, os.WriteFile(k, newTag.ReplaceAll(b, []byte("    newTag: "+tag)), 0o644))
	kubectl(t, nil, "apply", "--server-side", "-k", filepath.Join(dst, "default"))
}

// An upgrade changes the operator's image, hence --webhook-image: the manager restarted with it
// rolls every webhook Deployment (a new pod template; with the memory store Recreate: never two
// pods at once, since each keeps its own state), rewrites no other object and recreates none,
// and the pages end Ready.
func TestUpgradeRollsEveryWebhookAndNothingElse(t *testing.T) {
	ctx := context.Background()
	inst := installKustomize(t)
	op := newOperator(t, inst)
	op.start(t)
	ns := namespace(t, "upgrade", nil)
	credentials(t, ns, "creds", false)
	policy(t, ns, "support")
	newPage(t, ns, "with-ingress", withIngress)
	newPage(t, ns, "plain", nil)
	pages := settled(t, op.webhookImg)
	before := map[string]map[string]objState{}
	for i := range pages {
		before[pages[i].Namespace+"/"+pages[i].Name] = ownedObjects(t, &pages[i])
	}
	op.stop(t)

	applyInstallWithImage(t, "v2")
	t.Cleanup(func() {
		kubectl(t, nil, "apply", "--server-side", "-k", filepath.Join(testenv.RepoRoot(), "config", "default"))
	})
	up := newOperator(t, inst)
	const newImage = "ghcr.io/messenger-operator/messenger-operator:v2"
	if up.webhookImg != newImage {
		t.Fatalf("after the upgrade the install gives --webhook-image %q, want %q", up.webhookImg, newImage)
	}
	mark := auditMark(t)
	up.start(t)

	// Sample the rollouts: at no point more webhook pods than wanted (two memory stores at once
	// would answer a redelivery twice).
	eventually(t, 90*time.Second, "every webhook on the new image", func() (bool, string) {
		done := true
		for i := range pages {
			d := &appsv1.Deployment{}
			must(t, cluster.Client.Get(ctx, webhookKey(&pages[i]), d))
			if d.Status.Replicas > *d.Spec.Replicas {
				t.Fatalf("%s: %d pods of %d during the rollout", d.Name, d.Status.Replicas, *d.Spec.Replicas)
			}
			done = done && d.Spec.Template.Spec.Containers[0].Image == newImage && d.Status.UpdatedReplicas == *d.Spec.Replicas &&
				d.Status.Replicas == *d.Spec.Replicas && d.Status.ObservedGeneration == d.Generation
		}
		return done, ""
	})
	pages = settled(t, newImage)

	for i := range pages {
		p := &pages[i]
		key := p.Namespace + "/" + p.Name
		after := ownedObjects(t, p)
		if !slices.Equal(sortedKeys(after), sortedKeys(before[key])) {
			t.Fatalf("%s owns %v after the upgrade, %v before", key, sortedKeys(after), sortedKeys(before[key]))
		}
		for kind, b := range before[key] {
			a := after[kind]
			switch {
			case a.UID != b.UID:
				t.Errorf("%s: %s recreated", key, kind)
			case kind == "Deployment" && a.Generation != b.Generation+1:
				t.Errorf("%s: Deployment generation %d -> %d, want one new pod template", key, b.Generation, a.Generation)
			case kind != "Deployment" && a.ResourceVersion != b.ResourceVersion:
				t.Errorf("%s: %s rewritten by the upgrade", key, kind)
			}
		}
		d := &appsv1.Deployment{}
		must(t, cluster.Client.Get(ctx, webhookKey(p), d))
		if st := d.Spec.Strategy; st.Type != appsv1.RecreateDeploymentStrategyType || st.RollingUpdate != nil {
			t.Errorf("%s: strategy %+v, want Recreate (the memory store: never two pods at once)", key, st)
		}
	}
	// The apiserver's view: the new manager patched Deployments and page statuses and wrote
	// events, nothing else; no creation or deletion.
	patched := map[string]int{}
	for _, e := range writesBy(t, mark, up.user) {
		r := e.ObjectRef
		switch {
		case e.Verb == "patch" && r.Resource == "deployments":
			patched[r.Namespace+"/"+r.Name]++
		case e.Verb == "patch" && r.Resource == "messengerpages" && r.Subresource == "status":
		case r.Resource == "events" && (e.Verb == "create" || e.Verb == "patch"):
		default:
			t.Errorf("the upgraded manager wrote %s", e)
		}
	}
	for i := range pages {
		k := types.NamespacedName{Namespace: pages[i].Namespace, Name: webhookKey(&pages[i]).Name}.String()
		if patched[k] != 1 {
			t.Errorf("Deployment %s patched %d times, want once", k, patched[k])
		}
	}
}

// The install of the previous version (testdata/previous) upgrades in place to the current one
// with the same command, and the result is the current install.
func TestCurrentInstallAppliesOverPrevious(t *testing.T) {
	inst := installKustomize(t)
	prev := filepath.Join("testdata", "previous", "install.yaml")
	// The previous version was installed with the same command; --force-conflicts only takes
	// the CRDs over from the test cluster's own CRD install (field manager kwok.test).
	kubectl(t, nil, "apply", "--server-side", "--force-conflicts", "-f", prev)
	kubectl(t, nil, "apply", "--server-side", "-k", filepath.Join(testenv.RepoRoot(), "config", "default"))
	waitAvailable(t, inst)

	// What is installed now is what the current manifests say.
	current := kubectl(t, nil, "kustomize", filepath.Join(testenv.RepoRoot(), "config", "default"))
	diff, err := kubectlErr([]byte(current), "diff", "--server-side", "-f", "-")
	if err != nil {
		t.Fatalf("the cluster differs from the current install after the upgrade (%v):\n%s", err, diff)
	}
	op := newOperator(t, inst)
	op.start(t)
	settled(t, op.webhookImg)
}
