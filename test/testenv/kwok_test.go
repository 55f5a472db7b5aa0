package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A kwok cluster makes Deployments Available: the end-to-end tests rely on it.
func TestKwokDeploymentBecomesAvailable(t *testing.T) {
	c, err := StartKwok(KwokOptions{Name: fmt.Sprintf("testenv-smoke-%d", os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	labels := map[string]string{"app": "smoke"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example/none"}}},
			},
		},
	}
	ctx := context.Background()
	if err := c.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(d), d); err == nil && d.Status.AvailableReplicas == 2 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("deployment never became available: %+v", d.Status)
}

func TestImpersonatingKubeconfigActsAsTheServiceAccount(t *testing.T) {
	c, err := StartKwok(KwokOptions{Name: fmt.Sprintf("testenv-impersonate-%d", os.Getpid()), Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	user, groups := ServiceAccountUser("default", "reader")
	path, err := ImpersonatingKubeconfig(c.Config, t.TempDir(), user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(filepath.Base(path), ":") {
		t.Fatalf("kubeconfig %s has a colon in its name, which KUBECONFIG would split", path)
	}
	out, err := exec.Command("kubectl", "--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").CombinedOutput()
	if err != nil || string(out) != user {
		t.Fatalf("kubectl auth whoami = %q, %v; want %s", out, err, user)
	}
	if out, err := exec.Command("kubectl", "--kubeconfig", path, "get", "secrets").CombinedOutput(); err == nil || !strings.Contains(string(out), "forbidden") {
		t.Fatalf("the ServiceAccount listed Secrets without a Role: %s", out)
	}
}
