package controllers

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// claimConflict says why obj may not serve an id (a pageID or an appID) that others claim too,
// or "" when obj keeps it: the oldest claim (creationTimestamp, then namespace/name) wins, and
// every newer one is in conflict. A claim lost to an object of the same namespace names it; one
// lost to another namespace does not (tenants must not learn each other's objects). what names
// the id ("pageID"), kind the kind of the claimants.
func claimConflict[T client.Object](obj T, others []T, what, id, kind string) string {
	var sameNS, otherNS bool
	var first T
	for _, o := range others {
		if isSelf(o, obj) || !o.GetDeletionTimestamp().IsZero() || !older(o, obj) {
			continue
		}
		if o.GetNamespace() == obj.GetNamespace() {
			if !sameNS || older(o, first) {
				first = o
			}
			sameNS = true
		} else {
			otherNS = true
		}
	}
	switch {
	case sameNS:
		return fmt.Sprintf("%s %q is already claimed by %s %q, created earlier in this namespace; delete one of the two", what, id, kind, first.GetName())
	case otherNS:
		return fmt.Sprintf("%s %q is already claimed by a %s in another namespace, created earlier; the oldest claim is served: ask the cluster admin", what, id, kind)
	}
	return ""
}

// appClaim is the conflict of an app whose appID another MessengerApp claims.
func (r *MessengerAppReconciler) appClaim(ctx context.Context, app *messengerv1alpha1.MessengerApp) (string, error) {
	var same messengerv1alpha1.MessengerAppList
	if err := r.List(ctx, &same, client.MatchingFields{IndexAppID: app.Spec.AppID}); err != nil {
		return "", err
	}
	others := make([]*messengerv1alpha1.MessengerApp, 0, len(same.Items))
	for i := range same.Items {
		others = append(others, &same.Items[i])
	}
	return claimConflict(app, others, "appID", app.Spec.AppID, "MessengerApp"), nil
}

func isSelf(a, b client.Object) bool {
	return a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName()
}

// older orders claims by creation, then by namespace and name, so that exactly one wins even
// when two were created in the same second.
func older(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp().Time, b.GetCreationTimestamp().Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}
