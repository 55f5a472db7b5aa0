package specs

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

func TestDeploymentSecurityContextIsRestricted(t *testing.T) {
	d := typed[appsv1.Deployment](t, Deployment(Webhook{Page: testPage(), DefaultImage: "op:1"}))
	pod := d.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Fatalf("pod runAsNonRoot not set: %+v", pod.SecurityContext)
	}
	if sp := pod.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Fatalf("pod seccomp: %+v", sp)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("containers: %d", len(pod.Containers))
	}
	sc := pod.Containers[0].SecurityContext
	switch {
	case sc == nil:
		t.Fatal("no container security context")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Fatal("readOnlyRootFilesystem not true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Fatal("allowPrivilegeEscalation not false")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Fatal("container runAsNonRoot not true")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Fatalf("capabilities: %+v", sc.Capabilities)
	case sc.Privileged != nil && *sc.Privileged:
		t.Fatal("privileged")
	}
	if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken || pod.ServiceAccountName != "acme-webhook" {
		t.Fatalf("service account: %q automount %v", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= int64(contract.DrainTimeout.Seconds()) {
		t.Fatalf("grace period %v must exceed the drain timeout %s", pod.TerminationGracePeriodSeconds, contract.DrainTimeout)
	}
}

func TestDeploymentProbesPortsAndFlags(t *testing.T) {
	d := typed[appsv1.Deployment](t, Deployment(Webhook{Page: testPage(), DefaultImage: "op:1"}))
	c := d.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 1337 || ports["probes"] != 8081 {
		t.Fatalf("ports: %v", ports)
	}
	for name, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port.String() != "probes" {
			t.Fatalf("probe %s: %+v", name, p)
		}
	}
	want := []string{"--page=$(POD_NAMESPACE)/acme", "--listen=:1337", "--probe-addr=:8081", "--drain-timeout=20s"}
	if !slices.Equal(c.Args, want) || !slices.Equal(c.Command, []string{"/webhook"}) {
		t.Fatalf("command %v args %v", c.Command, c.Args)
	}
	if len(c.Env) != 4 || c.Env[2].Name != "AUDIT_KEY" || c.Env[0].Name != "POD_NAMESPACE" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace" ||
		c.Env[1].Name != "MEMORY_LIMIT" || c.Env[1].ValueFrom.ResourceFieldRef.Resource != "limits.memory" ||
		c.Env[3].Name != "ROLE" || c.Env[3].Value != "acme-webhook" {
		t.Fatalf("env: %+v", c.Env)
	}
	// With the generated verify token in use, the webhook learns its Secret from the environment.
	d = typed[appsv1.Deployment](t, Deployment(Webhook{Page: testPage(), DefaultImage: "op:1", VerifyTokenSecret: "acme-verify-token"}))
	env := d.Spec.Template.Spec.Containers[0].Env
	if len(env) != 5 || env[0].Name != "POD_NAMESPACE" || env[3].Name != "VERIFY_TOKEN_SECRET" || env[3].Value != "acme-verify-token" {
		t.Fatalf("env with a generated verify token: %+v", env)
	}
	if c.Image != "op:1" {
		t.Fatalf("image %q", c.Image)
	}
	// The memory store: never two pods serving at once.
	if s := d.Spec.Strategy; s.Type != appsv1.RecreateDeploymentStrategyType || s.RollingUpdate != nil {
		t.Fatalf("strategy with the memory store: %+v", s)
	}
	if *d.Spec.Replicas != 1 {
		t.Fatalf("replicas %d", *d.Spec.Replicas)
	}
	// Default resources: requests and a memory limit.
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Fatalf("default resources: %+v", c.Resources)
	}
}

func TestDeploymentCarriesTheWebhookSpec(t *testing.T) {
	page := testPage()
	zero := int32(0)
	w := &page.Spec.Webhook
	w.Replicas = &zero
	w.Image = "custom:2"
	w.PodAnnotations = map[string]string{"prometheus.io/scrape": "true", SpecHashAnnotation: "forged"}
	w.PodLabels = map[string]string{"team": "support", LabelInstance: "forged"}
	w.NodeSelector = map[string]string{"pool": "web"}
	w.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "web", Effect: corev1.TaintEffectNoSchedule}}
	w.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	d := typed[appsv1.Deployment](t, Deployment(Webhook{Page: page, DefaultImage: "op:1"}))
	tpl := d.Spec.Template
	if *d.Spec.Replicas != 0 || tpl.Spec.Containers[0].Image != "custom:2" {
		t.Fatalf("replicas %d image %q", *d.Spec.Replicas, tpl.Spec.Containers[0].Image)
	}
	if tpl.Annotations["prometheus.io/scrape"] != "true" || tpl.Annotations[SpecHashAnnotation] == "forged" {
		t.Fatalf("annotations: %v", tpl.Annotations)
	}
	if tpl.Labels["team"] != "support" || tpl.Labels[LabelInstance] != "acme" {
		t.Fatalf("pod labels: %v", tpl.Labels)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if tpl.Labels[k] != v {
			t.Fatalf("selector %s=%s does not match the template", k, v)
		}
	}
	if tpl.Spec.NodeSelector["pool"] != "web" || len(tpl.Spec.Tolerations) != 1 || tpl.Spec.Tolerations[0] != w.Tolerations[0] {
		t.Fatalf("scheduling: %v %v", tpl.Spec.NodeSelector, tpl.Spec.Tolerations)
	}
	r := tpl.Spec.Containers[0].Resources
	if r.Limits.Memory().String() != "1Gi" || len(r.Requests) != 0 {
		t.Fatalf("resources: %+v", r)
	}
	// The page's own labels stay on the page.
	if _, ok := d.Labels["argocd.argoproj.io/instance"]; ok {
		t.Fatal("the page's labels were copied")
	}
	if d.Labels[LabelManaged] != "true" || d.Labels[LabelManagedBy] != "messenger-operator" || d.Labels[LabelName] != "messenger-webhook" {
		t.Fatalf("labels: %v", d.Labels)
	}
	if len(d.OwnerReferences) != 1 || !*d.OwnerReferences[0].Controller || d.OwnerReferences[0].UID != "uid-1" {
		t.Fatalf("owner: %+v", d.OwnerReferences)
	}
}

func TestPodSpecHash(t *testing.T) {
	base := Webhook{Page: testPage(), DefaultImage: "op:1"}
	h := PodSpecHash(base)
	if h == "" || h != PodSpecHash(base) {
		t.Fatal("hash not stable")
	}
	same := func(what string, mutate func(w *Webhook)) {
		t.Helper()
		w := Webhook{Page: testPage(), DefaultImage: "op:1"}
		mutate(&w)
		if got := PodSpecHash(w); got != h {
			t.Errorf("%s changed the hash", what)
		}
		if a, b := hashOf(t, base), hashOf(t, w); a != b {
			t.Errorf("%s changed the pod template's hash annotation", what)
		}
	}
	differs := func(what string, mutate func(w *Webhook)) {
		t.Helper()
		w := Webhook{Page: testPage(), DefaultImage: "op:1"}
		mutate(&w)
		if PodSpecHash(w) == h {
			t.Errorf("%s did not change the hash", what)
		}
	}
	// What the webhook reads live never rolls pods.
	same("the Secret's name and keys", func(w *Webhook) {
		w.Page.Spec.SecretRef = v1alpha1SecretRef("other", "k1", "k2", "k3")
	})
	same("the policy", func(w *Webhook) { w.Page.Spec.PolicyRef.Name = "other" })
	same("the Graph API settings and business name", func(w *Webhook) {
		w.Page.Spec.GraphAPI.Version = "v99.0"
		w.Page.Spec.BusinessName = "Other"
	})
	same("replicas", func(w *Webhook) { zero := int32(0); w.Page.Spec.Webhook.Replicas = &zero })
	same("the ingress", func(w *Webhook) { w.Page.Spec.Ingress = nil })
	same("an image override equal to the default", func(w *Webhook) { w.Page.Spec.Webhook.Image = "op:1" })
	differs("the operator's image", func(w *Webhook) { w.DefaultImage = "op:2" })
	differs("spec.webhook.image", func(w *Webhook) { w.Page.Spec.Webhook.Image = "custom:1" })
	differs("pod annotations", func(w *Webhook) { w.Page.Spec.Webhook.PodAnnotations = map[string]string{"a": "b"} })
	differs("resources", func(w *Webhook) {
		w.Page.Spec.Webhook.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	})
	differs("the page name (flags)", func(w *Webhook) { w.Page.Name = "other" })
	differs("the generated verify token Secret in use", func(w *Webhook) { w.VerifyTokenSecret = "acme-verify-token" })
	if !strings.Contains(hashOf(t, base), h) {
		t.Fatal("the template does not carry the hash")
	}
}

func hashOf(t *testing.T, w Webhook) string {
	return typed[appsv1.Deployment](t, Deployment(w)).Spec.Template.Annotations[SpecHashAnnotation]
}
