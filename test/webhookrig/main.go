// Package webhookrig is what the tests that run the webhook binary's Run in-process share: an
// envtest control plane for the test binary, the page fixture (namespace, policy, page, Secret,
// the webhook's Role and user), the Messenger Platform simulator set up for those pages, the
// webhook itself on free ports, signed requests and waits with deadlines.
package webhookrig

import (
	"fmt"
	"os"
	"testing"

	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// Env is the control plane of the running test binary, set by Main.
var Env *testenv.Env

// Main is a package's TestMain: it starts envtest, runs the tests and exits with their code.
func Main(m *testing.M) {
	// The webhook's caches log through controller-runtime's logger (cmd/webhook points it at the
	// process's logger): here, at klog, like client-go's own logs.
	ctrllog.SetLogger(klog.NewKlogr())
	var err error
	Env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = Env.Stop()
	os.Exit(code)
}
