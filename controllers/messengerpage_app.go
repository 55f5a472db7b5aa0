package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// reconcileAppPage handles a page with spec.appRef: its app's webhook serves it, so the page owns
// nothing and only its status is written. A page moved onto an app keeps the objects of its own
// webhook until the app's pods report it Served, so no event is lost in the move; then they go.
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
	if servedNow(page) {
		return r.removeStandaloneObjects(ctx, page)
	}
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
		{"Deployment", name, &appsv1.Deployment{}},
		{"Service", name, &corev1.Service{}},
		{"RoleBinding", name, &rbacv1.RoleBinding{}},
		{"Role", name, &rbacv1.Role{}},
		{"ServiceAccount", name, &corev1.ServiceAccount{}},
		{"Secret", specs.VerifyTokenSecretName(page.Name), &corev1.Secret{}},
	} {
		if err := o.deleteOwned(ctx, page, obj.kind, obj.name, obj.obj); err != nil {
			return err
		}
	}
	// A page with appRef has no spec.httpRoute (CEL): this deletes the route it made, if any.
	return r.reconcileHTTPRoute(ctx, page, specs.Webhook{Page: page}, &observation{})
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
// change of its Ready condition, which its pages' Ready follows.
var appReadyChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*messengerv1alpha1.MessengerApp)
		n, ok2 := e.ObjectNew.(*messengerv1alpha1.MessengerApp)
		if !ok1 || !ok2 {
			return true
		}
		return o.Generation != n.Generation || !o.DeletionTimestamp.Equal(n.DeletionTimestamp) ||
			appReady(o) != appReady(n) || o.Status.WebhookURL != n.Status.WebhookURL ||
			!sameCondition(o.Status.Conditions, n.Status.Conditions, messengerv1alpha1.ConditionReady)
	},
}
