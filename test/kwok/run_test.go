package kwok

import (
	"context"
	"net/http"
	"os/exec"
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// `make run`: the manager started with no flag and no WEBHOOK_IMAGE against the current
// kubeconfig (here the cluster's admin) reconciles a page, its webhook on the released image of
// the manager's version (the Makefile's IMAGE_REPO:VERSION), instead of stopping for want of
// --webhook-image.
func TestMakeRunNeedsNoWebhookImage(t *testing.T) {
	ctx := context.Background()
	out, err := exec.Command("make", "-s", "-C", testenv.RepoRoot(), "--no-print-directory", "-f", "Makefile", "print-IMG").CombinedOutput()
	img := string(regexp.MustCompile(`\S+`).Find(out))
	if err != nil || img == "" {
		t.Fatalf("make print-IMG: %v\n%s", err, out)
	}
	addrs, err := testenv.FreeAddrs(1)
	must(t, err)
	// As `make run` starts it: no flags but the probe address this test needs free.
	p, err := testenv.StartProcess(managerBin, []string{"--health-probe-bind-address=" + addrs[0]},
		"KUBECONFIG="+cluster.Kubeconfig, "WEBHOOK_IMAGE=", "WATCH_NAMESPACE=", "POD_NAMESPACE=")
	must(t, err)
	t.Cleanup(func() {
		if err := p.Stop(20 * time.Second); err != nil {
			t.Errorf("the manager did not stop cleanly: %v\n%s", err, tail(p.Output(), 40))
		}
	})
	eventually(t, 60*time.Second, "the manager's /readyz", func() (bool, string) {
		select {
		case <-p.Exited():
			t.Fatalf("the manager exited:\n%s", p.Output())
		default:
		}
		resp, err := http.Get("http://" + addrs[0] + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	ns := namespace(t, "make-run", nil)
	credentials(t, ns, "creds", false)
	policy(t, ns, "support")
	page := waitReady(t, newPage(t, ns, "local", nil))
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, webhookKey(page), d))
	if got := d.Spec.Template.Spec.Containers[0].Image; got != img {
		t.Fatalf("webhook image %q, want the release %q", got, img)
	}
}
