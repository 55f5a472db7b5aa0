package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// secretState is what the operator knows of the user's Secret: which keys are there, never
// their values.
type secretState struct {
	found          bool
	missing        []string // one actionable sentence per missing key
	hasVerifyToken bool
	// data is the Secret's data, kept in memory for the subscription calls; never logged.
	data map[string][]byte
}

// resolve reads the references: the user's Secret by name (userSecrets: from the API server, or
// as last read while its resourceVersion is unchanged) and the HandoverPolicy from the cache.
func (r *MessengerPageReconciler) resolve(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) error {
	var err error
	if obs.secret, err = r.readSecret(ctx, page); err != nil {
		return err
	}
	if obs.store, err = readStoreURL(ctx, r.userSecrets(), page.Namespace, &page.Spec.Webhook); err != nil {
		return err
	}
	if obs.store.missing != "" {
		obs.secret.missing = append(obs.secret.missing, obs.store.missing)
	}
	policy := &messengerv1alpha1.HandoverPolicy{}
	err = r.Get(ctx, types.NamespacedName{Namespace: page.Namespace, Name: page.Spec.PolicyRef.Name}, policy)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		obs.policy = policy
	}
	return nil
}

func (r *MessengerPageReconciler) readSecret(ctx context.Context, page *messengerv1alpha1.MessengerPage) (secretState, error) {
	ref := page.Spec.SecretRef
	secret := &corev1.Secret{}
	err := r.userSecrets().Get(ctx, types.NamespacedName{Namespace: page.Namespace, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return secretState{}, nil
	}
	if err != nil {
		return secretState{}, fmt.Errorf("reading Secret %q: %w", ref.Name, err)
	}
	st := secretState{found: true, data: secret.Data}
	has := func(key string) bool { return len(secret.Data[key]) > 0 }
	keys := []struct{ key, field string }{{ref.GetPageAccessTokenKey(), "pageAccessTokenKey"}}
	if page.Spec.AppRef == nil {
		// The app secret of a page with appRef is its MessengerApp's.
		keys = append(keys, struct{ key, field string }{ref.GetAppSecretKey(), "appSecretKey"})
	}
	for _, k := range keys {
		if !has(k.key) {
			st.missing = append(st.missing, fmt.Sprintf("Secret %q has no key %q; add it or set spec.secretRef.%s", ref.Name, k.key, k.field))
		}
	}
	st.hasVerifyToken = has(ref.GetVerifyTokenKey())
	return st, nil
}

func (s secretState) missingMessage() string {
	return strings.Join(s.missing, "; ")
}

// userSecrets reads the user's Secrets: the manager's secretReader (SetupWithManager), else the
// API server.
func (r *MessengerPageReconciler) userSecrets() client.Reader {
	if r.secrets != nil {
		return r.secrets
	}
	return r.APIReader
}
