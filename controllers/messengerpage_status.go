package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	messengerv1alpha1ac "github.com/messenger-operator/messenger-operator/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// pageConditions say which condition types the operator applies (the webhook applies the others)
// and how Ready is summarised from them.
var pageConditions = messengerv1alpha1.MessengerPageConditions

// observation is what one reconcile learnt, from which the status is computed.
type observation struct {
	conflict   string // another page serves the pageID: Stalled, nothing applied
	appManaged string // a MessengerApp of the namespace has the standalone page's appID
	// hostRefused: the standalone page's Graph API host is not allowed; Stalled, nothing applied
	hostRefused string
	// app is the MessengerApp of a page with spec.appRef, nil when not found.
	app        *messengerv1alpha1.MessengerApp
	clash      string   // an object in the way of one the page should own
	sharedWith []string // other pages of the same Meta app
	secret     secretState
	store      storeURLState // the Redis store's URL, with spec.webhook.store.redis
	policy     *messengerv1alpha1.HandoverPolicy
	// verifyTokenSecret is the generated Secret when in use (granted to the webhook), and
	// verifyTokenStatus what status.verifyTokenSecret says: that one, or the user's Secret.
	verifyTokenSecret, verifyTokenStatus string
	deployment                           *appsv1.Deployment
	replicas                             int32
	// verifyToken is the value in use, for registering the callback; never logged.
	verifyToken  []byte
	route        routeState
	monitor      monitorState
	subscription *subscriptionResult // nil without spec.subscription or when not attempted
	profile      *profileResult      // nil without spec.profile or when not attempted
	token        *tokenResult        // nil until the page's credentials are all there
	// holdStatus: no status write in this pass; the first token check's answer is due
	// (tokenFirstWait) and will wake the page.
	holdStatus bool
	// requeue, when > 0, brings the page back that much later (periodic checks).
	requeue time.Duration
}

// requeueIn asks for the page to come back within d.
func (o *observation) requeueIn(d time.Duration) {
	if d > 0 && (o.requeue == 0 || d < o.requeue) {
		o.requeue = d
	}
}

// desiredStatus computes the operator's part of the status, following kstatus: Stalled and
// Reconciling only while true, Ready summarised from the page's conditions (the webhook's
// included) by pageConditions. Transition times are kept from current conditions whose status did
// not change.
func (r *MessengerPageReconciler) desiredStatus(page *messengerv1alpha1.MessengerPage, obs *observation) messengerv1alpha1.MessengerPageStatus {
	st := messengerv1alpha1.MessengerPageStatus{ObservedGeneration: page.Generation}
	cs := newConditionSet(page.ConditionTypes(), page.Status.Conditions, page.Generation, r.now())
	add, stalled := cs.add, cs.stalled
	finish := func(ok metav1.Condition) messengerv1alpha1.MessengerPageStatus {
		// Ready sees the webhook's conditions too.
		st.Conditions = cs.ready(ok, webhookConditions(page))
		return st
	}

	switch {
	case obs.conflict != "":
		stalled(messengerv1alpha1.ReasonConflict, obs.conflict)
		return finish(metav1.Condition{})
	case obs.appManaged != "":
		stalled(messengerv1alpha1.ReasonAppManaged, obs.appManaged)
		return finish(metav1.Condition{})
	case obs.hostRefused != "":
		stalled(messengerv1alpha1.ReasonGraphHostNotAllowed, obs.hostRefused)
		return finish(metav1.Condition{})
	case page.Spec.AppRef != nil:
		profileConditions(page, obs, cs)
		st.Conditions = r.appPageConditions(page, obs, cs, &st)
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
	ref := &page.Spec.SecretRef

	// What waiting will not fix, most fundamental first; then what the webhook reports as such.
	if obs.clash != "" {
		stalled(messengerv1alpha1.ReasonConflict, obs.clash)
	} else {
		referenceStall(page, obs, cs, fmt.Sprintf("the keys %q and %q", ref.GetPageAccessTokenKey(), ref.GetAppSecretKey()))
	}
	tokenConditions(obs, cs, &st, r.now())
	// A rollout under way is Reconciling, unless Stalled: waiting will not help.
	if !rolledOut && !cs.has(messengerv1alpha1.ConditionStalled) {
		add(messengerv1alpha1.ConditionReconciling, metav1.ConditionTrue, messengerv1alpha1.ReasonProgressing, rolloutMsg)
	}
	ingressTLS(cs, page.Spec.Ingress)
	if len(obs.sharedWith) > 0 {
		add(messengerv1alpha1.ConditionSharedApp, metav1.ConditionTrue, messengerv1alpha1.ReasonAppShared,
			sharedAppMessage(page.Spec.AppID, obs.sharedWith))
	}
	if status, reason, msg, ok := routeCondition(page.Spec.HTTPRoute, page.Namespace, obs.route, r.gatewayAPIRecheck()); ok {
		add(messengerv1alpha1.ConditionHTTPRoute, status, reason, msg)
	}
	if status, reason, msg, ok := monitorCondition(page.Spec.Monitoring, obs.monitor, r.gatewayAPIRecheck()); ok {
		add(messengerv1alpha1.ConditionMonitoring, status, reason, msg)
	}
	if page.Spec.Subscription != nil {
		sub := subscriptionCondition(page, obs)
		add(messengerv1alpha1.ConditionSubscribed, sub.status, sub.reason, sub.message)
		st.Subscription = sub.observed
	}
	profileConditions(page, obs, cs)
	if obs.replicas == 0 {
		return finish(metav1.Condition{Reason: messengerv1alpha1.ReasonScaledToZero,
			Message: "spec.webhook.replicas is 0: no webhook pod serves the page; Meta's calls to " + st.WebhookURL + " fail"})
	}
	return finish(metav1.Condition{Reason: messengerv1alpha1.ReasonAvailable, Message: rolloutMsg + "; Meta calls " + st.WebhookURL})
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
	if !equality.Semantic.DeepEqual(have.Subscription, want.Subscription) || !equality.Semantic.DeepEqual(have.Token, want.Token) {
		return false
	}
	return conditionsUpToDate(pageConditions, have.Conditions, want.Conditions)
}

// writeStatus applies the operator's part of the status when it changed, with server-side apply
// under FieldManager: the fields and conditions listed are the operator's, so conditions it
// stopped listing disappear and the webhook's stay. Events mark the transitions.
func (r *MessengerPageReconciler) writeStatus(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) error {
	want := r.desiredStatus(page, obs)
	if obs.holdStatus || statusUpToDate(&page.Status, &want) {
		return nil
	}
	ac := messengerv1alpha1ac.MessengerPage(page.Name, page.Namespace).WithStatus(statusApply(&want))
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return err
	}
	r.recordTransitions(page, &want)
	return nil
}

// statusApply is the apply configuration of the operator's status fields (only the conditions it
// owns), leaving out empty fields as their JSON encoding does.
func statusApply(st *messengerv1alpha1.MessengerPageStatus) *messengerv1alpha1ac.MessengerPageStatusApplyConfiguration {
	ac := messengerv1alpha1ac.MessengerPageStatus().WithObservedGeneration(st.ObservedGeneration).
		WithConditions(conditionsApply(pageConditions, st.Conditions)...)
	if st.WebhookURL != "" {
		ac.WithWebhookURL(st.WebhookURL)
	}
	if p := st.Policy; p != nil {
		pol := messengerv1alpha1ac.ResolvedPolicy().WithName(p.Name)
		if p.Generation != 0 {
			pol.WithGeneration(p.Generation)
		}
		ac.WithPolicy(pol)
	}
	if st.VerifyTokenSecret != "" {
		ac.WithVerifyTokenSecret(st.VerifyTokenSecret)
	}
	if st.ReadyReplicas != 0 {
		ac.WithReadyReplicas(st.ReadyReplicas)
	}
	if sub := st.Subscription; sub != nil {
		sac := messengerv1alpha1ac.SubscriptionStatus()
		if sub.CallbackURL != "" {
			sac.WithCallbackURL(sub.CallbackURL)
		}
		if sub.CallbackPage != "" {
			sac.WithCallbackPage(sub.CallbackPage)
		}
		if sub.PageSubscribed {
			sac.WithPageSubscribed(true)
		}
		if len(sub.Fields) > 0 {
			sac.WithFields(sub.Fields...)
		}
		if sub.LastUnsubscribedTime != nil {
			sac.WithLastUnsubscribedTime(*sub.LastUnsubscribedTime)
		}
		if sub.VerifyToken != "" {
			sac.WithVerifyToken(sub.VerifyToken)
		}
		ac.WithSubscription(sac)
	}
	if t := st.Token; t != nil {
		tac := messengerv1alpha1ac.TokenStatus().WithValid(t.Valid)
		if t.ExpiresAt != nil {
			tac.WithExpiresAt(*t.ExpiresAt)
		}
		if t.DataAccessExpiresAt != nil {
			tac.WithDataAccessExpiresAt(*t.DataAccessExpiresAt)
		}
		if len(t.Scopes) > 0 {
			tac.WithScopes(t.Scopes...)
		}
		ac.WithToken(tac)
	}
	return ac
}

// recordTransitions emits events for what changed, never on a pass that changed nothing.
func (r *MessengerPageReconciler) recordTransitions(page *messengerv1alpha1.MessengerPage, want *messengerv1alpha1.MessengerPageStatus) {
	if r.Recorder == nil {
		return
	}
	changed := func(t string) (*metav1.Condition, bool) {
		return changedCondition(page.Status.Conditions, want.Conditions, t)
	}
	if page.Spec.AppRef != nil {
		stallEvent(r.Recorder, page, page.Status.Conditions, want.Conditions)
	} else {
		readyEvent(r.Recorder, page, page.Status.Conditions, want.Conditions)
	}
	if c, ok := changed(messengerv1alpha1.ConditionIngressTLS); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionHTTPRoute); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionTokenValid); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "CheckToken", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionTokenExpiring); ok && c.Status == metav1.ConditionTrue {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, "TokenExpiring", "CheckToken", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionMonitoring); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionSubscribed); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Subscribe", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionProfileSynced); ok && c.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(page, nil, corev1.EventTypeWarning, c.Reason, "Profile", "%s", c.Message)
	}
	if c, ok := changed(messengerv1alpha1.ConditionSharedApp); ok {
		r.Recorder.Eventf(page, nil, corev1.EventTypeNormal, c.Reason, "Reconcile", "%s", c.Message)
	}
}

// webhookConditions are the page's conditions written by a webhook, as Ready sees them: Served
// counts only for the page's current generation (the app's pods may serve an older one).
func webhookConditions(page *messengerv1alpha1.MessengerPage) []metav1.Condition {
	out := page.ConditionTypes().Owned(page.Status.Conditions, messengerv1alpha1.FieldManagerWebhook)
	for i := range out {
		if c := &out[i]; c.Type == messengerv1alpha1.ConditionServed && c.Status == metav1.ConditionTrue && c.ObservedGeneration != page.Generation {
			c.Status, c.Reason = metav1.ConditionUnknown, messengerv1alpha1.ReasonLoading
			c.Message = fmt.Sprintf("the app's webhook serves generation %d of the page, not yet %d", c.ObservedGeneration, page.Generation)
		}
	}
	return out
}

// referenceStall sets Stalled for what waiting will not fix about the page's references (keys
// names the keys its Secret needs), else for a stall the webhook reports.
func referenceStall(page *messengerv1alpha1.MessengerPage, obs *observation, cs *conditionSet, keys string) {
	switch {
	case !obs.secret.found:
		cs.stalled(messengerv1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"Secret %q not found in namespace %q; create it with %s, or fix spec.secretRef.name",
			page.Spec.SecretRef.Name, page.Namespace, keys))
	case len(obs.secret.missing) > 0:
		cs.stalled(messengerv1alpha1.ReasonSecretKeyMissing, obs.secret.missingMessage())
	case obs.policy == nil:
		cs.stalled(messengerv1alpha1.ReasonPolicyNotFound, fmt.Sprintf(
			"HandoverPolicy %q not found in namespace %q; create it or fix spec.policyRef.name", page.Spec.PolicyRef.Name, page.Namespace))
	default:
		// A refused page token: a person must put a fresh one in the Secret (kstatus then reports
		// Failed rather than InProgress forever).
		// The operator's own (TokenValid) are set afresh in the pass (tokenConditions).
		if c := pageConditions.Stall(webhookConditions(page)); c != nil {
			cs.stalled(c.Reason, c.Message)
		}
	}
}
