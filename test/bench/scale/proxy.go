package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// countingProxy stands between the operator and the API server and counts every request it
// makes, by verb: the API server's own metrics do not say which client called. The operator
// connects in plain HTTP to the proxy, which forwards with the admin's credentials.
type countingProxy struct {
	srv *http.Server
	url string

	mu     sync.Mutex
	counts map[string]int // "GET", "LIST", "WATCH", "POST", "PATCH"...
	// the same requests by verb and resource ("PATCH messengerpages/status"), for where they go
	byResource map[string]int
	// time spent in requests other than watches, for the mean latency the operator sees
	busy time.Duration
	n    int
}

func startProxy(admin *rest.Config) (*countingProxy, error) {
	rt, err := rest.TransportFor(admin)
	if err != nil {
		return nil, err
	}
	up, err := url.Parse(admin.Host)
	if err != nil {
		return nil, err
	}
	p := &countingProxy{counts: map[string]int{}, byResource: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(up)
			r.Out.Host = up.Host
		},
		Transport:     rt,
		FlushInterval: -1, // watches stream
		// Watches cut when the operator or the bench stops are not worth a line each.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verb := p.count(r)
		start := time.Now()
		rp.ServeHTTP(w, r)
		if verb != "WATCH" {
			p.mu.Lock()
			p.busy += time.Since(start)
			p.n++
			p.mu.Unlock()
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + ln.Addr().String()
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// count classifies a request as Kubernetes verbs do (a GET is a get, a list or a watch).
func (p *countingProxy) count(r *http.Request) string {
	verb := r.Method
	if verb == http.MethodGet {
		q := r.URL.Query()
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			verb = "WATCH"
		case isCollection(r.URL.Path):
			verb = "LIST"
		}
	}
	p.mu.Lock()
	p.counts[verb]++
	p.byResource[verb+" "+resourceOf(r.URL.Path)]++
	p.mu.Unlock()
	return verb
}

// resourceOf names a request's resource as RBAC does: "secrets", "messengerpages/status".
func resourceOf(path string) string {
	rest, ok := afterGroupVersion(path)
	if !ok {
		return path
	}
	if len(rest) >= 2 && rest[0] == "namespaces" && len(rest) > 2 {
		rest = rest[2:]
	}
	switch len(rest) {
	case 0:
		return path
	case 1, 2:
		return rest[0]
	default:
		return rest[0] + "/" + rest[2]
	}
}

// meanLatency of the requests since the last call, then starts again.
func (p *countingProxy) meanLatency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m time.Duration
	if p.n > 0 {
		m = p.busy / time.Duration(p.n)
	}
	p.busy, p.n = 0, 0
	return m.Round(100 * time.Microsecond)
}

// isCollection: /api/v1/namespaces/NS/secrets or /apis/G/V/namespaces/NS/kind (an even number of
// segments after the group version), or a cluster-wide /apis/G/V/kind.
func isCollection(path string) bool {
	rest, ok := afterGroupVersion(path)
	if !ok {
		return false
	}
	if len(rest) >= 2 && rest[0] == "namespaces" {
		if len(rest) == 2 {
			return false // a namespace itself
		}
		rest = rest[2:]
	}
	return len(rest) == 1
}

// afterGroupVersion is the path's segments after /api/V or /apis/G/V; false for another path.
func afterGroupVersion(path string) ([]string, bool) {
	segs := splitPath(path)
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		return segs[2:], true
	case len(segs) >= 3 && segs[0] == "apis":
		return segs[3:], true
	}
	return nil, false
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// take returns the counts so far and starts again from zero.
func (p *countingProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	return c
}

// takeResources returns the counts by verb and resource so far and starts again from zero.
func (p *countingProxy) takeResources() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.byResource
	p.byResource = map[string]int{}
	return c
}

func mutating(c map[string]int) int {
	return c["POST"] + c["PUT"] + c["PATCH"] + c["DELETE"]
}

func total(c map[string]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// kubeconfig writes a kubeconfig for the proxy (no credentials: the proxy adds them).
func (p *countingProxy) kubeconfig(dir string) (string, error) {
	return p.kubeconfigAs(dir, "kubeconfig-proxy", "")
}

// kubeconfigAs writes a kubeconfig for the proxy that impersonates user in groups (the proxy's
// admin credentials may impersonate; the headers pass through it), or nobody if user is "".
func (p *countingProxy) kubeconfigAs(dir, file, user string, groups ...string) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: p.url}
	kc.AuthInfos["bench"] = &clientcmdapi.AuthInfo{Impersonate: user, ImpersonateGroups: groups}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "bench"}
	kc.CurrentContext = "bench"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, file)
	return path, os.WriteFile(path, data, 0o600)
}
