package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// builds caches one build of each cmd/<name> per test binary: tests start the real binaries as
// local processes standing in for pods, which kwok never runs.
var builds sync.Map // name -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds ./cmd/<name> (once per test process) and returns the path of the executable.
func Binary(name string) (string, error) {
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() {
		// bin/test/<name>, replaced atomically: test packages running at once may build the same
		// binary, and nothing is left behind in the system's temporary directory.
		dir := filepath.Join(RepoRoot(), "bin", "test")
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		b.path = filepath.Join(dir, name)
		tmp := fmt.Sprintf("%s.%d.tmp", b.path, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "./cmd/"+name)
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			_ = os.Remove(tmp)
			b.err = fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
			return
		}
		b.err = os.Rename(tmp, b.path)
	})
	return b.path, b.err
}

// Process is a running binary whose output (stdout and stderr) is kept for assertions.
type Process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// StartProcess runs path with args; env is added to the test's environment.
func StartProcess(path string, args []string, env ...string) (*Process, error) {
	p := &Process{cmd: exec.Command(path, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (for reading its RSS from /proc).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is everything the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits up to grace for the exit, then kills. It returns the exit error
// of a process that did not end cleanly on SIGTERM.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("did not exit within its grace period after SIGTERM; killed")
	}
}

// ImpersonatingKubeconfig writes a kubeconfig in dir that connects with admin's credentials but
// acts as user (for example system:serviceaccount:NS:NAME with the groups
// system:serviceaccounts and system:serviceaccounts:NS), so a process gets exactly the RBAC of
// that identity.
func ImpersonatingKubeconfig(admin *rest.Config, dir, user string, groups ...string) (string, error) {
	cfg := rest.CopyConfig(admin)
	// A kwok cluster's kubeconfig names its certificate files; the written one carries them inline.
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return "", err
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	// No colons in the file name: KUBECONFIG splits on them.
	name := strings.NewReplacer(":", "_", "/", "_").Replace(user)
	return writeKubeconfig(cfg, filepath.Join(dir, "kubeconfig-"+name))
}

// ServiceAccountUser returns the user name and groups of a ServiceAccount, for impersonation.
func ServiceAccountUser(namespace, name string) (string, []string) {
	return "system:serviceaccount:" + namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
}

// lockedBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
