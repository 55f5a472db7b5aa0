package controllers

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// SetupWithManager watches apps, everything they own, their Secrets (metadata only, as for
// pages), the other apps of an appID (claims) and their pages: a page joining, leaving,
// changing its Secret or reported Served by the webhook reaches its app (through the
// spec.appRef.name index of SetupIndexes, which must be registered first); its HTTPRoutes once
// the Gateway API is installed.
func (r *MessengerAppReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.graph = newGraphWork[callbackResult](r.now)
	var err error
	if r.secrets, err = sharedSecretReader(mgr, r.Namespaces, r.APIReader); err != nil {
		return err
	}
	secrets, err := secretSource(mgr, r.Namespaces, r.appsUsingSecret)
	if err != nil {
		return err
	}
	c, err := ownsWebhook(ctrl.NewControllerManagedBy(mgr).
		For(&messengerv1alpha1.MessengerApp{}, builder.WithPredicates(appChanged))).
		Watches(&messengerv1alpha1.MessengerPage{}, appOfPage{batch: r.pageBatch()}).
		Watches(&messengerv1alpha1.MessengerApp{}, handler.EnqueueRequestsFromMapFunc(r.appsOfAppID),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionChanged))).
		WatchesRawSource(secrets).
		WatchesRawSource(r.graph.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("messengerapp").
		Build(r)
	if err != nil {
		return err
	}
	r.routes, err = gatewayRoutesOf(mgr, r.Namespaces, c, &messengerv1alpha1.MessengerApp{})
	return err
}

func (r *MessengerAppReconciler) pageBatch() time.Duration {
	if r.PageBatch > 0 {
		return r.PageBatch
	}
	return defaultPageBatch
}

// appChanged passes an app's creation, deletion and new generations, a wiped status and the
// webhook's report of its verify token; the operator's own status writes do not come back as work.
var appChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
			!e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp()) {
			return true
		}
		o, _ := e.ObjectOld.(*messengerv1alpha1.MessengerApp)
		n, ok := e.ObjectNew.(*messengerv1alpha1.MessengerApp)
		if !ok || o == nil {
			return ok
		}
		// The webhook reporting the verify token it loaded may unblock a callback registration.
		return o.Status.WebhookVerifyToken != n.Status.WebhookVerifyToken ||
			apimeta.FindStatusCondition(n.Status.Conditions, messengerv1alpha1.ConditionReady) == nil
	},
}

var deletionChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
	},
}

// appsUsingSecret maps a Secret to the apps of its namespace that name it in spec.secretRef.
func (r *MessengerAppReconciler) appsUsingSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var apps messengerv1alpha1.MessengerAppList
	if err := r.List(ctx, &apps, client.InNamespace(obj.GetNamespace()), client.MatchingFields{IndexSecretRef: obj.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the apps that use a Secret", "name", obj.GetName())
		return nil
	}
	return appRequests(apps.Items)
}

// appsOfAppID maps an app to every app of its appID: a claim resolves when the older goes.
func (r *MessengerAppReconciler) appsOfAppID(ctx context.Context, obj client.Object) []reconcile.Request {
	app, ok := obj.(*messengerv1alpha1.MessengerApp)
	if !ok {
		return nil
	}
	var apps messengerv1alpha1.MessengerAppList
	if err := r.List(ctx, &apps, client.MatchingFields{IndexAppID: app.Spec.AppID}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the apps of an appID")
		return nil
	}
	return appRequests(apps.Items)
}

func appRequests(apps []messengerv1alpha1.MessengerApp) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(apps))
	for _, a := range apps {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: a.Namespace, Name: a.Name}})
	}
	return reqs
}

// defaultPageBatch is how long a page's change waits before its app is reconciled. Pages
// joining (or reported Served) together then cost the app one reconcile - one Role update and
// one status write for the batch, not one per page - at the price of this much more delay
// before the app's webhook may read a new page's Secret.
const defaultPageBatch = 200 * time.Millisecond

// appOfPage enqueues the app a page names (before and after an update): its Role follows the
// page's Secret and name, its status the pages served. The app comes batch later: the delaying
// queue keeps one entry per app, so every page change within that window is seen by one
// reconcile.
type appOfPage struct{ batch time.Duration }

var _ handler.EventHandler = appOfPage{}

func (h appOfPage) enqueue(q pageQueue, o client.Object) {
	if p, ok := o.(*messengerv1alpha1.MessengerPage); ok && p.Spec.AppRef != nil {
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.AppRef.Name}}, h.batch)
	}
}

func (h appOfPage) Create(_ context.Context, e event.CreateEvent, q pageQueue) {
	h.enqueue(q, e.Object)
}

func (h appOfPage) Update(_ context.Context, e event.UpdateEvent, q pageQueue) {
	o, ok1 := e.ObjectOld.(*messengerv1alpha1.MessengerPage)
	n, ok2 := e.ObjectNew.(*messengerv1alpha1.MessengerPage)
	if !ok1 || !ok2 {
		return
	}
	if o.Generation == n.Generation && o.DeletionTimestamp.Equal(n.DeletionTimestamp) && sameServed(o, n) {
		return
	}
	h.enqueue(q, o)
	h.enqueue(q, n)
}

func (h appOfPage) Delete(_ context.Context, e event.DeleteEvent, q pageQueue) {
	h.enqueue(q, e.Object)
}

func (appOfPage) Generic(context.Context, event.GenericEvent, pageQueue) {}

// sameServed says whether a page's Served condition is unchanged, generation included.
func sameServed(o, n *messengerv1alpha1.MessengerPage) bool {
	x := apimeta.FindStatusCondition(o.Status.Conditions, messengerv1alpha1.ConditionServed)
	y := apimeta.FindStatusCondition(n.Status.Conditions, messengerv1alpha1.ConditionServed)
	if x == nil || y == nil {
		return x == y
	}
	return x.Status == y.Status && x.Reason == y.Reason && x.ObservedGeneration == y.ObservedGeneration
}

// ownsWebhook watches every kind of a webhook's objects (an edited or deleted object comes back
// to its page or app).
func ownsWebhook(b *builder.TypedBuilder[reconcile.Request]) *builder.TypedBuilder[reconcile.Request] {
	return b.Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&corev1.Secret{}).
		Owns(&policyv1.PodDisruptionBudget{})
}
