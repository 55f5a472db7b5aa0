package kwok

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// operator is the manager binary run as a local process in place of the installed Deployment's
// pod (kwok pods run nothing): with the ServiceAccount the install gives it (impersonated), and
// the command line and environment of the Deployment's manager container, resolved the way the
// kubelet would. The one liberty: a pod has its own network namespace and this process shares
// the host's, so the probe and metrics listeners move to free local ports.
type operator struct {
	inst        install
	user        string
	args, env   []string
	webhookImg  string
	probeAddr   string
	metricsAddr string
	kubeconfig  string
	proc        *testenv.Process
}

// newOperator reads the installed Deployment; start runs it.
func newOperator(t *testing.T, inst install) *operator {
	t.Helper()
	ctx := context.Background()
	d := &appsv1.Deployment{}
	must(t, cluster.Client.Get(ctx, types.NamespacedName{Namespace: inst.namespace, Name: inst.deployment}, d))
	var c *corev1.Container
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == "manager" {
			c = &d.Spec.Template.Spec.Containers[i]
		}
	}
	if c == nil {
		t.Fatalf("Deployment %s/%s has no manager container", inst.namespace, inst.deployment)
	}
	if !slices.Equal(c.Command, []string{"/manager"}) {
		t.Fatalf("the manager container runs %v, not /manager", c.Command)
	}
	sa := d.Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		t.Fatal("the manager's pod has no serviceAccountName: it would run as the namespace's default account")
	}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: inst.namespace, Name: sa}, &corev1.ServiceAccount{}); err != nil {
		t.Fatalf("the manager's ServiceAccount %q: %v", sa, err)
	}
	o := &operator{inst: inst}
	vars := map[string]string{}
	// Variables the manager reads must come from the install, not from this test's environment.
	for _, name := range []string{"WEBHOOK_IMAGE", "WATCH_NAMESPACE", "POD_NAMESPACE", "GOMEMLIMIT"} {
		o.env = append(o.env, name+"=")
	}
	for _, e := range c.Env {
		v := resolveEnv(t, d, c, e, vars)
		vars[e.Name] = v
		o.env = append(o.env, e.Name+"="+v)
	}
	addrs, err := testenv.FreeAddrs(2)
	must(t, err)
	o.probeAddr, o.metricsAddr = addrs[0], addrs[1]
	for _, a := range c.Args {
		a = expand(a, vars)
		switch {
		case strings.HasPrefix(a, "--health-probe-bind-address="):
			a = "--health-probe-bind-address=" + o.probeAddr
		case strings.HasPrefix(a, "--metrics-bind-address="):
			if strings.TrimPrefix(a, "--metrics-bind-address=") == "0" {
				o.metricsAddr = ""
			} else {
				a = "--metrics-bind-address=" + o.metricsAddr
			}
		case strings.HasPrefix(a, "--webhook-image="):
			o.webhookImg = strings.TrimPrefix(a, "--webhook-image=")
		}
		o.args = append(o.args, a)
	}
	if o.webhookImg == "" {
		o.webhookImg = vars["WEBHOOK_IMAGE"]
	}
	if o.webhookImg == "" || strings.Contains(o.webhookImg, "$(") {
		t.Fatalf("the install gives the manager no webhook image: args %v env %v", o.args, o.env)
	}
	var groups []string
	o.user, groups = testenv.ServiceAccountUser(inst.namespace, sa)
	dir := t.TempDir()
	// kwok's kubeconfig names its certificates by file; the impersonating kubeconfig carries
	// only inline data.
	admin := rest.CopyConfig(cluster.Config)
	must(t, rest.LoadTLSFiles(admin))
	kc, err := testenv.ImpersonatingKubeconfig(admin, dir, o.user, groups...)
	must(t, err)
	// KUBECONFIG is a colon-separated list, and the file is named after the user, colons
	// included: give the manager a path that is one file.
	o.kubeconfig = filepath.Join(dir, "kubeconfig")
	must(t, os.Rename(kc, o.kubeconfig))
	return o
}

// start runs the manager and waits until it serves /readyz.
func (o *operator) start(t *testing.T) {
	t.Helper()
	p, err := testenv.StartProcess(managerBin, o.args, append(o.env, "KUBECONFIG="+o.kubeconfig)...)
	must(t, err)
	o.proc = p
	t.Cleanup(func() { o.stop(t) })
	t.Logf("manager as %s: %s", o.user, strings.Join(o.args, " "))
	eventually(t, 60*time.Second, "the manager's /readyz", func() (bool, string) {
		select {
		case <-p.Exited():
			t.Fatalf("the manager exited:\n%s", p.Output())
		default:
		}
		resp, err := http.Get("http://" + o.probeAddr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// stop ends the manager with SIGTERM, as the kubelet would, and expects a clean exit; it fails
// the test when the process logged an error on the way.
func (o *operator) stop(t *testing.T) {
	t.Helper()
	if o.proc == nil {
		return
	}
	p := o.proc
	o.proc = nil
	if err := p.Stop(20 * time.Second); err != nil {
		t.Errorf("the manager did not stop cleanly: %v\n%s", err, p.Output())
	}
	// A request the install's RBAC refuses shows in the log (a failed reconcile, a reflector
	// that cannot list): the install must grant everything the manager does.
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("the manager was refused a request with the install's RBAC: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("manager output:\n%s", tail(p.Output(), 60))
	}
}

// restart is a new process with the same install (pod replaced).
// resolveEnv computes one environment variable of the container as the kubelet does, for the
// sources the install uses; anything else fails the test rather than being guessed.
func resolveEnv(t *testing.T, d *appsv1.Deployment, c *corev1.Container, e corev1.EnvVar, vars map[string]string) string {
	t.Helper()
	switch {
	case e.ValueFrom == nil:
		return expand(e.Value, vars)
	case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
		return d.Namespace
	case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
		limit := c.Resources.Limits.Memory()
		if limit.IsZero() {
			t.Fatalf("env %s reads limits.memory, which the container does not set", e.Name)
		}
		div := int64(1)
		if q := e.ValueFrom.ResourceFieldRef.Divisor; !q.IsZero() {
			div = q.Value()
		}
		return strconv.FormatInt((limit.Value()+div-1)/div, 10)
	}
	t.Fatalf("env %s: source %+v is not one this test resolves", e.Name, e.ValueFrom)
	return ""
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) with the value of a variable defined before, and $$ with $, leaving
// unknown references as they are (the kubelet's rules).
func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// scraperToken is a token of a ServiceAccount bound to the install's metrics-reader
// ClusterRole, for the manager's authenticated metrics endpoint.
func (o *operator) scraperToken(t *testing.T, bound bool) string {
	t.Helper()
	ctx := context.Background()
	name := "metrics-scraper"
	if !bound {
		name = "not-a-scraper"
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.inst.namespace}}
	if err := cluster.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if bound {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: o.inst.namespace + "-metrics-scraper"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: o.inst.metricsReader},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: o.inst.namespace}},
		}
		if err := cluster.Client.Create(ctx, crb); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(cluster.Config)
	must(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(o.inst.namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	must(t, err)
	return tr.Status.Token
}

// getMetrics calls the manager's metrics endpoint (HTTPS, self-signed) with token.
func (o *operator) getMetrics(t *testing.T, token string) (int, string) {
	t.Helper()
	code, body, err := o.fetchMetrics(token)
	must(t, err)
	return code, body
}

func (o *operator) fetchMetrics(token string) (int, string, error) {
	if o.metricsAddr == "" {
		return 0, "", fmt.Errorf("the install turns the metrics endpoint off")
	}
	req, err := http.NewRequest(http.MethodGet, "https://"+o.metricsAddr+"/metrics", nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's self-signed certificate
	}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// metric sums the samples of name whose labels include every pair in labels.
func metric(text, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// quiesce waits until the page controller has handled at least minAdds queue entries and has
// none queued or in progress: every page known at start has then been reconciled.
func (o *operator) quiesce(t *testing.T, token string, minAdds int) {
	t.Helper()
	eventually(t, 60*time.Second, "the page controller idle", func() (bool, string) {
		code, text, err := o.fetchMetrics(token)
		if err != nil || code != http.StatusOK {
			return false, fmt.Sprint("metrics: ", code, err)
		}
		adds := metric(text, "workqueue_adds_total", "name", "messengerpage")
		depth := metric(text, "workqueue_depth", "name", "messengerpage")
		active := metric(text, "controller_runtime_active_workers", "controller", "messengerpage")
		return adds >= float64(minAdds) && depth == 0 && active == 0,
			fmt.Sprintf("adds %v (want >= %d), depth %v, active %v", adds, minAdds, depth, active)
	})
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
