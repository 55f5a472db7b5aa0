package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// Options shape an Env.
type Options struct {
	// Name of the kwok cluster; unique among clusters running at once on the machine.
	Name string
	// ManagerBinary and WebhookBinary are the executables to run; empty means built once per
	// process with testenv.Binary.
	ManagerBinary, WebhookBinary string
	// Logf, if set, receives progress lines (never secrets).
	Logf func(format string, args ...any)
}

// Env is a running cluster with the operator.
type Env struct {
	Cluster  *testenv.Cluster
	Operator *testenv.Process

	opts    Options
	webhook string
	workdir string

	mu    sync.Mutex
	pages []*Page
	apps  []*App
}

// Start creates the cluster (with our CRDs) and starts the operator on it.
func Start(opts Options) (*Env, error) {
	if opts.Name == "" {
		opts.Name = "e2e"
	}
	manager, err := binary(opts.ManagerBinary, "manager")
	if err != nil {
		return nil, err
	}
	webhook, err := binary(opts.WebhookBinary, "webhook")
	if err != nil {
		return nil, err
	}
	workdir, err := os.MkdirTemp("", "e2e-"+opts.Name+"-")
	if err != nil {
		return nil, err
	}
	e := &Env{opts: opts, webhook: webhook, workdir: workdir}
	e.logf("starting the kwok cluster %q", opts.Name)
	if e.Cluster, err = testenv.StartKwok(testenv.KwokOptions{Name: opts.Name}); err != nil {
		_ = os.RemoveAll(workdir)
		return nil, err
	}
	if err := e.startOperator(manager); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func binary(path, name string) (string, error) {
	if path != "" {
		return path, nil
	}
	return testenv.Binary(name)
}

// startOperator runs the manager with the cluster admin's kubeconfig (the operator's own RBAC is
// tested elsewhere), leader election off, and waits for its health probe.
func (e *Env) startOperator(manager string) error {
	addrs, err := testenv.FreeAddrs(1)
	if err != nil {
		return err
	}
	probe := addrs[0]
	e.logf("starting the operator")
	e.Operator, err = testenv.StartProcess(manager, []string{
		"--webhook-image=messenger-operator/webhook:e2e",
		"--metrics-bind-address=0",
		"--health-probe-bind-address=" + probe,
		"--leader-elect=false",
		// Each page's and app's simulator listens on its own loopback port: the Graph API host
		// its baseURL names.
		"--graph-api-hosts=127.0.0.1",
	}, "KUBECONFIG="+e.Cluster.Kubeconfig, "WATCH_NAMESPACE=")
	if err != nil {
		return err
	}
	return waitHTTP(e.Operator, "http://"+probe+"/healthz", time.Minute)
}

// waitHTTP polls url until it answers 200, failing early when the process exits.
func waitHTTP(p *testenv.Process, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("the process exited before %s answered:\n%s", url, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200 within %s:\n%s", url, within, p.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops the pages and apps still running, the operator and the cluster, and removes their files.
func (e *Env) Stop() {
	e.mu.Lock()
	pages, apps := e.pages, e.apps
	e.pages, e.apps = nil, nil
	e.mu.Unlock()
	for _, p := range pages {
		p.Stop()
	}
	for _, a := range apps {
		a.Stop()
	}
	if e.Operator != nil {
		e.logf("stopping the operator")
		_ = e.Operator.Stop(15 * time.Second)
	}
	if e.Cluster != nil {
		e.logf("deleting the kwok cluster %q", e.opts.Name)
		e.Cluster.Stop()
	}
	_ = os.RemoveAll(e.workdir)
}

func (e *Env) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}
