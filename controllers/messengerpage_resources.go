package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// ensureRBAC grants the webhook its page, its policy and the Secrets it reads: the Role follows
// edits of secretRef and policyRef, and whether the generated verify token is in use.
func (r *MessengerPageReconciler) ensureRBAC(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook, obs *observation) error {
	secrets := []string{page.Spec.SecretRef.Name}
	if obs.verifyTokenSecret != "" {
		secrets = append(secrets, obs.verifyTokenSecret)
	}
	if err := r.objects().ensure(ctx, page, "Role", specs.Role(w, secrets...), &rbacv1.Role{}); err != nil {
		return err
	}
	return r.objects().ensure(ctx, page, "RoleBinding", specs.RoleBinding(w), &rbacv1.RoleBinding{})
}

func (r *MessengerPageReconciler) ensureDeployment(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook, obs *observation) error {
	d := &appsv1.Deployment{}
	if err := r.objects().ensure(ctx, page, "Deployment", specs.Deployment(w), d); err != nil {
		return err
	}
	obs.deployment = d
	obs.replicas = w.Replicas()
	return nil
}

// reconcileIngress applies the Ingress of spec.ingress, or deletes the one the operator made
// when spec.ingress was removed.
func (r *MessengerPageReconciler) reconcileIngress(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook) error {
	desired := specs.Ingress(w)
	if desired == nil {
		return r.objects().deleteOwned(ctx, page, "Ingress", specs.WebhookName(page.Name), &networkingv1.Ingress{})
	}
	return r.objects().ensure(ctx, page, "Ingress", desired, &networkingv1.Ingress{})
}
