package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// reconcileOptional applies the webhook's objects that only some specs ask for, or deletes the
// ones the owner made once they are no longer wanted: the PodDisruptionBudget (a Redis store and
// two replicas or more) and the NetworkPolicy (spec.webhook.networkPolicy).
func (r ownedObjects) reconcileOptional(ctx context.Context, owner client.Object, w specs.Webhook) error {
	if pdb := specs.PodDisruptionBudget(w); pdb != nil {
		if err := r.ensure(ctx, owner, "PodDisruptionBudget", pdb, &policyv1.PodDisruptionBudget{}); err != nil {
			return err
		}
	} else if err := r.deleteOwned(ctx, owner, "PodDisruptionBudget", w.Name(), &policyv1.PodDisruptionBudget{}); err != nil {
		return err
	}
	if np := specs.NetworkPolicy(w); np != nil {
		return r.ensure(ctx, owner, "NetworkPolicy", np, &networkingv1.NetworkPolicy{})
	}
	return r.deleteOwned(ctx, owner, "NetworkPolicy", w.Name(), &networkingv1.NetworkPolicy{})
}
