package controllers_test

import (
	"encoding/hex"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// Every page gets an audit key generated once into a Secret the operator owns, kept through new
// generations and reconciles (the users' names in the audit stay the same), made again when
// its key is removed, and given to the webhook by secretKeyRef.
func testAuditKey(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "audit")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	p := newPage(ns, "acme", "2100", "2101")
	s.must(t, s.c.Create(s.ctx, p))
	k := types.NamespacedName{Namespace: ns, Name: "acme-audit-key"}
	read := func() string {
		sec := &corev1.Secret{}
		s.eventually(t, "the audit key's Secret", func() (bool, string) {
			err := s.c.Get(s.ctx, k, sec)
			return err == nil && len(sec.Data[messengerv1alpha1.GeneratedAuditKeyKey]) > 0, fmt.Sprint(err)
		})
		if !metav1.IsControlledBy(sec, s.get(t, p)) || sec.Labels[specs.LabelManaged] != "true" {
			t.Fatalf("the audit key's Secret is not the page's: %+v %v", sec.OwnerReferences, sec.Labels)
		}
		return string(sec.Data[messengerv1alpha1.GeneratedAuditKeyKey])
	}
	auditKey := read()
	if raw, err := hex.DecodeString(auditKey); err != nil || len(raw)*8 < 256 {
		t.Fatalf("audit key of %d bits (%v)", len(raw)*8, err)
	}
	d := s.deployment(t, p)
	var ref *corev1.SecretKeySelector
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "AUDIT_KEY" && e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
	}
	if ref == nil || ref.Name != k.Name || ref.Key != messengerv1alpha1.GeneratedAuditKeyKey {
		t.Fatalf("AUDIT_KEY of the Deployment: %+v", ref)
	}
	page := s.get(t, p)
	for i := range 2 {
		s.modify(t, page, func() { page.Spec.BusinessName = fmt.Sprintf("ACME %d", i) })
		if _, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: key(p)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(); got != auditKey {
		t.Fatal("the audit key changed on a reconcile")
	}
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, k, sec))
	s.modify(t, sec, func() { delete(sec.Data, messengerv1alpha1.GeneratedAuditKeyKey) })
	if _, err := s.r.Reconcile(s.ctx, ctrl.Request{NamespacedName: key(p)}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got == auditKey {
		t.Fatal("a removed audit key came back the same")
	}
}
