package kwok

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// throughProxy points the operator's kubeconfig at a proxy to the API server that the test can
// cut: the API server unreachable for the operator, as in a partition or an API server restart.
func (o *operator) throughProxy(t *testing.T) *testenv.TCPProxy {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(o.kubeconfig)
	must(t, err)
	cl := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	u, err := url.Parse(cl.Server)
	must(t, err)
	proxy, err := testenv.NewTCPProxy(u.Host)
	must(t, err)
	t.Cleanup(proxy.Close)
	cl.Server = "https://" + proxy.Addr()
	cl.TLSServerName = u.Hostname()
	must(t, clientcmd.WriteToFile(*kc, o.kubeconfig))
	return proxy
}

// The API server unreachable for a while: the operator recovers without manual help. A short
// outage is ridden out by the same process (client-go's watches reconnect); after a long one the
// leader lease lapses, the manager exits rather than run as a second leader, and the restarted
// process (what the kubelet does with the container) takes over. Pages created during the
// outage become Ready, and drift made during it is corrected.
func TestOperatorRecoversFromAPIServerOutage(t *testing.T) {
	inst := installKustomize(t)
	op := newOperator(t, inst)
	proxy := op.throughProxy(t)
	op.start(t)
	ns := namespace(t, "outage", nil)
	credentials(t, ns, "creds", true)
	policy(t, ns, "support")
	before := newPage(t, ns, "before", nil)
	waitReady(t, before)

	// Short outage: the operator keeps running and catches up.
	proxy.SetDown(true)
	during := newPage(t, ns, "during", nil)
	svc := &corev1.Service{}
	must(t, cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: specs.WebhookName("before")}, svc))
	must(t, cluster.Client.Delete(context.Background(), svc))
	eventually(t, 30*time.Second, "the operator to try the API server", func() (bool, string) {
		return proxy.Refused() >= 3, fmt.Sprintf("refused connections so far: %d", proxy.Refused())
	})
	proxy.SetDown(false)
	waitReady(t, during)
	eventually(t, 60*time.Second, "the deleted Service to come back", func() (bool, string) {
		err := cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: specs.WebhookName("before")}, &corev1.Service{})
		return err == nil, fmt.Sprint(err)
	})
	select {
	case <-op.proc.Exited():
		t.Fatalf("the operator exited during a short outage:\n%s", tail(op.proc.Output(), 30))
	default:
	}

	// Long outage: past the lease's renew deadline the manager gives up and exits.
	proxy.SetDown(true)
	after := newPage(t, ns, "after", nil)
	select {
	case <-op.proc.Exited():
	case <-time.After(90 * time.Second):
		t.Fatalf("the operator kept running without the API server past its lease:\n%s", tail(op.proc.Output(), 30))
	}
	op.proc = nil // it exited on its own: nothing to stop
	proxy.SetDown(false)
	op.start(t) // the kubelet restarts the container
	waitReady(t, after)
	waitReady(t, during)
}
