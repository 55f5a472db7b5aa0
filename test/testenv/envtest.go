// Package testenv starts a real control plane for tests: envtest (kube-apiserver and etcd built by
// hack/control-plane.sh) with this project's CRDs installed.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Env is a running control plane.
type Env struct {
	// Config is an admin (system:masters) connection.
	Config *rest.Config
	// Client is an uncached client on Config with Scheme.
	Client client.Client
	Scheme *runtime.Scheme

	env *envtest.Environment
}

// Scheme returns a scheme with the built-in kinds and ours.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := messengerv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// RepoRoot is the top of this repository, found from this file's location so tests work from any
// package directory.
func RepoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Assets is the directory of the control plane binaries: KUBEBUILDER_ASSETS when set (the Makefile
// sets it), else the newest build under bin/k8s.
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob(filepath.Join(RepoRoot(), "bin", "k8s", "*", "kube-apiserver"))
	if len(matches) == 0 {
		return "", fmt.Errorf("no control plane binaries: run `make control-plane` (or `make test`), or set KUBEBUILDER_ASSETS")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// Start starts kube-apiserver and etcd and installs the CRDs from config/crd/bases.
func Start() (*Env, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		// Two cores shared with parallel test packages: give the apiserver time.
		_ = os.Setenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", "120s")
	}
	scheme := Scheme()
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		// Start may fail after the processes are up (a CRD the API server refuses): stop them.
		_ = env.Stop()
		return nil, fmt.Errorf("starting envtest from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: env}, nil
}

// AddUser creates a user in the given groups and returns its connection. With no groups the user
// has no rights but those RBAC grants it.
func (e *Env) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, e.Config)
	if err != nil {
		return nil, err
	}
	return u.Config(), nil
}

// KubeconfigFor writes a kubeconfig file for cfg into dir and returns its path, for processes
// (kube-controller-manager, the webhook binary) that take one.
func KubeconfigFor(cfg *rest.Config, dir string) (string, error) {
	return writeKubeconfig(cfg, filepath.Join(dir, "kubeconfig"))
}

// Stop stops the control plane.
func (e *Env) Stop() error {
	return e.env.Stop()
}
