package specs

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ServiceAccount is the identity of the page's webhook pods.
func ServiceAccount(w Webhook) *corev1ac.ServiceAccountApplyConfiguration {
	page := w.Page
	sa := corev1ac.ServiceAccount(WebhookName(page.Name), page.Namespace)
	objectMeta(sa.ObjectMetaApplyConfiguration, page)
	stamp(sa, sa.ObjectMetaApplyConfiguration)
	return sa
}

// Role grants the webhook the least it needs, all by name: read its page, its policy and its
// Secrets (the webhook's informers are field-selected on metadata.name, which resourceNames
// allow for list and watch), patch its page's status (GraphAuthorized, HandoverPermitted), and
// write events. secrets are the Secrets it reads: the user's, and the generated one when in use.
// Nothing outside the namespace; the manager's ClusterRole holds every one of these verbs, as
// RBAC escalation prevention requires.
func Role(w Webhook, secrets ...string) *rbacv1ac.RoleApplyConfiguration {
	page := w.Page
	group := v1alpha1.GroupVersion.Group
	read := []string{"get", "list", "watch"}
	names := slices.Compact(slices.Sorted(slices.Values(secrets)))
	r := rbacv1ac.Role(WebhookName(page.Name), page.Namespace)
	objectMeta(r.ObjectMetaApplyConfiguration, page)
	r.WithRules(
		rbacv1ac.PolicyRule().WithAPIGroups(group).WithResources("messengerpages").
			WithVerbs(read...).WithResourceNames(page.Name),
		rbacv1ac.PolicyRule().WithAPIGroups(group).WithResources("messengerpages/status").
			WithVerbs("patch").WithResourceNames(page.Name),
		rbacv1ac.PolicyRule().WithAPIGroups(group).WithResources("handoverpolicies").
			WithVerbs(read...).WithResourceNames(page.Spec.PolicyRef.Name),
		rbacv1ac.PolicyRule().WithAPIGroups("").WithResources("secrets").
			WithVerbs(read...).WithResourceNames(names...),
		rbacv1ac.PolicyRule().WithAPIGroups("", "events.k8s.io").WithResources("events").
			WithVerbs("create", "patch"),
	)
	stamp(r, r.ObjectMetaApplyConfiguration)
	return r
}

// RoleBinding binds the Role to the ServiceAccount.
func RoleBinding(w Webhook) *rbacv1ac.RoleBindingApplyConfiguration {
	page := w.Page
	name := WebhookName(page.Name)
	b := rbacv1ac.RoleBinding(name, page.Namespace)
	objectMeta(b.ObjectMetaApplyConfiguration, page)
	b.WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(name)).
		WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(name).WithNamespace(page.Namespace))
	stamp(b, b.ObjectMetaApplyConfiguration)
	return b
}
