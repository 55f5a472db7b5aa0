package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// graphHostRefusal is why baseURL may not be used: its host is not among allowed (Meta's host
// when the list is empty); "" when it may. A refused page or app is Stalled and nothing is
// applied or called for it, so its tokens go nowhere but to an allowed host.
func graphHostRefusal(baseURL string, allowed []string) string {
	return messengerv1alpha1.GraphAPIHostRefusal("spec.graphAPI.baseURL", baseURL, graphHosts(allowed))
}

// graphHosts is the admin's list, Meta's host when empty. The webhooks get it too
// (specs.Webhook.GraphAPIHosts): their pods read the page live, and refuse an edit to another
// host before the operator deletes them.
func graphHosts(allowed []string) []string {
	if len(allowed) == 0 {
		return []string{messengerv1alpha1.DefaultGraphAPIHost}
	}
	return allowed
}

// stopRefusedWebhook deletes the Deployment of a webhook whose owner's Graph API host was just
// refused: its pods read the owner's spec live and would send its tokens to the new host. The
// other objects stay, so that moving back to an allowed host only brings the pods back.
func stopRefusedWebhook(ctx context.Context, o ownedObjects, owner client.Object, name string) error {
	return o.deleteOwned(ctx, owner, "Deployment", name, &appsv1.Deployment{})
}
