package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// reconcileVerifyToken decides which Secret holds the verify token in use (status
// .verifyTokenSecret, for people). The user's Secret when it has the key; otherwise a Secret the
// operator owns, with a token generated once and kept for as long as that Secret exists (Meta's
// callback was registered with it), whose name the webhook gets in its Deployment. The user's
// Secret is never written.
func (r *MessengerPageReconciler) reconcileVerifyToken(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook, obs *observation) error {
	generated := specs.VerifyTokenSecretName(page.Name)
	switch {
	case !obs.secret.found:
		// Whether the user's Secret will have a token is unknown: keep a generated one in use,
		// untouched.
		if page.Status.VerifyTokenSecret == generated {
			obs.verifyTokenSecret, obs.verifyTokenStatus = generated, generated
		}
		return nil
	case obs.secret.hasVerifyToken:
		obs.verifyTokenStatus = page.Spec.SecretRef.Name
		obs.verifyToken = obs.secret.data[page.Spec.SecretRef.GetVerifyTokenKey()]
		return r.deleteOwned(ctx, page, "Secret", generated, &corev1.Secret{})
	}

	current := &corev1.Secret{}
	found, err := r.lookup(ctx, page, "Secret", generated, current)
	if err != nil {
		return err
	}
	token := current.Data[messengerv1alpha1.GeneratedVerifyTokenKey]
	fresh := !found || len(token) == 0
	if fresh {
		if token, err = specs.NewVerifyToken(); err != nil {
			return err
		}
	}
	if err := r.applyIfChanged(ctx, "Secret", specs.VerifyTokenSecret(w, token), current, found); err != nil {
		return err
	}
	if fresh && r.Recorder != nil {
		r.Recorder.Eventf(page, nil, corev1.EventTypeNormal, "VerifyTokenGenerated", "Reconcile",
			"generated a verify token into Secret %q (key %q): give it to Meta with the callback URL", generated, messengerv1alpha1.GeneratedVerifyTokenKey)
	}
	obs.verifyTokenSecret = generated
	obs.verifyTokenStatus = generated
	obs.verifyToken = token
	return nil
}
