package controllers

import (
	"context"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// SetupWithManager watches pages, everything they own (an edited or deleted object comes back),
// the Secrets and HandoverPolicies they reference (through the field indexes of SetupIndexes,
// which must be registered first), and the other pages of the same pageID or appID (conflicts
// and shared apps). The cache must come from CacheOptions.
func (r *MessengerPageReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.graph = newGraphWork[subscriptionResult](r.now)
	r.profiles = newGraphWork[profileResult](r.now)
	r.tokens = newGraphWork[tokenResult](r.now)
	var err error
	if r.secrets, err = sharedSecretReader(mgr, r.Namespaces, r.APIReader); err != nil {
		return err
	}
	secrets, err := r.secretMetadataSource(mgr)
	if err != nil {
		return err
	}
	c, err := ownsWebhook(ctrl.NewControllerManagedBy(mgr).
		For(&messengerv1alpha1.MessengerPage{}, builder.WithPredicates(pageChanged))).
		Watches(&messengerv1alpha1.HandoverPolicy{},
			handler.EnqueueRequestsFromMapFunc(r.pagesUsing(IndexPolicyRef)),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&messengerv1alpha1.MessengerPage{}, peerHandler{r.Client}).
		Watches(&messengerv1alpha1.MessengerApp{}, handler.EnqueueRequestsFromMapFunc(r.pagesOfApp),
			builder.WithPredicates(appReadyChanged)).
		WatchesRawSource(secrets).
		WatchesRawSource(r.graph.Source()).
		WatchesRawSource(r.profiles.Source()).
		WatchesRawSource(r.tokens.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("messengerpage").
		Build(r)
	if err != nil {
		return err
	}
	r.routes, err = gatewayRoutesOf(mgr, r.Namespaces, c, &messengerv1alpha1.MessengerPage{})
	return err
}

// pageChanged passes a page's creation and deletion, and updates that need a reconcile: a new
// generation, a change of a webhook condition the Ready condition summarizes (GraphAuthorized,
// CanAct, Served), or of the verify token the webhook reports loaded. The operator's own status writes (and the webhook's HandoverPermitted) do not
// come back as work.
var pageChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*messengerv1alpha1.MessengerPage)
		n, ok2 := e.ObjectNew.(*messengerv1alpha1.MessengerPage)
		if !ok1 || !ok2 {
			return true
		}
		if o.Generation != n.Generation || !o.DeletionTimestamp.Equal(n.DeletionTimestamp) {
			return true
		}
		if !sameServed(o, n) || o.Status.WebhookVerifyToken != n.Status.WebhookVerifyToken {
			return true
		}
		for _, t := range messengerv1alpha1.MessengerPageConditions {
			// The webhook's conditions that hold Ready (GraphAuthorized, CanAct).
			if t.Owner == messengerv1alpha1.FieldManagerWebhook && t.Role != messengerv1alpha1.Informational &&
				!sameCondition(o.Status.Conditions, n.Status.Conditions, t.Type) {
				return true
			}
		}
		// Someone wiped the status: write it again.
		return apimeta.FindStatusCondition(n.Status.Conditions, messengerv1alpha1.ConditionReady) == nil
	},
}

func sameCondition(a, b []metav1.Condition, typ string) bool {
	x, y := apimeta.FindStatusCondition(a, typ), apimeta.FindStatusCondition(b, typ)
	if x == nil || y == nil {
		return x == y
	}
	return x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message
}

// pagesUsing maps a referenced object to the pages of its namespace whose index field names it.
func (r *MessengerPageReconciler) pagesUsing(index string) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var pages messengerv1alpha1.MessengerPageList
		if err := r.List(ctx, &pages, client.InNamespace(obj.GetNamespace()), client.MatchingFields{index: obj.GetName()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing the pages that use an object", "index", index, "name", obj.GetName())
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(pages.Items))
		for _, p := range pages.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
		return reqs
	}
}

// secretMetadataSource watches Secret metadata (a second cache: the manager's caches only the
// operator's own Secrets) and maps a change of a user's Secret to the pages that reference it.
func (r *MessengerPageReconciler) secretMetadataSource(mgr ctrl.Manager) (source.Source, error) {
	return secretSource(mgr, r.Namespaces, r.pagesUsing(IndexSecretRef))
}

// secretCaches hold one Secret metadata cache per manager, shared by the page and app
// controllers.
var secretCaches sync.Map // ctrl.Manager -> cache.Cache

// secretSource is a source of Secret metadata events mapped by mapFn, from the manager's Secret
// metadata cache.
func secretSource(mgr ctrl.Manager, namespaces []string, mapFn handler.MapFunc) (source.Source, error) {
	c, err := secretMetadataCacheOf(mgr, namespaces)
	if err != nil {
		return nil, err
	}
	return source.Kind[client.Object](c, secretMetadata(),
		handler.EnqueueRequestsFromMapFunc(mapFn),
		predicate.ResourceVersionChangedPredicate{}), nil
}

// secretMetadataCacheOf is the manager's Secret metadata cache, made on first use. Only names
// are kept in that cache: no data, no annotations (a client-side kubectl apply copies the data
// into one), no labels.
func secretMetadataCacheOf(mgr ctrl.Manager, namespaces []string) (cache.Cache, error) {
	if c, ok := secretCaches.Load(mgr); ok {
		return c.(cache.Cache), nil
	}
	opts := cache.Options{
		HTTPClient:       mgr.GetHTTPClient(),
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: keepIdentityOnly,
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	nc, err := cache.New(mgr.GetConfig(), opts)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(secretMetadataCache{nc}); err != nil {
		return nil, err
	}
	secretCaches.Store(mgr, nc)
	return nc, nil
}

// sharedSecretReader is the manager's secretReader of the user's Secrets, reading through api.
func sharedSecretReader(mgr ctrl.Manager, namespaces []string, api client.Reader) (*secretReader, error) {
	if s, ok := secretReaders.Load(mgr); ok {
		return s.(*secretReader), nil
	}
	c, err := secretMetadataCacheOf(mgr, namespaces)
	if err != nil {
		return nil, err
	}
	s, err := newSecretReader(api, c)
	if err != nil {
		return nil, err
	}
	secretReaders.Store(mgr, s)
	return s, nil
}

// secretMetadataCache makes the manager start the cache with its own caches, before the
// controllers.
type secretMetadataCache struct{ cache.Cache }

func (c secretMetadataCache) GetCache() cache.Cache { return c.Cache }

func keepIdentityOnly(obj any) (any, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		m.ObjectMeta = metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		}
	}
	return obj, nil
}

// peerHandler enqueues the other pages of a page's pageID and appID when it appears, goes, or
// changes spec (old and new values), so a conflict resolves when the older page goes and
// SharedApp follows the app's pages.
type peerHandler struct{ c client.Client }

type pageQueue = workqueue.TypedRateLimitingInterface[reconcile.Request]

var _ handler.EventHandler = peerHandler{}

func (h peerHandler) enqueue(ctx context.Context, q pageQueue, o client.Object) {
	p, ok := o.(*messengerv1alpha1.MessengerPage)
	if !ok {
		return
	}
	for field, value := range map[string]string{IndexPageID: p.Spec.PageID, IndexAppID: p.Spec.AppID} {
		var pages messengerv1alpha1.MessengerPageList
		if err := h.c.List(ctx, &pages, client.MatchingFields{field: value}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing peer pages", "index", field)
			continue
		}
		for _, peer := range pages.Items {
			if peer.Namespace != p.Namespace || peer.Name != p.Name {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: peer.Namespace, Name: peer.Name}})
			}
		}
	}
}

func (h peerHandler) Create(ctx context.Context, e event.CreateEvent, q pageQueue) {
	h.enqueue(ctx, q, e.Object)
}

func (h peerHandler) Update(ctx context.Context, e event.UpdateEvent, q pageQueue) {
	if e.ObjectOld.GetGeneration() == e.ObjectNew.GetGeneration() &&
		e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp()) {
		return
	}
	h.enqueue(ctx, q, e.ObjectOld)
	h.enqueue(ctx, q, e.ObjectNew)
}

func (h peerHandler) Delete(ctx context.Context, e event.DeleteEvent, q pageQueue) {
	h.enqueue(ctx, q, e.Object)
}

func (h peerHandler) Generic(context.Context, event.GenericEvent, pageQueue) {}
