package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// reconcileNetworkPolicy applies the NetworkPolicy of spec.webhook.networkPolicy, or deletes the
// one the owner made when it is no longer enabled.
func (o ownedObjects) reconcileNetworkPolicy(ctx context.Context, owner client.Object, w specs.Webhook) error {
	if np := specs.NetworkPolicy(w); np != nil {
		return o.ensure(ctx, owner, "NetworkPolicy", np, &networkingv1.NetworkPolicy{})
	}
	return o.deleteOwned(ctx, owner, "NetworkPolicy", w.Name(), &networkingv1.NetworkPolicy{})
}
