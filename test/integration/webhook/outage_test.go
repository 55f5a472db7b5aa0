package webhook

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/cmd/webhook/app"
)

// apiProxy forwards TCP to the API server (TLS passes through) and can cut it off, as a network
// partition or an API server restart would.
type apiProxy struct {
	ln      net.Listener
	target  string
	down    atomic.Bool
	refused atomic.Int32

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newAPIProxy(t *testing.T, target string) *apiProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	p := &apiProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

func (p *apiProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// cut closes every open connection.
func (p *apiProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func TestClusterModeKeepsServingThroughAnAPIServerOutage(t *testing.T) {
	const ns = "outage"
	graph := newFakeGraph(t)
	userCfg := setupPage(t, ns, graph)
	createSecret(t, ns)

	api, err := url.Parse(userCfg.Host)
	must(t, err)
	proxy := newAPIProxy(t, api.Host)
	viaProxy := rest.CopyConfig(userCfg)
	viaProxy.Host = "https://" + proxy.ln.Addr().String()
	viaProxy.ServerName = api.Hostname() // the certificate names the API server

	wh := start(t, app.Options{Page: types.NamespacedName{Namespace: ns, Name: "acme"}, RESTConfig: viaProxy})
	fb := &messenger{url: wh.webURL + "/hooks/acme"}
	eventually(t, "readiness", func() bool { return wh.ready(t) })
	const psid = "2000000000000009"
	if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v1" {
		t.Fatalf("reply %q", got)
	}

	// The API server becomes unreachable; meanwhile the policy changes there.
	proxy.down.Store(true)
	proxy.cut()
	update(t, &v1alpha1.HandoverPolicy{}, types.NamespacedName{Namespace: ns, Name: "support"}, func(p *v1alpha1.HandoverPolicy) {
		p.Spec.Welcome.Text = "Hello after the outage"
	})
	eventually(t, "the webhook to try to reconnect", func() bool { return proxy.refused.Load() >= 2 })
	if !wh.ready(t) {
		t.Fatal("not ready while the API server is unreachable")
	}
	if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v1" {
		t.Fatalf("reply %q during the outage, want the last configuration's", got)
	}

	// Back: the change made meanwhile arrives without a restart.
	proxy.down.Store(false)
	eventuallyWithin(t, 90*time.Second, "the policy edited during the outage", func() bool {
		return fb.ask(t, graph, "secret-one", psid) == "Hello after the outage"
	})
}
