// Package kwok tests the operator end to end on a kwok cluster: a real kube-apiserver, etcd,
// kube-controller-manager (Deployments, garbage collection, namespaces) and kube-scheduler, with
// simulated nodes that make pods Running and Ready. The manager runs as a local process with the
// identity and the flags an install gives it. One cluster serves the whole package (CI time);
// tests run one after the other, each in its own namespaces.
package kwok

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

var (
	cluster    *testenv.Cluster
	managerBin string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	// kwokctl reads the audit policy from the environment (its --kube-audit-policy flag); the
	// apiserver then logs every write, which is how the tests count the operator's requests.
	policy, err := filepath.Abs(filepath.Join("testdata", "audit-policy.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = os.Setenv("KWOK_KUBE_AUDIT_POLICY", policy)

	built := make(chan error, 1)
	go func() {
		var err error
		managerBin, err = testenv.Binary("manager")
		built <- err
	}()
	cluster, err = testenv.StartKwok(testenv.KwokOptions{Name: fmt.Sprintf("kwok-e2e-%d", os.Getpid())})
	if err != nil {
		if err := <-built; err != nil {
			fmt.Fprintln(os.Stderr, "building the manager:", err)
		}
		fmt.Fprintln(os.Stderr, "starting the kwok cluster:", err)
		return 1
	}
	defer cluster.Stop()
	if err := <-built; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := os.Stat(auditLogPath()); err != nil {
		fmt.Fprintln(os.Stderr, "the apiserver writes no audit log (kwokctl ignored KWOK_KUBE_AUDIT_POLICY?):", err)
		return 1
	}
	return m.Run()
}
