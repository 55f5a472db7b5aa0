package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// reconcileAppPage handles a page with spec.appRef: its app's webhook serves it, so the page owns
// nothing and only its status is written. A page moved onto an app keeps the objects of its own
// webhook until the app's pods report it Served, so no event is lost in the move; then they go
// (removeStandaloneObjects, after the status).
func (r *MessengerPageReconciler) reconcileAppPage(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) error {
	if obs.conflict != "" {
		return nil
	}
	app := &messengerv1alpha1.MessengerApp{}
	err := r.Get(ctx, types.NamespacedName{Namespace: page.Namespace, Name: page.Spec.AppRef.Name}, app)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		obs.app = app
	}
	if err := r.resolve(ctx, page, obs); err != nil {
		return err
	}
	r.reconcileAppSubscription(ctx, page, obs)
	return nil
}

// servedNow says whether the app's webhook serves the page's current generation.
func servedNow(page *messengerv1alpha1.MessengerPage) bool {
	c := apimeta.FindStatusCondition(page.Status.Conditions, messengerv1alpha1.ConditionServed)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == page.Generation
}

// removeStandaloneObjects deletes what the page owned as a standalone page, if anything (the
// cache answers; in steady state no request is made).
func (r *MessengerPageReconciler) removeStandaloneObjects(ctx context.Context, page *messengerv1alpha1.MessengerPage) error {
	name := specs.WebhookName(page.Name)
	o := r.objects()
	for _, obj := range []struct {
		kind, name string
		obj        client.Object
	}{
		{"Ingress", name, &networkingv1.Ingress{}},
		{"NetworkPolicy", name, &networkingv1.NetworkPolicy{}},
		{"PodDisruptionBudget", name, &policyv1.PodDisruptionBudget{}},
		{"Deployment", name, &appsv1.Deployment{}},
		{"Service", name, &corev1.Service{}},
		{"RoleBinding", name, &rbacv1.RoleBinding{}},
		{"Role", name, &rbacv1.Role{}},
		{"ServiceAccount", name, &corev1.ServiceAccount{}},
		{"Secret", specs.VerifyTokenSecretName(page.Name), &corev1.Secret{}},
		{"Secret", specs.AuditKeySecretName(page.Name), &corev1.Secret{}},
	} {
		if err := o.deleteOwned(ctx, page, obj.kind, obj.name, obj.obj); err != nil {
			return err
		}
	}
	// A page with appRef has no spec.httpRoute (CEL): this deletes the route it made, if any.
	_, err := r.webhookRoutes().reconcile(ctx, page, specs.Webhook{Page: page})
	return err
}

// appManaged says why a standalone page may not run its own webhook: a MessengerApp of its
// namespace has its appID, and two callbacks of one Meta app would overwrite each other at every
// recheck.
func (r *MessengerPageReconciler) appManaged(ctx context.Context, page *messengerv1alpha1.MessengerPage) (string, error) {
	var apps messengerv1alpha1.MessengerAppList
	if err := r.List(ctx, &apps, client.InNamespace(page.Namespace), client.MatchingFields{IndexAppID: page.Spec.AppID}); err != nil {
		return "", err
	}
	for _, a := range apps.Items {
		if a.DeletionTimestamp.IsZero() {
			return fmt.Sprintf("Meta app %q is served by MessengerApp %q: replace spec.appID with spec.appRef.name: %s (and move the app-level fields to the MessengerApp); this page's own webhook keeps running, untouched, until then",
				page.Spec.AppID, a.Name, a.Name), nil
		}
	}
	return "", nil
}

// appPageConditions are the conditions of a page with spec.appRef: Stalled for what waiting will
// not fix, Ready once its app is Ready and its pods serve the page's current generation.
func (r *MessengerPageReconciler) appPageConditions(page *messengerv1alpha1.MessengerPage, obs *observation, cs *conditionSet, st *messengerv1alpha1.MessengerPageStatus) []metav1.Condition {
	appName := page.Spec.AppRef.Name
	if obs.policy != nil {
		st.Policy = &messengerv1alpha1.ResolvedPolicy{Name: obs.policy.Name, Generation: obs.policy.Generation}
	}
	if obs.app == nil {
		cs.stalled(messengerv1alpha1.ReasonAppNotFound, fmt.Sprintf(
			"MessengerApp %q not found in namespace %q; create it or fix spec.appRef.name", appName, page.Namespace))
		return cs.ready(metav1.Condition{}, webhookConditions(page))
	}
	st.WebhookURL = obs.app.Status.WebhookURL
	referenceStall(page, obs, cs, fmt.Sprintf("the key %q", page.Spec.SecretRef.GetPageAccessTokenKey()))
	tokenConditions(obs, cs, st, r.now())
	if obs.app.Spec.Subscription != nil {
		sub := subscriptionCondition(page, obs)
		cs.add(messengerv1alpha1.ConditionSubscribed, sub.status, sub.reason, sub.message)
		st.Subscription = sub.observed
	}
	conds := cs.ready(metav1.Condition{Reason: messengerv1alpha1.ReasonServing,
		Message: fmt.Sprintf("served by the webhook of MessengerApp %q", appName)}, webhookConditions(page))
	if cs.has(messengerv1alpha1.ConditionStalled) || appReady(obs.app) {
		return conds
	}
	// The app's state comes first: until its webhook is up, Served cannot come.
	msg := fmt.Sprintf("MessengerApp %q is not Ready", appName)
	if c := apimeta.FindStatusCondition(obs.app.Status.Conditions, messengerv1alpha1.ConditionReady); c != nil && c.Message != "" {
		msg += ": " + c.Message
	}
	messengerv1alpha1.SetCondition(&conds, metav1.Condition{Type: messengerv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: messengerv1alpha1.ReasonAppNotReady, Message: msg, ObservedGeneration: page.Generation, LastTransitionTime: cs.now})
	return conds
}

// appReady says whether the app's status is current and Ready.
func appReady(app *messengerv1alpha1.MessengerApp) bool {
	c := apimeta.FindStatusCondition(app.Status.Conditions, messengerv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && app.Status.ObservedGeneration == app.Generation && c.ObservedGeneration == app.Generation
}

// pagesOfApp maps an app to the pages of its namespace that name it in spec.appRef, and to the
// standalone pages of its appID (AppManaged).
func (r *MessengerPageReconciler) pagesOfApp(ctx context.Context, obj client.Object) []reconcile.Request {
	app, ok := obj.(*messengerv1alpha1.MessengerApp)
	if !ok {
		return nil
	}
	reqs := r.pagesUsing(IndexAppRef)(ctx, app)
	var pages messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &pages, client.InNamespace(app.Namespace), client.MatchingFields{IndexAppID: app.Spec.AppID}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the standalone pages of an appID")
		return reqs
	}
	for _, p := range pages.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return reqs
}

// appReadyChanged passes an app's creation and deletion, a new generation (its appID, URL) and a
// change of its Ready condition, which its pages' Ready follows: while the app is Ready its
// pages do not read its Ready message, which counts the pages served and so changes with every
// page the app's pods serve (passing it would wake every page of the app for each of them).
var appReadyChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*messengerv1alpha1.MessengerApp)
		n, ok2 := e.ObjectNew.(*messengerv1alpha1.MessengerApp)
		if !ok1 || !ok2 {
			return true
		}
		if o.Generation != n.Generation || !o.DeletionTimestamp.Equal(n.DeletionTimestamp) ||
			appReady(o) != appReady(n) || o.Status.WebhookURL != n.Status.WebhookURL {
			return true
		}
		return !appReady(n) && !sameCondition(o.Status.Conditions, n.Status.Conditions, messengerv1alpha1.ConditionReady)
	},
}

// reconcileAppSubscription subscribes the app to the Page of a page with spec.appRef, when the
// app has spec.subscription and is Ready (its webhook up and, with registerCallback, its callback
// verified): POST /{page-id}/subscribed_apps with the page token, for the page's fields or the
// app's. The check runs off the reconcile workers, as for standalone pages.
func (r *MessengerPageReconciler) reconcileAppSubscription(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) {
	app := obs.app
	if app == nil || app.Spec.Subscription == nil {
		r.graph.forget(client.ObjectKeyFromObject(page))
		return
	}
	wait := func(msg string) {
		obs.subscription = &subscriptionResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook,
			message: msg, observed: page.Status.Subscription}
	}
	if !obs.secret.found || len(obs.secret.missing) > 0 || obs.policy == nil {
		wait("waiting for the page's Secret and HandoverPolicy before subscribing at Meta")
		return
	}
	if !appReady(app) {
		wait(fmt.Sprintf("waiting for MessengerApp %q to be Ready before subscribing the Page at Meta", app.Name))
		return
	}
	appSecret, err := r.appSecret(ctx, app)
	if err != nil || len(appSecret) == 0 {
		wait(fmt.Sprintf("waiting for the app secret of MessengerApp %q", app.Name))
		obs.requeueIn(subscriptionRetry)
		return
	}
	sub := app.Spec.Subscription
	p := &subscriptionPlan{baseURL: app.Spec.GraphAPI.GetBaseURL(), version: app.Spec.GraphAPI.GetVersion(), appSecret: appSecret,
		pageToken: obs.secret.data[page.Spec.SecretRef.GetPageAccessTokenKey()], fields: sub.PageSubscriptionFields(&page.Spec)}
	p.secrets = [][]byte{p.appSecret, p.pageToken}
	interval := sub.GetRecheckInterval(r.SubscriptionRecheck)
	b, _ := json.Marshal([]any{page.UID, app.UID, app.Spec.AppID, page.Spec.PageID, p.baseURL, p.version, p.fields, p.secrets})
	checked, appID := page.DeepCopy(), app.Spec.AppID
	log := logf.FromContext(ctx)
	res, next := r.graph.check(page, sha256.Sum256(b), interval, min(interval, subscriptionRetry), func(ctx context.Context) subscriptionResult {
		observed := &messengerv1alpha1.SubscriptionStatus{}
		if prev := checked.Status.Subscription; prev != nil {
			observed = prev.DeepCopy()
		}
		pc, err := p.client(p.pageToken, checked.Spec.PageID)
		step := "calling the Graph API with the page access token"
		if err == nil {
			step, err = r.subscribePage(ctx, checked, pc, appID, p.fields, observed)
		}
		if err != nil {
			log.Info("subscription check failed", "error", p.scrub(err.Error()))
			return subscriptionResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonSubscribeFailed, failed: true,
				message: p.scrub(step + " failed: " + err.Error() + hint(err, checked)), observed: observed}
		}
		reason := messengerv1alpha1.ReasonSubscribed
		if observed.LastUnsubscribedTime != nil {
			reason = messengerv1alpha1.ReasonResubscribed
		}
		return subscriptionResult{status: metav1.ConditionTrue, reason: reason, observed: observed,
			message: fmt.Sprintf("app %s is subscribed to Page %s for %s", appID, checked.Spec.PageID, strings.Join(observed.Fields, ","))}
	})
	obs.requeueIn(next)
	if res == nil {
		res = &subscriptionResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonChecking,
			message: "checking the subscription at Meta", observed: page.Status.Subscription}
	}
	obs.subscription = res
}

// appSecret reads the app secret from the app's Secret (userSecrets; never logged).
func (r *MessengerPageReconciler) appSecret(ctx context.Context, app *messengerv1alpha1.MessengerApp) ([]byte, error) {
	s := &corev1.Secret{}
	if err := r.userSecrets().Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: app.Spec.SecretRef.Name}, s); err != nil {
		return nil, err
	}
	return s.Data[app.Spec.SecretRef.GetAppSecretKey()], nil
}
