package specs

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// UpToDate ignores what the API server adds, and sees edits of the operator's fields, deleted
// fields, and fields the operator no longer sets.
func TestUpToDate(t *testing.T) {
	w := Webhook{Page: testPage(), DefaultImage: "op:1"}
	desired := Deployment(w)
	if ok, _ := UpToDate(desired, (*appsv1.Deployment)(nil)); ok {
		t.Fatal("up to date with nothing")
	}
	// What the API server returns: the applied object plus defaults and status.
	current := typed[appsv1.Deployment](t, desired)
	current.ResourceVersion = "12"
	current.Spec.ProgressDeadlineSeconds = new(int32(600))
	c := &current.Spec.Template.Spec.Containers[0]
	c.TerminationMessagePath = "/dev/termination-log"
	c.ImagePullPolicy = corev1.PullIfNotPresent
	c.LivenessProbe.TimeoutSeconds = 1
	c.Env[0].ValueFrom.FieldRef.APIVersion = "v1"
	current.Spec.Template.Spec.DNSPolicy = corev1.DNSClusterFirst
	current.Annotations["deployment.kubernetes.io/revision"] = "1"
	current.Status.Replicas = 1
	if ok, err := UpToDate(desired, current); !ok || err != nil {
		t.Fatalf("defaults make it stale: %v", err)
	}

	edited := current.DeepCopy()
	edited.Spec.Template.Spec.Containers[0].Image = "evil:1"
	if ok, _ := UpToDate(desired, edited); ok {
		t.Fatal("an edited image is up to date")
	}
	removed := current.DeepCopy()
	removed.Spec.Template.Spec.Containers[0].ReadinessProbe = nil
	if ok, _ := UpToDate(desired, removed); ok {
		t.Fatal("a removed probe is up to date")
	}
	port := current.DeepCopy()
	port.Spec.Template.Spec.Containers[0].LivenessProbe.HTTPGet.Port = intstr.FromInt32(9999)
	if ok, _ := UpToDate(desired, port); ok {
		t.Fatal("an edited probe port is up to date")
	}

	// The user drops a node selector: the object still holds it, the hash tells.
	w.Page.Spec.Webhook.NodeSelector = map[string]string{"pool": "web"}
	withSelector := typed[appsv1.Deployment](t, Deployment(w))
	w.Page.Spec.Webhook.NodeSelector = nil
	if ok, _ := UpToDate(Deployment(w), withSelector); ok {
		t.Fatal("a dropped node selector is up to date")
	}
}
