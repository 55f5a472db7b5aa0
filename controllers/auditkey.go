package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// ensureAuditKey keeps the Secret with the audit key of owner's webhook (the HMAC key that names
// users in its handover audit): generated once and kept for as long as the Secret exists, so
// that a user keeps one name in the log across rollouts and replicas.
func (r ownedObjects) ensureAuditKey(ctx context.Context, owner client.Object, w specs.Webhook) error {
	current := &corev1.Secret{}
	found, err := r.lookup(ctx, owner, "Secret", w.AuditKeySecretName(), current)
	if err != nil {
		return err
	}
	key := current.Data[messengerv1alpha1.GeneratedAuditKeyKey]
	if !found || len(key) == 0 {
		if key, err = specs.NewAuditKey(); err != nil {
			return err
		}
	}
	return r.applyIfChanged(ctx, "Secret", specs.AuditKeySecret(w, key), current, found)
}
