package specs

import (
	"encoding/hex"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func ingressSpec(host, path string) *v1alpha1.IngressSpec {
	return &v1alpha1.IngressSpec{Host: host, Path: path}
}

func TestService(t *testing.T) {
	s := typed[corev1.Service](t, Service(Webhook{Page: testPage()}))
	if s.Name != "acme-webhook" || len(s.Spec.Ports) != 2 {
		t.Fatalf("service: %+v", s)
	}
	p := s.Spec.Ports[0]
	if p.Port != 80 || p.TargetPort.String() != "http" || p.Name != "http" {
		t.Fatalf("port: %+v", p)
	}
	// The metrics are reachable by Service too (a ServiceMonitor, or a scrape by hand).
	if m := s.Spec.Ports[1]; m.Name != "metrics" || m.Port != 8081 || m.TargetPort.String() != "probes" {
		t.Fatalf("metrics port: %+v", m)
	}
	if s.Spec.Selector[LabelInstance] != "acme" || s.Spec.Selector[LabelName] != AppName || len(s.Spec.Selector) != 2 {
		t.Fatalf("selector: %v", s.Spec.Selector)
	}
}

func TestIngress(t *testing.T) {
	p := testPage()
	if Ingress(Webhook{Page: p}) != nil {
		t.Fatal("an Ingress without spec.ingress")
	}
	class := "nginx"
	p.Spec.Ingress = &v1alpha1.IngressSpec{
		Host: "m.acme.example", Path: "/hooks/acme", ClassName: &class,
		TLS:         &v1alpha1.IngressTLS{SecretName: "acme-tls", Issuer: &v1alpha1.IssuerReference{Name: "le", Kind: "ClusterIssuer"}},
		Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "1m", IssuerAnnotation: "stale"},
	}
	i := typed[networkingv1.Ingress](t, Ingress(Webhook{Page: p}))
	if *i.Spec.IngressClassName != "nginx" || len(i.Spec.Rules) != 1 || i.Spec.Rules[0].Host != "m.acme.example" {
		t.Fatalf("ingress: %+v", i.Spec)
	}
	path := i.Spec.Rules[0].HTTP.Paths[0]
	if path.Path != "/hooks/acme" || path.Backend.Service.Name != "acme-webhook" || path.Backend.Service.Port.Name != "http" {
		t.Fatalf("path: %+v", path)
	}
	if len(i.Spec.TLS) != 1 || i.Spec.TLS[0].SecretName != "acme-tls" || !slices.Equal(i.Spec.TLS[0].Hosts, []string{"m.acme.example"}) {
		t.Fatalf("tls: %+v", i.Spec.TLS)
	}
	if i.Annotations[ClusterIssuerAnnotation] != "le" || i.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "1m" {
		t.Fatalf("annotations: %v", i.Annotations)
	}
	if _, ok := i.Annotations[IssuerAnnotation]; ok {
		t.Fatal("a hand-written issuer annotation contradicts spec.ingress.tls.issuer")
	}
	p.Spec.Ingress.TLS.Issuer.Kind = "Issuer"
	i = typed[networkingv1.Ingress](t, Ingress(Webhook{Page: p}))
	if i.Annotations[IssuerAnnotation] != "le" || i.Annotations[ClusterIssuerAnnotation] != "" {
		t.Fatalf("namespaced issuer: %v", i.Annotations)
	}
	p.Spec.Ingress.TLS = nil
	i = typed[networkingv1.Ingress](t, Ingress(Webhook{Page: p}))
	if len(i.Spec.TLS) != 0 {
		t.Fatal("TLS without spec.ingress.tls")
	}
}

func TestRoleIsNarrow(t *testing.T) {
	r := typed[rbacv1.Role](t, Role(Webhook{Page: testPage()}, "creds", "acme-verify-token", "creds"))
	for _, rule := range r.Rules {
		for _, v := range rule.Verbs {
			if v == "*" || v == "delete" || v == "update" || v == "deletecollection" || v == "escalate" || v == "bind" {
				t.Fatalf("verb %q in %+v", v, rule)
			}
		}
		if slices.Contains(rule.Resources, "*") || slices.Contains(rule.APIGroups, "*") {
			t.Fatalf("wildcard in %+v", rule)
		}
		if !slices.Contains(rule.Resources, "events") && len(rule.ResourceNames) == 0 {
			t.Fatalf("rule without resourceNames: %+v", rule)
		}
		if slices.Contains(rule.Resources, "secrets") && !slices.Equal(rule.ResourceNames, []string{"acme-verify-token", "creds"}) {
			t.Fatalf("secrets: %v", rule.ResourceNames)
		}
		if slices.Contains(rule.Resources, "handoverpolicies") && !slices.Equal(rule.ResourceNames, []string{"support"}) {
			t.Fatalf("policies: %v", rule.ResourceNames)
		}
	}
	b := typed[rbacv1.RoleBinding](t, RoleBinding(Webhook{Page: testPage()}))
	if b.RoleRef.Name != "acme-webhook" || b.RoleRef.Kind != "Role" || len(b.Subjects) != 1 ||
		b.Subjects[0].Kind != "ServiceAccount" || b.Subjects[0].Name != "acme-webhook" || b.Subjects[0].Namespace != "shop" {
		t.Fatalf("binding: %+v", b)
	}
}

func TestVerifyToken(t *testing.T) {
	a, err := NewVerifyToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewVerifyToken()
	raw, err := hex.DecodeString(string(a))
	if err != nil || len(raw)*8 < 128 {
		t.Fatalf("token of %d bits: %v", len(raw)*8, err)
	}
	if string(a) == string(b) {
		t.Fatal("two tokens are equal")
	}
	s := typed[corev1.Secret](t, VerifyTokenSecret(Webhook{Page: testPage()}, a))
	if s.Name != "acme-verify-token" || string(s.Data[v1alpha1.GeneratedVerifyTokenKey]) != string(a) || s.Labels[LabelManaged] != "true" {
		t.Fatalf("secret: %s %v", s.Name, s.Labels)
	}
}
