package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Cluster is a kwok cluster: a real kube-apiserver, etcd, kube-controller-manager (garbage
// collection, Deployments) and kube-scheduler, with simulated nodes that make pods Running, so
// Deployments become Available. Pods run nothing: our binaries run as local processes instead.
type Cluster struct {
	Name       string
	Kubeconfig string
	Config     *rest.Config
	Client     client.Client

	kwokctl string
	workdir string
}

// KwokOptions shape a cluster.
type KwokOptions struct {
	// Name must be unique among clusters running at once on this machine.
	Name string
	// Nodes is the number of simulated nodes (default 2).
	Nodes int
	// DisableQPSLimits lifts the client rate limits of the control plane's components.
	DisableQPSLimits bool
}

// StartKwok creates a cluster with the binaries from Assets and installs our CRDs. Its files live
// in a temporary directory; Stop removes them.
func StartKwok(opts KwokOptions) (*Cluster, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	workdir, err := os.MkdirTemp("", "kwok-"+opts.Name+"-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Name:       opts.Name,
		Kubeconfig: filepath.Join(workdir, "kubeconfig"),
		kwokctl:    filepath.Join(assets, "kwokctl"),
		workdir:    workdir,
	}
	args := []string{"create", "cluster", "--name", opts.Name, "--runtime", "binary",
		"--kube-apiserver-binary", filepath.Join(assets, "kube-apiserver"),
		"--kube-controller-manager-binary", filepath.Join(assets, "kube-controller-manager"),
		"--kube-scheduler-binary", filepath.Join(assets, "kube-scheduler"),
		"--etcd-binary", filepath.Join(assets, "etcd"),
		"--kwok-controller-binary", filepath.Join(assets, "kwok"),
		"--kubeconfig", c.Kubeconfig, "--wait", "120s"}
	if opts.DisableQPSLimits {
		args = append(args, "--disable-qps-limits")
	}
	if err := c.run(args...); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.run("scale", "node", "--name", opts.Name, "--replicas", strconv.Itoa(opts.Nodes)); err != nil {
		c.Stop()
		return nil, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		c.Stop()
		return nil, err
	}
	c.Config.QPS, c.Config.Burst = -1, 0
	if c.Client, err = client.New(c.Config, client.Options{Scheme: Scheme()}); err != nil {
		c.Stop()
		return nil, err
	}
	_, err = envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfPathMissing: true,
		MaxTime:            time.Minute,
	})
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("installing CRDs: %w", err)
	}
	return c, nil
}

func (c *Cluster) run(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.kwokctl, args...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.workdir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", args[0]+" "+args[1], err, out.String())
	}
	return nil
}

// Kubectl runs kubectl against the cluster and returns its combined output.
func (c *Cluster) Kubectl(args ...string) (string, error) {
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", c.Kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

// Stop deletes the cluster, its processes and its files.
func (c *Cluster) Stop() {
	_ = c.run("delete", "cluster", "--name", c.Name, "--kubeconfig", c.Kubeconfig)
	_ = os.RemoveAll(c.workdir)
}
