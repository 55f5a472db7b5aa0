package controllers_test

import (
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// Every owned object has the fields the webhook's runtime contract needs, the page as its
// controller, and the operator's labels (not the page's).
func testOwnedObjects(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "owned", func(p *messengerv1alpha1.MessengerPage) {
		p.Labels = map[string]string{"argocd.argoproj.io/instance": "shop"}
		p.Spec.Ingress = &messengerv1alpha1.IngressSpec{
			Host: "m.acme.example", Path: "/hooks/acme", ClassName: ptr.To("nginx"),
			TLS:         &messengerv1alpha1.IngressTLS{SecretName: "acme-tls", Issuer: &messengerv1alpha1.IssuerReference{Name: "letsencrypt"}},
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
		}
	})
	ns := p.Namespace
	name := "acme-webhook"
	p = s.get(t, p)
	// The objects are applied one after the other: wait for the last.
	s.eventually(t, "the Ingress", func() (bool, string) {
		err := s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, &networkingv1.Ingress{})
		return err == nil, fmt.Sprint(err)
	})

	checkOwned := func(kind string, o client.Object) {
		t.Helper()
		if !metav1.IsControlledBy(o, p) {
			t.Errorf("%s %s is not controlled by the page: %+v", kind, o.GetName(), o.GetOwnerReferences())
		}
		l := o.GetLabels()
		if l[specs.LabelName] != "messenger-webhook" || l[specs.LabelInstance] != "acme" ||
			l[specs.LabelManagedBy] != "messenger-operator" || l[specs.LabelManaged] != "true" {
			t.Errorf("%s labels: %v", kind, l)
		}
		if _, copied := l["argocd.argoproj.io/instance"]; copied {
			t.Errorf("%s carries the page's labels", kind)
		}
	}

	// Deployment.
	d := s.deployment(t, p)
	checkOwned("Deployment", d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case *d.Spec.Replicas != 1:
		t.Errorf("replicas %d", *d.Spec.Replicas)
	case c.Image != testImage:
		t.Errorf("image %q", c.Image)
	case !slices.Equal(c.Command, []string{"/webhook"}) || !slices.Contains(c.Args, "--page=$(POD_NAMESPACE)/acme") ||
		!slices.Contains(c.Args, "--listen=:1337") || !slices.Contains(c.Args, "--probe-addr=:8081"):
		t.Errorf("command %v args %v", c.Command, c.Args)
	case c.Env[0].Name != "POD_NAMESPACE" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace":
		t.Errorf("env %+v", c.Env)
	case c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.StrVal != "probes":
		t.Errorf("probes %+v %+v", c.LivenessProbe, c.ReadinessProbe)
	case pod.ServiceAccountName != name || !*pod.AutomountServiceAccountToken:
		t.Errorf("service account %q", pod.ServiceAccountName)
	case *pod.TerminationGracePeriodSeconds != 30:
		t.Errorf("grace %d", *pod.TerminationGracePeriodSeconds)
	case !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
		!slices.Equal(c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("security context %+v %+v", pod.SecurityContext, c.SecurityContext)
	case d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType: // the memory store: never two pods at once
		t.Errorf("strategy %+v", d.Spec.Strategy)
	case d.Spec.Template.Annotations[specs.SpecHashAnnotation] == "":
		t.Errorf("no spec hash on the pod template: %v", d.Spec.Template.Annotations)
	}

	// Service.
	svc := &corev1.Service{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, svc))
	checkOwned("Service", svc)
	if sp := svc.Spec.Ports; len(sp) != 2 || sp[0].Port != 80 || sp[0].TargetPort.StrVal != "http" || sp[0].Name != "http" ||
		sp[1].Name != "metrics" || sp[1].Port != 8081 || sp[1].TargetPort.StrVal != "probes" {
		t.Errorf("service ports %+v", sp)
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the pods have %q", k, v, d.Spec.Template.Labels[k])
		}
	}

	// Ingress.
	in := &networkingv1.Ingress{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, in))
	checkOwned("Ingress", in)
	rule := in.Spec.Rules[0]
	if *in.Spec.IngressClassName != "nginx" || rule.Host != "m.acme.example" || rule.HTTP.Paths[0].Path != "/hooks/acme" ||
		rule.HTTP.Paths[0].Backend.Service.Name != name || rule.HTTP.Paths[0].Backend.Service.Port.Name != "http" {
		t.Errorf("ingress %+v", in.Spec)
	}
	if len(in.Spec.TLS) != 1 || in.Spec.TLS[0].SecretName != "acme-tls" || in.Annotations["cert-manager.io/cluster-issuer"] != "letsencrypt" ||
		in.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "1m" {
		t.Errorf("ingress TLS %+v annotations %v", in.Spec.TLS, in.Annotations)
	}

	// ServiceAccount, Role, RoleBinding.
	sa := &corev1.ServiceAccount{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, sa))
	checkOwned("ServiceAccount", sa)
	role := &rbacv1.Role{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, role))
	checkOwned("Role", role)
	if names := secretNames(role); !slices.Equal(names, []string{"creds"}) {
		t.Errorf("the Role grants Secrets %v", names)
	}
	rb := &rbacv1.RoleBinding{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: name}, rb))
	checkOwned("RoleBinding", rb)
	if rb.RoleRef.Name != name || rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != name {
		t.Errorf("binding %+v", rb)
	}
	// The user's Secret has a verify token: nothing generated.
	if err := s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "acme-verify-token"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a verify token Secret exists: %v", err)
	}

	// Status while the pods start, then once they are available.
	got := s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, `Deployment "acme-webhook"`, status.InProgressStatus})
	if got.Status.WebhookURL != "https://m.acme.example/hooks/acme" || got.Status.VerifyTokenSecret != "creds" ||
		got.Status.Policy == nil || got.Status.Policy.Name != "support" || got.Status.Policy.Generation != 1 {
		t.Errorf("status %+v", got.Status)
	}
	s.setAvailable(t, p)
	got = s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "1 of 1 replicas available", status.CurrentStatus})
	if got.Status.ReadyReplicas != 1 {
		t.Errorf("readyReplicas %d", got.Status.ReadyReplicas)
	}
	if c := condition(got, messengerv1alpha1.ConditionIngressTLS); c == nil || c.Status != metav1.ConditionTrue || c.Reason != messengerv1alpha1.ReasonTLSConfigured {
		t.Errorf("IngressTLS %+v", c)
	}
	if c := condition(got, messengerv1alpha1.ConditionSharedApp); c != nil {
		t.Errorf("SharedApp on a page alone on its app: %+v", c)
	}
	s.waitEvent(t, p, corev1.EventTypeNormal, messengerv1alpha1.ReasonAvailable)
}

// An edit of a field the operator owns is reverted, a deleted object comes back.
func testDrift(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "drift", nil)
	d := s.deployment(t, p)
	s.modify(t, d, func() {
		d.Spec.Template.Spec.Containers[0].Image = "evil:latest"
		d.Spec.Replicas = ptr.To[int32](0)
		d.Spec.Template.Spec.SecurityContext.RunAsNonRoot = ptr.To(false)
	})
	s.eventually(t, "the Deployment restored", func() (bool, string) {
		got := &appsv1.Deployment{}
		if err := s.c.Get(s.ctx, key(d), got); err != nil {
			return false, err.Error()
		}
		c := got.Spec.Template.Spec.Containers[0]
		return c.Image == testImage && *got.Spec.Replicas == 1 && *got.Spec.Template.Spec.SecurityContext.RunAsNonRoot,
			fmt.Sprintf("image %s replicas %d", c.Image, *got.Spec.Replicas)
	})

	svc := &corev1.Service{}
	s.must(t, s.c.Get(s.ctx, webhookKey(p), svc))
	s.must(t, s.c.Delete(s.ctx, svc))
	s.eventually(t, "the Service recreated", func() (bool, string) {
		got := &corev1.Service{}
		if err := s.c.Get(s.ctx, webhookKey(p), got); err != nil {
			return false, err.Error()
		}
		return got.UID != svc.UID && got.Spec.Ports[0].Port == 80, string(got.UID)
	})

	// A Role widened by hand is narrowed again; one whose label was removed (so the cache no
	// longer holds it) too.
	role := &rbacv1.Role{}
	s.must(t, s.c.Get(s.ctx, webhookKey(p), role))
	s.modify(t, role, func() {
		role.Rules[3].ResourceNames = nil // every Secret of the namespace
		delete(role.Labels, specs.LabelManaged)
	})
	s.eventually(t, "the Role restored", func() (bool, string) {
		got := &rbacv1.Role{}
		if err := s.c.Get(s.ctx, webhookKey(p), got); err != nil {
			return false, err.Error()
		}
		return slices.Equal(secretNames(got), []string{"creds"}) && got.Labels[specs.LabelManaged] == "true", fmt.Sprint(got.Rules)
	})
}

// secretNames are the Secrets a Role grants.
func secretNames(r *rbacv1.Role) []string {
	for _, rule := range r.Rules {
		if slices.Contains(rule.Resources, "secrets") {
			return rule.ResourceNames
		}
	}
	return nil
}
