package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ClaimBindings is the cluster admin's setting of who may claim a pageID or an appID: each id
// bound here may be claimed only from the namespaces listed; an id not bound goes to its oldest
// claim. It is the manager's --claim-bindings flag.
type ClaimBindings map[string][]string

// ParseClaimBindings reads "ID=ns1;ns2,ID2=ns3": ids of digits, namespaces separated by ";".
func ParseClaimBindings(s string) (ClaimBindings, error) {
	out := ClaimBindings{}
	for _, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		id, list, ok := strings.Cut(entry, "=")
		id = strings.TrimSpace(id)
		if !ok || !isDigits(id) {
			return nil, fmt.Errorf("claim binding %q: want ID=namespace;namespace, the ID a pageID or appID", entry)
		}
		for _, ns := range strings.Split(list, ";") {
			ns = strings.TrimSpace(ns)
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return nil, fmt.Errorf("claim binding %q: namespace %q: %s", entry, ns, strings.Join(errs, "; "))
			}
			out[id] = append(out[id], ns)
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// admits says whether namespace ns may claim id.
func (b ClaimBindings) admits(id, ns string) bool {
	list, bound := b[id]
	return !bound || slices.Contains(list, ns)
}

// claimConflict says why obj may not serve an id (a pageID or an appID) that others claim too,
// or "" when obj keeps it. A binding of the id (ClaimBindings) decides first: a namespace it does
// not list is refused, and claims from such namespaces never block. Then the oldest admitted
// claim (creationTimestamp, then namespace/name) wins, and every newer one is in conflict. A
// claim lost to an object of the same namespace names it; one lost to another namespace does not
// (tenants must not learn each other's objects). what names the id ("pageID"), kind the kind of
// the claimants.
func claimConflict[T client.Object](b ClaimBindings, obj T, others []T, what, id, kind string) string {
	if !b.admits(id, obj.GetNamespace()) {
		return fmt.Sprintf("%s %q is bound by the cluster admin (the manager's --claim-bindings) to other namespaces: this namespace may not claim it", what, id)
	}
	var sameNS, otherNS bool
	var first T
	for _, o := range others {
		if isSelf(o, obj) || !o.GetDeletionTimestamp().IsZero() || !older(o, obj) || !b.admits(id, o.GetNamespace()) {
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
		return fmt.Sprintf("%s %q is already claimed by a %s in another namespace, created earlier; the oldest claim is served unless the cluster admin binds the id (--claim-bindings)", what, id, kind)
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
	return claimConflict(r.ClaimBindings, app, others, "appID", app.Spec.AppID, "MessengerApp"), nil
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
