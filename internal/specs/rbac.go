package specs

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ServiceAccount is the identity of the webhook's pods.
func ServiceAccount(w Webhook) *corev1ac.ServiceAccountApplyConfiguration {
	sa := corev1ac.ServiceAccount(w.Name(), w.Namespace())
	w.meta(sa.ObjectMetaApplyConfiguration)
	stamp(sa, sa.ObjectMetaApplyConfiguration)
	return sa
}

var readVerbs = []string{"get", "list", "watch"}

// Role grants a standalone page's webhook the least it needs, all by name: read its own Role,
// its page, its policy and its Secrets (the webhook's informers are field-selected on metadata.name, which
// resourceNames allow for list and watch), patch its page's status (GraphAuthorized,
// HandoverPermitted), and write events. secrets are the Secrets it reads: the user's, and the
// generated one when in use. Nothing outside the namespace; the manager's ClusterRole holds every
// one of these verbs, as RBAC escalation prevention requires.
func Role(w Webhook, secrets ...string) *rbacv1ac.RoleApplyConfiguration {
	page := w.Page
	return w.role(
		crdRule("messengerpages", readVerbs, page.Name),
		crdRule("messengerpages/status", []string{"patch"}, page.Name),
		crdRule("handoverpolicies", readVerbs, page.Spec.PolicyRef.Name),
		secretsRule(secrets),
		ownRole(w),
	)
}

// AppRole grants an app's webhook: its own Role and its MessengerApp by name, and a patch of its status (the
// verify token it has loaded); list and watch of the namespace's
// pages (the pods select theirs by spec.appRef.name, which resourceNames cannot express) and
// their policies; the status of pages, the app's pages only (Served, GraphAuthorized,
// HandoverPermitted); and by name the Secrets it reads: secrets, the app's Secret, the generated
// verify token Secret when in use and each page's Secret. pages and secrets follow pages joining
// and leaving, so the pods of one app never read another app's or page's Secrets.
func AppRole(w Webhook, pages []string, secrets ...string) *rbacv1ac.RoleApplyConfiguration {
	rules := []*rbacv1ac.PolicyRuleApplyConfiguration{
		crdRule("messengerapps", readVerbs, w.App.Name),
		crdRule("messengerapps/status", []string{"patch"}, w.App.Name),
		crdRule("messengerpages", []string{"list", "watch"}),
		crdRule("handoverpolicies", readVerbs),
	}
	if len(pages) > 0 {
		// No resourceNames would mean every page: the rule waits for the app's first page.
		rules = append(rules, crdRule("messengerpages/status", []string{"patch"}, sortedSet(pages)...))
	}
	return w.role(append(rules, secretsRule(secrets), ownRole(w))...)
}

// role is the Role of the webhook with rules, plus the events it writes.
func (w Webhook) role(rules ...*rbacv1ac.PolicyRuleApplyConfiguration) *rbacv1ac.RoleApplyConfiguration {
	r := rbacv1ac.Role(w.Name(), w.Namespace())
	w.meta(r.ObjectMetaApplyConfiguration)
	r.WithRules(rules...)
	r.WithRules(rbacv1ac.PolicyRule().WithAPIGroups("", "events.k8s.io").WithResources("events").
		WithVerbs("create", "patch"))
	stamp(r, r.ObjectMetaApplyConfiguration)
	return r
}

// crdRule grants verbs on a resource of the API group, on names only when some are given.
func crdRule(resource string, verbs []string, names ...string) *rbacv1ac.PolicyRuleApplyConfiguration {
	rule := rbacv1ac.PolicyRule().WithAPIGroups(v1alpha1.GroupVersion.Group).WithResources(resource).WithVerbs(verbs...)
	if len(names) > 0 {
		rule.WithResourceNames(names...)
	}
	return rule
}

// ownRole lets the webhook read its own Role: it watches a Secret once the Role grants it
// (--role), rather than have a refused watch retried on a backoff.
func ownRole(w Webhook) *rbacv1ac.PolicyRuleApplyConfiguration {
	return rbacv1ac.PolicyRule().WithAPIGroups(rbacv1.GroupName).WithResources("roles").
		WithVerbs(readVerbs...).WithResourceNames(w.Name())
}

func secretsRule(secrets []string) *rbacv1ac.PolicyRuleApplyConfiguration {
	return rbacv1ac.PolicyRule().WithAPIGroups("").WithResources("secrets").
		WithVerbs(readVerbs...).WithResourceNames(sortedSet(secrets)...)
}

func sortedSet(names []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(names)))
}

// RoleBinding binds the Role to the ServiceAccount.
func RoleBinding(w Webhook) *rbacv1ac.RoleBindingApplyConfiguration {
	name := w.Name()
	b := rbacv1ac.RoleBinding(name, w.Namespace())
	w.meta(b.ObjectMetaApplyConfiguration)
	b.WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(name)).
		WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(name).WithNamespace(w.Namespace()))
	stamp(b, b.ObjectMetaApplyConfiguration)
	return b
}
