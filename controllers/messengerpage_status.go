package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// ownedConditions are the condition types the operator writes; the webhook owns the others
// (GraphAuthorized, HandoverPermitted) and a status apply leaves them alone.
var ownedConditions = []string{
	messengerv1alpha1.ConditionReady,
	messengerv1alpha1.ConditionReconciling,
	messengerv1alpha1.ConditionStalled,
	messengerv1alpha1.ConditionIngressTLS,
	messengerv1alpha1.ConditionSharedApp,
	messengerv1alpha1.ConditionHTTPRoute,
	messengerv1alpha1.ConditionSubscribed,
}

// observation is what one reconcile learnt, from which the status is computed.
type observation struct {
	conflict   string   // another page serves the pageID: Stalled, nothing applied
	clash      string   // an object in the way of one the page should own
	sharedWith []string // other pages of the same Meta app
	secret     secretState
	policy     *messengerv1alpha1.HandoverPolicy
	// verifyTokenSecret is the generated Secret when in use (granted to the webhook), and
	// verifyTokenStatus what status.verifyTokenSecret says: that one, or the user's Secret.
	verifyTokenSecret, verifyTokenStatus string
	deployment                           *appsv1.Deployment
	replicas                             int32
	// verifyToken is the value in use, for registering the callback; never logged.
	verifyToken  []byte
	route        routeState
	subscription *subscriptionResult // nil without spec.subscription or when not attempted
	// requeue, when > 0, brings the page back that much later (periodic checks).
	requeue time.Duration
}

// requeueIn asks for the page to come back within d.
func (o *observation) requeueIn(d time.Duration) {
	if d > 0 && (o.requeue == 0 || d < o.requeue) {
		o.requeue = d
	}
}

// desiredStatus computes the operator's part of the status, following kstatus: Ready always,
// Stalled and Reconciling only while true. Transition times are kept from current conditions
// whose status did not change.
func (r *MessengerPageReconciler) desiredStatus(page *messengerv1alpha1.MessengerPage, obs *observation) messengerv1alpha1.MessengerPageStatus {
	gen := page.Generation
	st := messengerv1alpha1.MessengerPageStatus{ObservedGeneration: gen}
	var conds []metav1.Condition
	add := func(typ string, status metav1.ConditionStatus, reason, message string) {
		conds = append(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: gen})
	}
	ready := func(status metav1.ConditionStatus, reason, message string) {
		add(messengerv1alpha1.ConditionReady, status, reason, message)
	}
	stalled := func(reason, message string) {
		ready(metav1.ConditionFalse, reason, message)
		add(messengerv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	}

	if obs.conflict != "" {
		stalled(messengerv1alpha1.ReasonConflict, obs.conflict)
		st.Conditions = r.keepTransitionTimes(page, conds)
		return st
	}

	st.WebhookURL = specs.WebhookURL(page)
	st.VerifyTokenSecret = obs.verifyTokenStatus
	if obs.policy != nil {
		st.Policy = &messengerv1alpha1.ResolvedPolicy{Name: obs.policy.Name, Generation: obs.policy.Generation}
	}
	rolledOut, rolloutMsg := true, ""
	if d := obs.deployment; d != nil {
		st.ReadyReplicas = d.Status.ReadyReplicas
		rolledOut, rolloutMsg = rollout(d, obs.replicas)
	}
	graph := apimeta.FindStatusCondition(page.Status.Conditions, messengerv1alpha1.ConditionGraphAuthorized)
	ref := page.Spec.SecretRef

	switch {
	case obs.clash != "":
		stalled(messengerv1alpha1.ReasonConflict, obs.clash)
	case !obs.secret.found:
		stalled(messengerv1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"Secret %q not found in namespace %q; create it with the keys %q and %q, or fix spec.secretRef.name",
			ref.Name, page.Namespace, ref.GetPageAccessTokenKey(), ref.GetAppSecretKey()))
	case len(obs.secret.missing) > 0:
		stalled(messengerv1alpha1.ReasonSecretKeyMissing, obs.secret.missingMessage())
	case obs.policy == nil:
		stalled(messengerv1alpha1.ReasonPolicyNotFound, fmt.Sprintf(
			"HandoverPolicy %q not found in namespace %q; create it or fix spec.policyRef.name", page.Spec.PolicyRef.Name, page.Namespace))
	case graph != nil && graph.Status == metav1.ConditionFalse:
		msg := graph.Message
		if msg == "" {
			msg = "the Graph API refused the page access token; put a fresh one in the Secret"
		}
		// Stalled: waiting does not help, a person must put a fresh token in the Secret (kstatus
		// then reports Failed rather than InProgress forever).
		stalled(messengerv1alpha1.ReasonGraphUnauthorized, msg)
	case !rolledOut:
		ready(metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, rolloutMsg)
	case obs.subscription != nil && obs.subscription.failed:
		ready(metav1.ConditionFalse, messengerv1alpha1.ReasonSubscribeFailed, obs.subscription.message)
	case obs.replicas == 0:
		ready(metav1.ConditionTrue, messengerv1alpha1.ReasonScaledToZero,
			"spec.webhook.replicas is 0: no webhook pod serves the page; Meta's calls to "+st.WebhookURL+" fail")
	default:
		ready(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, rolloutMsg+"; Meta calls "+st.WebhookURL)
	}
	// A rollout under way is Reconciling, also behind a Ready reason that says more (unless
	// Stalled: waiting will not help).
	if !rolledOut && apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionStalled) == nil {
		add(messengerv1alpha1.ConditionReconciling, metav1.ConditionTrue, messengerv1alpha1.ReasonProgressing, rolloutMsg)
	}
	if in := page.Spec.Ingress; in != nil {
		if in.TLS == nil {
			add(messengerv1alpha1.ConditionIngressTLS, metav1.ConditionFalse, messengerv1alpha1.ReasonNoTLS,
				"spec.ingress has no tls: Meta only calls HTTPS endpoints with a valid certificate; set spec.ingress.tls.secretName, with an issuer for cert-manager")
		} else {
			msg := fmt.Sprintf("certificate from Secret %q", in.TLS.SecretName)
			if is := in.TLS.Issuer; is != nil {
				msg += fmt.Sprintf(", issued by cert-manager %s %q", is.GetKind(), is.Name)
			}
			add(messengerv1alpha1.ConditionIngressTLS, metav1.ConditionTrue, messengerv1alpha1.ReasonTLSConfigured, msg)
		}
	}
	if len(obs.sharedWith) > 0 {
		add(messengerv1alpha1.ConditionSharedApp, metav1.ConditionTrue, messengerv1alpha1.ReasonAppShared,
			sharedAppMessage(page.Spec.AppID, obs.sharedWith))
	}
	if status, reason, msg, ok := routeCondition(page, obs, r.gatewayAPIRecheck()); ok {
		add(messengerv1alpha1.ConditionHTTPRoute, status, reason, msg)
	}
	if page.Spec.Subscription != nil {
		sub := subscriptionCondition(page, obs)
		add(messengerv1alpha1.ConditionSubscribed, sub.status, sub.reason, sub.message)
		st.Subscription = sub.observed
	}
	st.Conditions = r.keepTransitionTimes(page, conds)
	return st
}

// rollout says whether the Deployment runs the desired replicas of its latest template.
func rollout(d *appsv1.Deployment, want int32) (bool, string) {
	s := d.Status
	var msg string
	switch {
	case s.ObservedGeneration < d.Generation:
		msg = fmt.Sprintf("Deployment %q: waiting for the rollout of generation %d to start", d.Name, d.Generation)
	case s.UpdatedReplicas < want:
		msg = fmt.Sprintf("Deployment %q: %d of %d replicas updated", d.Name, s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		msg = fmt.Sprintf("Deployment %q: %d old replicas terminating", d.Name, s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < want:
		msg = fmt.Sprintf("Deployment %q: %d of %d replicas available", d.Name, s.AvailableReplicas, want)
	default:
		return true, fmt.Sprintf("Deployment %q: %d of %d replicas available", d.Name, s.AvailableReplicas, want)
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse {
			msg += fmt.Sprintf(" (%s: %s)", c.Reason, c.Message)
		}
	}
	return false, msg
}

func (r *MessengerPageReconciler) keepTransitionTimes(page *messengerv1alpha1.MessengerPage, conds []metav1.Condition) []metav1.Condition {
	now := metav1.NewTime(r.now().Truncate(time.Second))
	for i := range conds {
		c := &conds[i]
		c.LastTransitionTime = now
		if old := apimeta.FindStatusCondition(page.Status.Conditions, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
	}
	return conds
}

// statusUpToDate compares the operator's part of two statuses, ignoring transition times (kept
// stable anyway) and the webhook's conditions.
func statusUpToDate(have, want *messengerv1alpha1.MessengerPageStatus) bool {
	if have.ObservedGeneration != want.ObservedGeneration || have.WebhookURL != want.WebhookURL ||
		have.VerifyTokenSecret != want.VerifyTokenSecret || have.ReadyReplicas != want.ReadyReplicas {
		return false
	}
	if (have.Policy == nil) != (want.Policy == nil) || (have.Policy != nil && *have.Policy != *want.Policy) {
		return false
	}
	if !equality.Semantic.DeepEqual(have.Subscription, want.Subscription) {
		return false
	}
	for _, t := range ownedConditions {
		h := apimeta.FindStatusCondition(have.Conditions, t)
		w := apimeta.FindStatusCondition(want.Conditions, t)
		if (h == nil) != (w == nil) {
			return false
		}
		if h != nil && (h.Status != w.Status || h.Reason != w.Reason || h.Message != w.Message || h.ObservedGeneration != w.ObservedGeneration) {
			return false
		}
	}
	return true
}

// writeStatus applies the operator's part of the status when it changed, with server-side apply
// under FieldManager: the fields and conditions listed are the operator's, so conditions it
// stopped listing disappear and the webhook's stay. Events mark the transitions.
func (r *MessengerPageReconciler) writeStatus(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) error {
	want := r.desiredStatus(page, obs)
	if statusUpToDate(&page.Status, &want) {
		return nil
	}
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": messengerv1alpha1.GroupVersion.String(),
		"kind":       "MessengerPage",
		"metadata":   map[string]any{"name": page.Name, "namespace": page.Namespace},
		"status":     status,
	}}
	if err := r.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return err
	}
	r.recordTransitions(page, &want)
	return nil
}

// recordTransitions emits events for what changed, never on a pass that changed nothing.
func (r *MessengerPageReconciler) recordTransitions(page *messengerv1alpha1.MessengerPage, want *messengerv1alpha1.MessengerPageStatus) {
	if r.Recorder == nil {
		return
	}
	changed := func(t string) (*metav1.Condition, bool) {
		w := apimeta.FindStatusCondition(want.Conditions, t)
		h := apimeta.FindStatusCondition(page.Status.Conditions, t)
		return w, w != nil && (h == nil || h.Status != w.Status || h.Reason != w.Reason)
	}
	if c, ok := changed(messengerv1alpha1.ConditionReady); ok {
		kind := corev1.EventTypeNormal
		if c.Status != metav1.ConditionTrue && c.Reason != messengerv1alpha1.ReasonProgressing {
			kind = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(page, nil, kind, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionIngressTLS); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionHTTPRoute); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionSubscribed); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Subscribe", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionSharedApp); ok {
		r.Recorder.Eventf(page, nil, corev1.EventTypeNormal, c.Reason, "Reconcile", "%s", c.Message)
	}
}
