// Package controllers holds the operator's reconcilers: MessengerPage (everything a page's webhook
// needs) and HandoverPolicy (validity and usage). Neither runs handover logic.
package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Field indexes on MessengerPage, so a change to a Secret or a HandoverPolicy reaches every page
// that uses it, and conflicts on pageID and appID are found without listing everything.
const (
	IndexPolicyRef = ".spec.policyRef.name"
	IndexSecretRef = ".spec.secretRef.name"
	IndexPageID    = ".spec.pageID"
	IndexAppID     = ".spec.appID"
)

// SetupIndexes registers the field indexes; call it once before the controllers start.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	indexes := map[string]func(*messengerv1alpha1.MessengerPage) string{
		IndexPolicyRef: func(p *messengerv1alpha1.MessengerPage) string { return p.Spec.PolicyRef.Name },
		IndexSecretRef: func(p *messengerv1alpha1.MessengerPage) string { return p.Spec.SecretRef.Name },
		IndexPageID:    func(p *messengerv1alpha1.MessengerPage) string { return p.Spec.PageID },
		IndexAppID:     func(p *messengerv1alpha1.MessengerPage) string { return p.Spec.AppID },
	}
	for field, value := range indexes {
		value := value
		err := indexer.IndexField(ctx, &messengerv1alpha1.MessengerPage{}, field, func(o client.Object) []string {
			v := value(o.(*messengerv1alpha1.MessengerPage))
			if v == "" {
				return nil
			}
			return []string{v}
		})
		if err != nil {
			return err
		}
	}
	return nil
}
