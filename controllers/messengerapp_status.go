package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	messengerv1alpha1ac "github.com/messenger-operator/messenger-operator/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

var appConditions = messengerv1alpha1.MessengerAppConditions

// desiredStatus computes the app's status as desiredStatus does a page's.
func (r *MessengerAppReconciler) desiredStatus(app *messengerv1alpha1.MessengerApp, obs *appObservation) messengerv1alpha1.MessengerAppStatus {
	st := messengerv1alpha1.MessengerAppStatus{ObservedGeneration: app.Generation}
	cs := newConditionSet(appConditions, app.Status.Conditions, app.Generation, r.now())
	if obs.conflict != "" {
		cs.stalled(messengerv1alpha1.ReasonConflict, obs.conflict)
		st.Conditions = cs.ready(metav1.Condition{}, nil)
		return st
	}
	if obs.hostRefused != "" {
		cs.stalled(messengerv1alpha1.ReasonGraphHostNotAllowed, obs.hostRefused)
		st.Conditions = cs.ready(metav1.Condition{}, nil)
		return st
	}
	st.WebhookURL = specs.AppWebhookURL(app)
	st.VerifyTokenSecret = obs.token.status
	st.Pages = servedPages(obs.pages)
	rolledOut, rolloutMsg := true, ""
	if d := obs.deployment; d != nil {
		st.ReadyReplicas = d.Status.ReadyReplicas
		rolledOut, rolloutMsg = rollout(d, obs.replicas)
	}
	ref := &app.Spec.SecretRef
	switch {
	case obs.clash != "":
		cs.stalled(messengerv1alpha1.ReasonConflict, obs.clash)
	case !obs.secret.found:
		cs.stalled(messengerv1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"Secret %q not found in namespace %q; create it with the key %q, or fix spec.secretRef.name", ref.Name, app.Namespace, ref.GetAppSecretKey()))
	case obs.secret.missing != "":
		cs.stalled(messengerv1alpha1.ReasonSecretKeyMissing, obs.secret.missing)
	}
	if !rolledOut && !cs.has(messengerv1alpha1.ConditionStalled) {
		cs.add(messengerv1alpha1.ConditionReconciling, metav1.ConditionTrue, messengerv1alpha1.ReasonProgressing, rolloutMsg)
	}
	ingressTLS(cs, app.Spec.Ingress)
	if status, reason, msg, ok := routeCondition(app.Spec.HTTPRoute, app.Namespace, obs.route, r.gatewayAPIRecheck()); ok {
		cs.add(messengerv1alpha1.ConditionHTTPRoute, status, reason, msg)
	}
	if status, reason, msg, ok := monitorCondition(app.Spec.Monitoring, obs.monitor, r.gatewayAPIRecheck()); ok {
		cs.add(messengerv1alpha1.ConditionMonitoring, status, reason, msg)
	}
	if cb := obs.callback; cb != nil {
		cs.add(messengerv1alpha1.ConditionCallbackRegistered, cb.status, cb.reason, cb.message)
		st.Callback = cb.callback
	}
	if obs.replicas == 0 {
		st.Conditions = cs.ready(metav1.Condition{Reason: messengerv1alpha1.ReasonScaledToZero,
			Message: "spec.webhook.replicas is 0: no webhook pod serves the app's pages; Meta's calls to " + st.WebhookURL + " fail"}, nil)
		return st
	}
	st.Conditions = cs.ready(metav1.Condition{Reason: messengerv1alpha1.ReasonAvailable,
		Message: fmt.Sprintf("%s; serving %d of %d pages; Meta calls %s", rolloutMsg, st.Pages, len(obs.pages), st.WebhookURL)}, nil)
	return st
}

// servedPages counts the pages the app's webhook reports serving at their current generation.
func servedPages(pages []messengerv1alpha1.MessengerPage) int32 {
	var n int32
	for i := range pages {
		c := apimeta.FindStatusCondition(pages[i].Status.Conditions, messengerv1alpha1.ConditionServed)
		if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pages[i].Generation {
			n++
		}
	}
	return n
}

func appStatusUpToDate(have, want *messengerv1alpha1.MessengerAppStatus) bool {
	return have.ObservedGeneration == want.ObservedGeneration && have.WebhookURL == want.WebhookURL &&
		have.VerifyTokenSecret == want.VerifyTokenSecret && have.ReadyReplicas == want.ReadyReplicas &&
		have.Pages == want.Pages && equality.Semantic.DeepEqual(have.Callback, want.Callback) && conditionsUpToDate(appConditions, have.Conditions, want.Conditions)
}

// servedCountInterval is the least time between two status writes of an app that change only
// how many of its pages are served (status.pages and Ready's message): while many pages join,
// the count is written at most this often, not once per batch of pages. Nothing waits on the
// count (its pages follow the app's Ready, not its message), and the last count is written at
// most this much later.
const servedCountInterval = 2 * time.Second

// onlyServedCount says whether want differs from have only in the count of served pages.
func onlyServedCount(have, want *messengerv1alpha1.MessengerAppStatus) bool {
	h := apimeta.FindStatusCondition(have.Conditions, messengerv1alpha1.ConditionReady)
	w := apimeta.FindStatusCondition(want.Conditions, messengerv1alpha1.ConditionReady)
	if h == nil || w == nil || h.Status != w.Status || h.Reason != w.Reason {
		return false
	}
	same := *want
	same.Pages = have.Pages
	same.Conditions = slices.Clone(want.Conditions)
	messengerv1alpha1.SetCondition(&same.Conditions, *h)
	return appStatusUpToDate(have, &same)
}

// writeStatus applies the app's status when it changed, under FieldManager; a change of only
// the served count waits for servedCountInterval since the last write (wait says how long).
func (r *MessengerAppReconciler) writeStatus(ctx context.Context, app *messengerv1alpha1.MessengerApp, obs *appObservation) (wait time.Duration, err error) {
	want := r.desiredStatus(app, obs)
	if appStatusUpToDate(&app.Status, &want) {
		return 0, nil
	}
	key := client.ObjectKeyFromObject(app)
	if last, ok := r.statusWritten.Load(key); ok && onlyServedCount(&app.Status, &want) {
		if d := servedCountInterval - r.now().Sub(last.(time.Time)); d > 0 {
			return d, nil
		}
	}
	ac := messengerv1alpha1ac.MessengerAppStatus().WithObservedGeneration(want.ObservedGeneration).
		WithConditions(conditionsApply(appConditions, want.Conditions)...).WithPages(want.Pages)
	if want.WebhookURL != "" {
		ac.WithWebhookURL(want.WebhookURL)
	}
	if want.VerifyTokenSecret != "" {
		ac.WithVerifyTokenSecret(want.VerifyTokenSecret)
	}
	if want.ReadyReplicas != 0 {
		ac.WithReadyReplicas(want.ReadyReplicas)
	}
	if cb := want.Callback; cb != nil {
		cac := messengerv1alpha1ac.CallbackStatus()
		if cb.URL != "" {
			cac.WithURL(cb.URL)
		}
		if len(cb.Fields) > 0 {
			cac.WithFields(cb.Fields...)
		}
		if cb.VerifiedTime != nil {
			cac.WithVerifiedTime(*cb.VerifiedTime)
		}
		if cb.VerifyToken != "" {
			cac.WithVerifyToken(cb.VerifyToken)
		}
		ac.WithCallback(cac)
	}
	if err := r.Status().Apply(ctx, messengerv1alpha1ac.MessengerApp(app.Name, app.Namespace).WithStatus(ac),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return 0, err
	}
	r.statusWritten.Store(key, r.now())
	if r.Recorder != nil {
		readyEvent(r.Recorder, app, app.Status.Conditions, want.Conditions)
		for _, typ := range []string{messengerv1alpha1.ConditionHTTPRoute, messengerv1alpha1.ConditionMonitoring} {
			if c, ok := changedCondition(app.Status.Conditions, want.Conditions, typ); ok && c.Status == metav1.ConditionFalse {
				r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
			}
		}
	}
	return 0, nil
}
