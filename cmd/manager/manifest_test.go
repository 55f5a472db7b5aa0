package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// config/manager/manager.yaml runs this binary with flags it accepts, with leader election on,
// the webhook image wired, probes on the probe port, and a restricted security context.
func TestManagerManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var obj appsv1.Deployment
		if err := yaml.UnmarshalStrict(doc, &obj); err == nil && obj.Kind == "Deployment" {
			d = &obj
		}
	}
	if d == nil {
		t.Fatal("no Deployment in manager.yaml")
	}
	c := d.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["WEBHOOK_IMAGE"] != c.Image {
		t.Fatalf("WEBHOOK_IMAGE %q is not the manager's image %q", env["WEBHOOK_IMAGE"], c.Image)
	}
	// The kubelet expands $(VAR) from the container's env.
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = strings.ReplaceAll(a, "$(WEBHOOK_IMAGE)", env["WEBHOOK_IMAGE"])
	}
	o, err := parseOptions(args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the manifest's flags: %v", err)
	}
	if !o.leaderElect || o.webhookImage != c.Image || o.probeAddr != ":8081" || o.metricsAddr != ":8443" || !o.metricsSecure {
		t.Fatalf("options from the manifest: %+v", o)
	}
	if !slices.Equal(c.Command, []string{"/manager"}) {
		t.Fatalf("command %v", c.Command)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || ports[p.HTTPGet.Port.StrVal] != 8081 {
			t.Fatalf("probe %+v on ports %v", p, ports)
		}
	}
	pod, sc := d.Spec.Template.Spec.SecurityContext, c.SecurityContext
	if !*pod.RunAsNonRoot || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		!*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Fatalf("security context %+v %+v", pod, sc)
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Fatal("no memory limit (GOMEMLIMIT derives from it)")
	}
}
