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
// page (creationTimestamp, then namespace/name) already claims is in conflict: Meta delivers a
// Page's events to one callback, so only the oldest page is served. Pages of the same Meta app
// are allowed, but the app keeps one callback URL: sharedWith names them.
func (r *MessengerPageReconciler) peers(ctx context.Context, page *messengerv1alpha1.MessengerPage) (conflict string, sharedWith []string, err error) {
	var same messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &same, client.MatchingFields{IndexPageID: page.Spec.PageID}); err != nil {
		return "", nil, err
	}
	var first *messengerv1alpha1.MessengerPage
	for i := range same.Items {
		p := &same.Items[i]
		if isSelf(p, page) || !p.DeletionTimestamp.IsZero() || !older(p, page) {
			continue
		}
		if first == nil || older(p, first) {
			first = p
		}
	}
	if first != nil {
		return fmt.Sprintf("pageID %q is already served by MessengerPage %s/%s, created earlier; delete one of the two pages",
			page.Spec.PageID, first.Namespace, first.Name), nil, nil
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

func isSelf(a, b *messengerv1alpha1.MessengerPage) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name
}

// older orders pages by creation, then by namespace and name, so that exactly one page of a
// pageID wins even when two were created in the same second.
func older(a, b *messengerv1alpha1.MessengerPage) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
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
