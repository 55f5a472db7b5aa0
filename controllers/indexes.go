// Package controllers holds the operator's reconcilers: MessengerPage (everything a page's webhook
// needs), MessengerApp (the webhook of an app's pages) and HandoverPolicy (validity and usage).
// None runs handover logic.
package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Field indexes on MessengerPage and MessengerApp, so a change to a Secret, a HandoverPolicy or an
// app reaches every page that uses it, and conflicts on pageID and appID are found without
// listing everything.
const (
	IndexPolicyRef = ".spec.policyRef.name"
	IndexSecretRef = ".spec.secretRef.name"
	IndexPageID    = ".spec.pageID"
	IndexAppID     = ".spec.appID"
	IndexAppRef    = ".spec.appRef.name"
)

// SetupIndexes registers the field indexes; call it once before the controllers start.
// IndexSecretRef holds every Secret the owner's reconcile reads: spec.secretRef and the Redis
// store's URL Secret.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	pages := map[string]func(*messengerv1alpha1.MessengerPage) []string{
		IndexPolicyRef: func(p *messengerv1alpha1.MessengerPage) []string { return one(p.Spec.PolicyRef.Name) },
		IndexSecretRef: func(p *messengerv1alpha1.MessengerPage) []string {
			return secretsOf(p.Spec.SecretRef.Name, &p.Spec.Webhook)
		},
		IndexPageID: func(p *messengerv1alpha1.MessengerPage) []string { return one(p.Spec.PageID) },
		IndexAppID:  func(p *messengerv1alpha1.MessengerPage) []string { return one(p.Spec.AppID) },
		IndexAppRef: func(p *messengerv1alpha1.MessengerPage) []string {
			if p.Spec.AppRef == nil {
				return nil
			}
			return one(p.Spec.AppRef.Name)
		},
	}
	for field, value := range pages {
		if err := index(ctx, indexer, &messengerv1alpha1.MessengerPage{}, field, value); err != nil {
			return err
		}
	}
	apps := map[string]func(*messengerv1alpha1.MessengerApp) []string{
		IndexAppID: func(a *messengerv1alpha1.MessengerApp) []string { return one(a.Spec.AppID) },
		IndexSecretRef: func(a *messengerv1alpha1.MessengerApp) []string {
			return secretsOf(a.Spec.SecretRef.Name, &a.Spec.Webhook)
		},
	}
	for field, value := range apps {
		if err := index(ctx, indexer, &messengerv1alpha1.MessengerApp{}, field, value); err != nil {
			return err
		}
	}
	return nil
}

func one(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// secretsOf are the Secrets an owner's reconcile reads: its secretRef and its store's URL.
func secretsOf(secretRef string, w *messengerv1alpha1.WebhookSpec) []string {
	out := one(secretRef)
	if r := w.Redis(); r != nil && r.URLSecretRef.Name != secretRef {
		out = append(out, r.URLSecretRef.Name)
	}
	return out
}

func index[T client.Object](ctx context.Context, indexer client.FieldIndexer, obj T, field string, value func(T) []string) error {
	return indexer.IndexField(ctx, obj, field, func(o client.Object) []string { return value(o.(T)) })
}
