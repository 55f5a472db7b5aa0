// Package e2e runs the product end to end on one kwok cluster: the operator as a process, and per
// test a page (Secret, HandoverPolicy, MessengerPage) in its own namespace, served by the webhook
// as a process with the page's ServiceAccount identity and driven by the Messenger Platform
// simulator; or a MessengerApp and its pages, served by the app's one webhook process. Tests assert what the platform saw (transcript, thread owner, accepted messages) and
// the page's status, never the webhook's internals.
package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

var env *harness.Env

func TestMain(m *testing.M) {
	var err error
	env, err = harness.Start(harness.Options{Name: fmt.Sprintf("e2e-%d", os.Getpid())})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "operator output (last lines):\n%s\n", lastLines(env.Operator.Output(), 60))
	}
	env.Stop()
	os.Exit(code)
}
