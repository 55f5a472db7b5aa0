package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// defaultGatewayAPIRecheck is how often a page or app asking for an HTTPRoute looks again for
// the Gateway API CRDs.
const defaultGatewayAPIRecheck = 5 * time.Minute

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;patch;delete

// routeState is what a reconcile learnt of the webhook's HTTPRoute.
type routeState struct {
	missingAPI bool   // the Gateway API CRDs are not installed
	applied    string // the route's name, once in place
}

// routeWatch is a controller whose owner kind (a page or an app) gets its routes' events.
type routeWatch struct {
	ctrl  controller.Controller
	owner client.Object
}

// gatewayRoutes watches HTTPRoutes once the Gateway API exists, one per manager, for the page
// and app controllers. Owns(HTTPRoute) would stop the manager from starting in a cluster without
// the CRDs, so the HTTPRoute informer (its own cache, label-selected like the other owned kinds)
// and the watches are added when discovery first finds the CRD: at start, or later from a
// reconcile of a page or app that asks for a route.
type gatewayRoutes struct {
	mu      sync.Mutex
	mgr     ctrl.Manager
	disc    discovery.DiscoveryInterface
	cache   cache.Cache // nil until the Gateway API was found
	ns      []string
	watches []routeWatch
}

// gatewayRouteWatchers hold the one gatewayRoutes of each manager.
var gatewayRouteWatchers sync.Map // ctrl.Manager -> *gatewayRoutes

// gatewayRoutesOf returns the manager's gatewayRoutes, with c watching the routes owned by
// objects of owner's kind; it sets the watch up now when the Gateway API is installed. A failed
// discovery does not stop the manager: reconciles try again.
func gatewayRoutesOf(mgr ctrl.Manager, namespaces []string, c controller.Controller, owner client.Object) (*gatewayRoutes, error) {
	v, ok := gatewayRouteWatchers.Load(mgr)
	if !ok {
		disc, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
		if err != nil {
			return nil, err
		}
		v, _ = gatewayRouteWatchers.LoadOrStore(mgr, &gatewayRoutes{mgr: mgr, disc: disc, ns: namespaces})
	}
	g := v.(*gatewayRoutes)
	if err := g.addWatch(routeWatch{ctrl: c, owner: owner}); err != nil {
		return nil, err
	}
	if _, err := g.start(); err != nil {
		mgr.GetLogger().Error(err, "looking for the Gateway API; will look again when a page or app asks for an HTTPRoute")
	}
	return g, nil
}

// addWatch registers a controller's watch, and starts it when the route cache already runs.
func (g *gatewayRoutes) addWatch(w routeWatch) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.watches = append(g.watches, w)
	if g.cache == nil {
		return nil
	}
	return g.watch(g.cache, w)
}

func (g *gatewayRoutes) watch(c cache.Cache, w routeWatch) error {
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(specs.HTTPRouteGVK)
	return w.ctrl.Watch(source.Kind[client.Object](c, route, handler.EnqueueRequestForOwner(
		g.mgr.GetScheme(), g.mgr.GetRESTMapper(), w.owner, handler.OnlyControllerOwner())))
}

// installed reports whether the HTTPRoute kind is served, asking discovery.
func (g *gatewayRoutes) installed() (bool, error) {
	gv := specs.HTTPRouteGVK.GroupVersion().String()
	list, err := g.disc.ServerResourcesForGroupVersion(gv)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discovering %s: %w", gv, err)
	}
	for _, r := range list.APIResources {
		if r.Kind == specs.HTTPRouteGVK.Kind {
			return true, nil
		}
	}
	return false, nil
}

// start returns the HTTPRoute cache, setting it up on the first call that finds the Gateway
// API; nil when the API is not installed.
func (g *gatewayRoutes) start() (cache.Cache, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cache != nil {
		return g.cache, nil
	}
	ok, err := g.installed()
	if err != nil || !ok {
		return nil, err
	}
	opts := cache.Options{
		HTTPClient:           g.mgr.GetHTTPClient(),
		Scheme:               g.mgr.GetScheme(),
		Mapper:               g.mgr.GetRESTMapper(),
		DefaultTransform:     cache.TransformStripManagedFields(),
		DefaultLabelSelector: labels.SelectorFromSet(specs.ManagedSelector),
	}
	if len(g.ns) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range g.ns {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	c, err := cache.New(g.mgr.GetConfig(), opts)
	if err != nil {
		return nil, err
	}
	// Added to a running manager, the cache starts at once; before, with the manager.
	if err := g.mgr.Add(secretMetadataCache{c}); err != nil {
		return nil, err
	}
	for _, w := range g.watches {
		if err := g.watch(c, w); err != nil {
			return nil, err
		}
	}
	g.cache = c
	return c, nil
}

// started is the route cache when the Gateway API was found, else nil.
func (g *gatewayRoutes) started() cache.Cache {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cache
}

// webhookRoutes applies and deletes the HTTPRoute of a webhook, a standalone page's or an
// app's: one implementation for both reconcilers.
type webhookRoutes struct {
	ownedObjects
	routes *gatewayRoutes
}

// reconcile applies the HTTPRoute of the owner's spec.httpRoute (w says which), or deletes the
// one the operator made when spec.httpRoute was removed. Without the Gateway API it records that
// (the caller looks again later): the rest of the webhook is served regardless.
func (r webhookRoutes) reconcile(ctx context.Context, owner client.Object, w specs.Webhook) (routeState, error) {
	var st routeState
	desired := specs.HTTPRoute(w)
	if r.routes == nil {
		return st, fmt.Errorf("the reconciler was not set up with SetupWithManager")
	}
	var routes cache.Cache
	var err error
	if desired != nil {
		routes, err = r.routes.start()
	} else {
		// Only a started cache can hold a route to delete: it starts whenever the API exists
		// at start-up, or when a route was made.
		routes = r.routes.started()
	}
	if err != nil {
		return st, err
	}
	if routes == nil {
		st.missingAPI = desired != nil
		return st, nil
	}
	name := w.Name()
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(specs.HTTPRouteGVK)
	found, err := r.lookupRoute(ctx, routes, owner, name, current, desired != nil)
	if err != nil {
		return st, err
	}
	if desired == nil {
		if !found {
			return st, nil
		}
		uid := current.GetUID()
		if err := r.Delete(ctx, current, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return st, fmt.Errorf("deleting HTTPRoute %q: %w", name, err)
		}
		logf.FromContext(ctx).Info("deleted", "kind", "HTTPRoute", "name", name)
		return st, nil
	}
	st.applied = name
	if found {
		if ok, err := specs.UpToDate(desired.Object, current.Object); err != nil || ok {
			return st, err
		}
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return st, fmt.Errorf("applying HTTPRoute %q: %w", name, err)
	}
	logf.FromContext(ctx).Info("applied", "kind", "HTTPRoute", "name", name, "created", !found)
	return st, nil
}

// lookupRoute reads the owner's route from the route cache, else (wanted only: a name taken by
// someone else must not be overwritten) from the API server. found is false for a route the owner
// does not control when none is wanted: it is not the operator's to delete.
func (r webhookRoutes) lookupRoute(ctx context.Context, routes cache.Cache, owner client.Object, name string, obj *unstructured.Unstructured, wanted bool) (bool, error) {
	key := types.NamespacedName{Namespace: owner.GetNamespace(), Name: name}
	err := routes.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && wanted {
		err = r.APIReader.Get(ctx, key, obj)
	}
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	case !metav1.IsControlledBy(obj, owner):
		if wanted {
			return true, &nameClash{kind: "HTTPRoute", name: name, owner: ownerKind(owner)}
		}
		return false, nil
	}
	return true, nil
}

// routeCondition is the HTTPRoute condition of a page or app with spec.httpRoute (hr) in
// namespace ns.
func routeCondition(hr *messengerv1alpha1.HTTPRouteSpec, ns string, st routeState, recheck time.Duration) (metav1.ConditionStatus, string, string, bool) {
	if hr == nil {
		return "", "", "", false
	}
	switch {
	case st.missingAPI:
		return metav1.ConditionFalse, messengerv1alpha1.ReasonGatewayAPIMissing, fmt.Sprintf(
			"the Gateway API CRDs (%s %s) are not installed in the cluster: no HTTPRoute is made; install them and the operator makes it within %s",
			specs.HTTPRouteGVK.Kind, specs.HTTPRouteGVK.GroupVersion(), recheck), true
	case st.applied != "":
		parents := make([]string, 0, len(hr.ParentRefs))
		for _, p := range hr.ParentRefs {
			pns := ns
			if p.Namespace != nil {
				pns = *p.Namespace
			}
			parents = append(parents, pns+"/"+p.Name)
		}
		return metav1.ConditionTrue, messengerv1alpha1.ReasonRouteApplied, fmt.Sprintf(
			"HTTPRoute %q attaches to %v; whether a Gateway accepted it is in the HTTPRoute's status", st.applied, parents), true
	}
	return "", "", "", false
}

// gatewayAPIRecheck is the recheck set, else defaultGatewayAPIRecheck.
func gatewayAPIRecheck(set time.Duration) time.Duration {
	if set > 0 {
		return set
	}
	return defaultGatewayAPIRecheck
}
