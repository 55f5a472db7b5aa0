package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// maxNamedPeers bounds the pages named in a SharedApp message.
const maxNamedPeers = 10

// peers looks at the other MessengerPages of the cluster. A page claiming a pageID that an older
// page already claims is in conflict (claimConflict): Meta delivers a Page's events to one
// callback, so only the oldest page is served. Standalone pages of the same Meta app are allowed,
// but the app keeps one callback URL: sharedWith names them.
func (r *MessengerPageReconciler) peers(ctx context.Context, page *messengerv1alpha1.MessengerPage) (conflict string, sharedWith []string, err error) {
	var same messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &same, client.MatchingFields{IndexPageID: page.Spec.PageID}); err != nil {
		return "", nil, err
	}
	others := make([]*messengerv1alpha1.MessengerPage, 0, len(same.Items))
	for i := range same.Items {
		others = append(others, &same.Items[i])
	}
	if c := claimConflict(r.ClaimBindings, page, others, "pageID", page.Spec.PageID, "MessengerPage"); c != "" {
		return c, nil, nil
	}
	if page.Spec.AppRef != nil {
		return "", nil, nil
	}

	var app messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &app, client.MatchingFields{IndexAppID: page.Spec.AppID}); err != nil {
		return "", nil, err
	}
	for i := range app.Items {
		p := &app.Items[i]
		if isSelf(p, page) || !p.DeletionTimestamp.IsZero() || p.Spec.PageID == page.Spec.PageID {
			continue
		}
		sharedWith = append(sharedWith, p.Namespace+"/"+p.Name)
	}
	slices.Sort(sharedWith)
	return "", sharedWith, nil
}

func sharedAppMessage(appID string, peers []string) string {
	named := peers
	more := ""
	if len(named) > maxNamedPeers {
		named = named[:maxNamedPeers]
		more = fmt.Sprintf(" and %d more", len(peers)-maxNamedPeers)
	}
	return fmt.Sprintf("Meta app %q is also used by MessengerPage %s%s. Meta keeps one callback URL per app and each webhook serves only its own page's entries: only the page whose webhook URL is the app's callback receives events",
		appID, strings.Join(named, ", "), more)
}
