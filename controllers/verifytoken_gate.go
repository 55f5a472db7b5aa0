package controllers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// tokenGate decides when the verify token in use may be registered at Meta, which sends its
// verification GET at once: only when the webhook pods answer with it. They report the token
// they loaded as a fingerprint in status.webhookVerifyToken; a token is compared by fingerprint
// only (api VerifyTokenFingerprint).
type tokenGate struct {
	// Want is the fingerprint of the token in use, Reported the webhook's, Registered the one
	// last registered at Meta (empty: unknown, as before this was recorded).
	Want, Reported, Registered string
}

func newTokenGate(appSecret, token []byte, reported, registered string) tokenGate {
	return tokenGate{Want: messengerv1alpha1.VerifyTokenFingerprint(appSecret, token), Reported: reported, Registered: registered}
}

// inputs is what a check's outcome depends on: recording the registered token, or the webhook
// reporting a token that changes nothing, must not start a new check.
func (g tokenGate) inputs() [2]bool { return [2]bool{g.rotated(), g.loaded()} }

// rotated: Meta has an older token than the one in use, so the callback is registered again.
func (g tokenGate) rotated() bool { return g.Registered != "" && g.Registered != g.Want }

// loaded: the webhook answers with the token in use. A webhook that has reported nothing counts
// as loaded unless the token rotated: its pods load the token before they are ready, and a
// first registration waits for them to be available.
func (g tokenGate) loaded() bool {
	return g.Reported == g.Want || (g.Reported == "" && !g.rotated())
}

// wait is the result of a check that holds a registration back until the webhook has the
// token: the callback registered so far keeps working (stale false), or there is none yet.
func (g tokenGate) wait(stale bool, prev *messengerv1alpha1.CallbackStatus, who string) callbackResult {
	msg := "waiting for " + who + " pods to load the verify token in use before registering the callback at Meta, which verifies it at once"
	if !stale && prev != nil {
		return callbackResult{status: metav1.ConditionTrue, reason: messengerv1alpha1.ReasonCallbackVerified, callback: prev,
			message: "Meta delivers to " + prev.URL + "; the rotated verify token is registered once " + who + " pods have loaded it"}
	}
	return callbackResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonWaitingForWebhook, message: msg, callback: prev}
}
