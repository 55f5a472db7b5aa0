package controllers_test

import (
	"fmt"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The webhook's ServiceAccount may do what the webhook needs, by name, and nothing else (envtest
// runs the RBAC authorizer; SubjectAccessReview asks it).
func testWebhookRBAC(t *testing.T, s *pageSuite) {
	// Two pages in one namespace, one without a verify token (generated Secret), and a third
	// namespace with a page of the same name.
	ns := s.namespace(t, "rbac")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret")
	s.secret(t, ns, "other-creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	s.policy(t, ns, "other-policy")
	p := newPage(ns, "acme", "7000", "7001")
	s.must(t, s.c.Create(s.ctx, p))
	other := newPage(ns, "other", "7002", "7003")
	other.Spec.SecretRef.Name = "other-creds"
	other.Spec.PolicyRef.Name = "other-policy"
	s.must(t, s.c.Create(s.ctx, other))
	elsewhere := s.namespace(t, "rbac")
	s.eventually(t, "the generated Secret", func() (bool, string) {
		err := s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "acme-verify-token"}, &corev1.Secret{})
		return err == nil, fmt.Sprint(err)
	})
	s.deployment(t, p)
	s.deployment(t, other)

	const group = "messenger.handover.dev"
	sa := "system:serviceaccount:" + ns + ":acme-webhook"
	type check struct {
		ns, verb, group, resource, sub, name string
		allowed                              bool
	}
	checks := []check{
		// Its own page: read, and patch its status.
		{ns, "get", group, "messengerpages", "", "acme", true},
		{ns, "list", group, "messengerpages", "", "acme", true},
		{ns, "watch", group, "messengerpages", "", "acme", true},
		{ns, "patch", group, "messengerpages", "status", "acme", true},
		// ...but not change its spec, nor delete it.
		{ns, "update", group, "messengerpages", "", "acme", false},
		{ns, "patch", group, "messengerpages", "", "acme", false},
		{ns, "delete", group, "messengerpages", "", "acme", false},
		// Its Secrets, by name: the user's and the generated one.
		{ns, "get", "", "secrets", "", "creds", true},
		{ns, "list", "", "secrets", "", "creds", true},
		{ns, "watch", "", "secrets", "", "creds", true},
		{ns, "get", "", "secrets", "", "acme-verify-token", true},
		{ns, "watch", "", "secrets", "", "acme-verify-token", true},
		{ns, "update", "", "secrets", "", "creds", false},
		// Its policy.
		{ns, "get", group, "handoverpolicies", "", "support", true},
		{ns, "list", group, "handoverpolicies", "", "support", true},
		{ns, "watch", group, "handoverpolicies", "", "support", true},
		{ns, "update", group, "handoverpolicies", "", "support", false},
		// Events.
		{ns, "create", "", "events", "", "", true},
		{ns, "create", "events.k8s.io", "events", "", "", true},
		// Not another page, its Secret or its policy; not every Secret.
		{ns, "get", group, "messengerpages", "", "other", false},
		{ns, "patch", group, "messengerpages", "status", "other", false},
		{ns, "get", "", "secrets", "", "other-creds", false},
		{ns, "list", "", "secrets", "", "", false},
		{ns, "watch", "", "secrets", "", "", false},
		{ns, "get", group, "handoverpolicies", "", "other-policy", false},
		{ns, "list", group, "messengerpages", "", "", false},
		// Nothing in another namespace, nothing cluster-wide.
		{elsewhere, "get", group, "messengerpages", "", "acme", false},
		{elsewhere, "get", "", "secrets", "", "creds", false},
		{elsewhere, "list", group, "handoverpolicies", "", "support", false},
		{elsewhere, "create", "", "events", "", "", false},
		{"", "list", group, "messengerpages", "", "", false},
		{"", "list", "", "secrets", "", "", false},
		// Nothing else in its own namespace.
		{ns, "get", "", "pods", "", "", false},
		{ns, "get", "", "configmaps", "", "", false},
		{ns, "create", "", "secrets", "", "", false},
	}
	for _, c := range checks {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.ns, Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.sub, Name: c.name,
			},
		}}
		s.must(t, s.c.Create(s.ctx, sar))
		if sar.Status.Allowed != c.allowed {
			t.Errorf("%s %s %s/%s %q in %q: allowed=%v, want %v (%s)", sa, c.verb, c.resource, c.sub, c.name, c.ns, sar.Status.Allowed, c.allowed, sar.Status.Reason)
		}
	}

	// The Role follows the page: once the user's Secret has a token, the generated one is
	// neither used nor granted.
	sec := &corev1.Secret{}
	s.must(t, s.c.Get(s.ctx, types.NamespacedName{Namespace: ns, Name: "creds"}, sec))
	s.modify(t, sec, func() { sec.Data["verifyToken"] = []byte("mine") })
	s.eventually(t, "the generated Secret no longer granted", func() (bool, string) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: sa, ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: "acme-verify-token"},
		}}
		s.must(t, s.c.Create(s.ctx, sar))
		return !sar.Status.Allowed, sar.Status.Reason
	})
}
