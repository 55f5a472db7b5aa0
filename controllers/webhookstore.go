package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete

// storeURLState is what the operator knows of the Redis store's URL: its hash (for the pod
// template) or why it cannot be used. Never the URL itself.
type storeURLState struct {
	hash    string
	missing string // an actionable sentence, without the URL
}

// readStoreURL reads the Redis URL of spec.webhook.store through the API server (Secret data
// is never cached). The memory store has none.
func readStoreURL(ctx context.Context, reader client.Reader, namespace string, spec *messengerv1alpha1.WebhookSpec) (storeURLState, error) {
	r := spec.Redis()
	if r == nil {
		return storeURLState{}, nil
	}
	ref := r.URLSecretRef
	secret := &corev1.Secret{}
	err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return storeURLState{missing: fmt.Sprintf("Secret %q of spec.webhook.store.redis.urlSecretRef does not exist", ref.Name)}, nil
	case err != nil:
		return storeURLState{}, fmt.Errorf("reading Secret %q: %w", ref.Name, err)
	}
	url := secret.Data[ref.Key]
	if len(url) == 0 {
		return storeURLState{missing: fmt.Sprintf("Secret %q has no key %q; add the Redis URL or set spec.webhook.store.redis.urlSecretRef.key", ref.Name, ref.Key)}, nil
	}
	if err := messengerv1alpha1.CheckRedisURL(string(url)); err != nil {
		return storeURLState{missing: fmt.Sprintf("the value of key %q in Secret %q %s", ref.Key, ref.Name, err.Error())}, nil
	}
	return storeURLState{hash: specs.StoreURLHash(url)}, nil
}
