package kwok

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// install is where an install put the manager.
type install struct {
	namespace, deployment string
	// managerRole is the manager's ClusterRole; metricsReader the ClusterRole for scrapers.
	managerRole, metricsReader string
}

// The kustomize install (config/default) as the Makefile's deploy target applies it.
var kustomizeInstall = install{
	namespace:     "messenger-operator-system",
	deployment:    "messenger-operator-controller-manager",
	managerRole:   "messenger-operator-manager-role",
	metricsReader: "messenger-operator-metrics-reader",
}

var kustomizeOnce struct {
	sync.Mutex
	done bool
}

// installKustomize applies config/default (once per test binary; applying is idempotent, tests
// that change the install put it back).
func installKustomize(t *testing.T) install {
	t.Helper()
	kustomizeOnce.Lock()
	defer kustomizeOnce.Unlock()
	if !kustomizeOnce.done {
		kubectl(t, nil, "apply", "--server-side", "-k", filepath.Join(testenv.RepoRoot(), "config", "default"))
		waitAvailable(t, kustomizeInstall)
		kustomizeOnce.done = true
	}
	return kustomizeInstall
}

// kubectl runs kubectl on the cluster, with stdin when given, and fails the test on error.
func kubectl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	out, err := kubectlErr(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlErr(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitAvailable waits for the manager's Deployment to be Available: its pod was admitted (the
// install's namespace enforces the restricted Pod Security Standard) and kwok runs it.
func waitAvailable(t *testing.T, inst install) {
	t.Helper()
	eventually(t, 90*time.Second, "the manager Deployment Available", func() (bool, string) {
		d := &appsv1.Deployment{}
		if err := cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: inst.namespace, Name: inst.deployment}, d); err != nil {
			return false, err.Error()
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && d.Status.ObservedGeneration == d.Generation {
				return true, ""
			}
		}
		return false, stringify(d.Status) + "\npods: " + podSummary(inst.namespace)
	})
}

// helm returns the pinned helm binary (HELM_VERSION in the Makefile), installing it with the
// Makefile's rule when missing.
func helm(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot()
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	must(t, err)
	m := regexp.MustCompile(`(?m)^HELM_VERSION \?= (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("no HELM_VERSION in the Makefile")
	}
	bin := filepath.Join(root, "bin", "helm-"+string(m[1]))
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.Command("make", "-C", root, bin).CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", bin, err, out)
		}
	}
	return bin
}

// helmTemplate renders dist/chart as release name in namespace with the given --set values.
func helmTemplate(t *testing.T, release, namespace string, set ...string) []byte {
	t.Helper()
	args := []string{"template", release, filepath.Join(testenv.RepoRoot(), "dist", "chart"), "--namespace", namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// installHelm renders the chart and applies it server-side (as Argo CD does with a chart); the
// release namespace is created first, enforcing the restricted Pod Security Standard.
func installHelm(t *testing.T, release, namespace string, set ...string) install {
	t.Helper()
	createNamespace(t, namespace, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	kubectl(t, helmTemplate(t, release, namespace, set...), "apply", "--server-side", "--field-manager=helm-test", "-f", "-")
	full := release + "-messenger-operator"
	if strings.Contains(release, "messenger-operator") {
		full = release
	}
	inst := install{namespace: namespace, deployment: full + "-manager", managerRole: full + "-manager", metricsReader: full + "-metrics-reader"}
	waitAvailable(t, inst)
	return inst
}

// createNamespace creates a namespace with labels (kept after the test: kwok would delete its
// content, which the later tests' operator would only watch go).
func createNamespace(t *testing.T, name string, labels map[string]string) string {
	t.Helper()
	must(t, cluster.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}))
	return name
}

// podSummary says where the pods of a namespace are, for failure messages.
func podSummary(ns string) string {
	var pods corev1.PodList
	if err := cluster.Client.List(context.Background(), &pods, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var out []string
	for _, p := range pods.Items {
		out = append(out, fmt.Sprintf("%s node=%q phase=%s conditions=%s", p.Name, p.Spec.NodeName, p.Status.Phase, stringify(p.Status.Conditions)))
	}
	ev, _ := kubectlErr(nil, "get", "events", "-n", ns)
	return strings.Join(out, "\n") + "\n" + ev
}
