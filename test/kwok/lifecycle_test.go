package kwok

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// A page goes Ready when the Deployment controller and kwok make its webhook Available (no
// test plays their part), and deleting the page leaves nothing behind: the garbage collector of
// kube-controller-manager removes every owned object through the owner references.
func TestPageReadyWhenAvailableAndCollectedOnDelete(t *testing.T) {
	ctx := context.Background()
	op := newOperator(t, installKustomize(t))
	op.start(t)

	ns := namespace(t, "lifecycle", nil)
	credentials(t, ns, "creds", false) // no verify token: the operator generates a Secret
	policy(t, ns, "support")
	p := newPage(t, ns, "acme", withIngress)

	got := waitReady(t, p)
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, webhookKey(p), d))
	available := false
	for _, c := range d.Status.Conditions {
		available = available || (c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue)
	}
	if !available || d.Status.AvailableReplicas != 1 || got.Status.ReadyReplicas != 1 {
		t.Fatalf("page Ready while its Deployment is not Available with its replica: deployment %s, page readyReplicas %d",
			stringify(d.Status), got.Status.ReadyReplicas)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != op.webhookImg {
		t.Fatalf("webhook image %q, want the install's %q", img, op.webhookImg)
	}
	// The pods are real API objects: scheduled on kwok's nodes, Running and Ready.
	var pods corev1.PodList
	must(t, cluster.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(specs.SelectorLabels(got))))
	running := 0
	for _, pod := range pods.Items {
		if pod.Status.Phase == corev1.PodRunning && pod.Spec.NodeName != "" {
			running++
		}
	}
	if running != 1 {
		t.Fatalf("%d webhook pods Running, want 1", running)
	}

	before := ownedObjects(t, got)
	for kind := range ownedKinds() {
		if _, ok := before[kind]; !ok {
			t.Fatalf("the page owns no %s (owns %v)", kind, sortedKeys(before))
		}
	}

	must(t, cluster.Client.Delete(ctx, got))
	eventually(t, 90*time.Second, "garbage collection of every owned object and the pods", func() (bool, string) {
		left := ownedObjects(t, got)
		var pods corev1.PodList
		if err := cluster.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(specs.SelectorLabels(got))); err != nil {
			return false, err.Error()
		}
		return len(left) == 0 && len(pods.Items) == 0, fmt.Sprintf("left: %v, %d pods", sortedKeys(left), len(pods.Items))
	})
	// The user's Secret and policy are theirs: not owned, not collected.
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, &corev1.Secret{}); apierrors.IsNotFound(err) {
		t.Fatal("the user's Secret was deleted with the page")
	}
}
