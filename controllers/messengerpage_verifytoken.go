package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// tokenSource is what decides the verify token in use: the user's Secret and the owner's status.
type tokenSource struct {
	found     bool   // the user's Secret exists
	secret    string // its name
	token     []byte // its verify token, empty when it has none
	inStatus  string // status.verifyTokenSecret of the owner
	generated string // the name of the generated Secret
}

// tokenInUse is the outcome: secret is the generated Secret when in use (granted to the webhook
// and named in its Deployment), status what status.verifyTokenSecret says, token the value
// (for registering the callback; never logged).
type tokenInUse struct {
	secret, status string
	token          []byte
}

// reconcileVerifyToken decides which Secret holds the verify token in use (status
// .verifyTokenSecret, for people). The user's Secret when it has the key; otherwise a Secret the
// operator owns, with a token generated once and kept for as long as that Secret exists (Meta's
// callback was registered with it), whose name the webhook gets in its Deployment. The user's
// Secret is never written.
func (r *MessengerPageReconciler) reconcileVerifyToken(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook, obs *observation) error {
	ref := page.Spec.SecretRef
	src := tokenSource{found: obs.secret.found, secret: ref.Name, inStatus: page.Status.VerifyTokenSecret, generated: w.VerifyTokenSecretName()}
	if obs.secret.hasVerifyToken {
		src.token = obs.secret.data[ref.GetVerifyTokenKey()]
	}
	use, err := r.objects().reconcileVerifyToken(ctx, page, w, src, r.Recorder)
	obs.verifyTokenSecret, obs.verifyTokenStatus, obs.verifyToken = use.secret, use.status, use.token
	return err
}

func (r ownedObjects) reconcileVerifyToken(ctx context.Context, owner client.Object, w specs.Webhook, src tokenSource, rec events.EventRecorder) (tokenInUse, error) {
	generated := src.generated
	switch {
	case !src.found:
		// Whether the user's Secret will have a token is unknown: keep a generated one in use,
		// untouched.
		if src.inStatus == generated {
			return tokenInUse{secret: generated, status: generated}, nil
		}
		return tokenInUse{}, nil
	case len(src.token) > 0:
		return tokenInUse{status: src.secret, token: src.token}, r.deleteOwned(ctx, owner, "Secret", generated, &corev1.Secret{})
	}

	current := &corev1.Secret{}
	found, err := r.lookup(ctx, owner, "Secret", generated, current)
	if err != nil {
		return tokenInUse{}, err
	}
	token := current.Data[messengerv1alpha1.GeneratedVerifyTokenKey]
	fresh := !found || len(token) == 0
	if fresh {
		if token, err = specs.NewVerifyToken(); err != nil {
			return tokenInUse{}, err
		}
	}
	if err := r.applyIfChanged(ctx, "Secret", specs.VerifyTokenSecret(w, token), current, found); err != nil {
		return tokenInUse{}, err
	}
	if fresh && rec != nil {
		rec.Eventf(owner, nil, corev1.EventTypeNormal, "VerifyTokenGenerated", "Reconcile",
			"generated a verify token into Secret %q (key %q): give it to Meta with the callback URL", generated, messengerv1alpha1.GeneratedVerifyTokenKey)
	}
	return tokenInUse{secret: generated, status: generated, token: token}, nil
}
