package specs

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Every webhook gets the audit key of its owner in AUDIT_KEY, read by the kubelet from the
// generated Secret: the Role does not name that Secret. A page's and an app's Secrets never share
// a name.
func TestAuditKeyReachesThePodsThroughTheKubelet(t *testing.T) {
	page := testPage()
	for _, w := range []Webhook{{Page: page, DefaultImage: "op:1"}, {App: &v1alpha1.MessengerApp{}, DefaultImage: "op:1"}} {
		if w.App != nil {
			w.App.Name, w.App.Namespace = page.Name, page.Namespace
		}
		d := typed[appsv1.Deployment](t, Deployment(w))
		var env *corev1.EnvVar
		for i, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "AUDIT_KEY" {
				env = &d.Spec.Template.Spec.Containers[0].Env[i]
			}
		}
		if env == nil || env.Value != "" || env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil ||
			env.ValueFrom.SecretKeyRef.Name != w.AuditKeySecretName() || env.ValueFrom.SecretKeyRef.Key != "auditKey" {
			t.Fatalf("AUDIT_KEY: %+v", env)
		}
		s := typed[corev1.Secret](t, AuditKeySecret(w, []byte("k")))
		if s.Name != w.AuditKeySecretName() || string(s.Data["auditKey"]) != "k" || s.Namespace != page.Namespace {
			t.Fatalf("Secret %s/%s %v", s.Namespace, s.Name, s.Data)
		}
		if w.Page != nil && slices.ContainsFunc(typed[rbacv1.Role](t, Role(w, "creds")).Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.ResourceNames, w.AuditKeySecretName())
		}) {
			t.Fatal("the Role grants the audit key's Secret")
		}
	}
	if AuditKeySecretName("acme") == AppAuditKeySecretName("acme") || AuditKeySecretName("acme") != "acme-audit-key" {
		t.Fatalf("names: %s %s", AuditKeySecretName("acme"), AppAuditKeySecretName("acme"))
	}
	long := "a"
	for len(long) < 253 {
		long += "a"
	}
	if n := AuditKeySecretName(long); len(n) > 253 {
		t.Fatalf("%d characters", len(n))
	}
	a, b := NewAuditKey()
	if b != nil || len(a) != 64 {
		t.Fatalf("NewAuditKey: %q %v", a, b)
	}
}
