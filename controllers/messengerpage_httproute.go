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

// defaultGatewayAPIRecheck is how often a page asking for an HTTPRoute looks again for the
// Gateway API CRDs.
const defaultGatewayAPIRecheck = 5 * time.Minute

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;patch;delete

// routeState is what a reconcile learnt of the page's HTTPRoute.
type routeState struct {
	missingAPI bool   // the Gateway API CRDs are not installed
	applied    string // the route's name, once in place
}

// gatewayRoutes watches HTTPRoutes once the Gateway API exists. Owns(HTTPRoute) would stop the
// manager from starting in a cluster without the CRDs, so the HTTPRoute informer (its own cache,
// label-selected like the other owned kinds) and the watch are added when discovery first finds
// the CRD: at start, or later from a reconcile of a page that asks for a route.
type gatewayRoutes struct {
	mu    sync.Mutex
	mgr   ctrl.Manager
	ctrl  controller.Controller
	disc  discovery.DiscoveryInterface
	cache cache.Cache // nil until the Gateway API was found
	ns    []string
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
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(specs.HTTPRouteGVK)
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
	src := source.Kind[client.Object](c, route, handler.EnqueueRequestForOwner(
		g.mgr.GetScheme(), g.mgr.GetRESTMapper(), &messengerv1alpha1.MessengerPage{}, handler.OnlyControllerOwner()))
	if err := g.ctrl.Watch(src); err != nil {
		return nil, err
	}
	g.cache = c
	return c, nil
}

func (r *MessengerPageReconciler) gatewayAPIRecheck() time.Duration {
	if r.GatewayAPIRecheck > 0 {
		return r.GatewayAPIRecheck
	}
	return defaultGatewayAPIRecheck
}

// reconcileHTTPRoute applies the HTTPRoute of spec.httpRoute, or deletes the one the operator
// made when spec.httpRoute was removed. Without the Gateway API it records that and looks again
// later: the rest of the page is served regardless.
func (r *MessengerPageReconciler) reconcileHTTPRoute(ctx context.Context, page *messengerv1alpha1.MessengerPage, w specs.Webhook, obs *observation) error {
	desired := specs.HTTPRoute(w)
	if r.routes == nil {
		return fmt.Errorf("the reconciler was not set up with SetupWithManager")
	}
	var routes cache.Cache
	var err error
	if desired != nil {
		routes, err = r.routes.start()
	} else {
		// Only a started cache can hold a route to delete: it starts whenever the API exists
		// at start-up, or when a route was made.
		r.routes.mu.Lock()
		routes = r.routes.cache
		r.routes.mu.Unlock()
	}
	if err != nil {
		return err
	}
	if routes == nil {
		if desired != nil {
			obs.route.missingAPI = true
			obs.requeueIn(r.gatewayAPIRecheck())
		}
		return nil
	}
	name := specs.WebhookName(page.Name)
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(specs.HTTPRouteGVK)
	found, err := r.lookupRoute(ctx, routes, page, name, current, desired != nil)
	if err != nil {
		return err
	}
	if desired == nil {
		if !found {
			return nil
		}
		uid := current.GetUID()
		if err := r.Delete(ctx, current, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting HTTPRoute %q: %w", name, err)
		}
		logf.FromContext(ctx).Info("deleted", "kind", "HTTPRoute", "name", name)
		return nil
	}
	obs.route.applied = name
	if found {
		if ok, err := specs.UpToDate(desired.Object, current.Object); err != nil || ok {
			return err
		}
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying HTTPRoute %q: %w", name, err)
	}
	logf.FromContext(ctx).Info("applied", "kind", "HTTPRoute", "name", name, "created", !found)
	return nil
}

// lookupRoute reads the page's route from the route cache, else (wanted only: a name taken by
// someone else must not be overwritten) from the API server. found is false for a route the page
// does not control when none is wanted: it is not the operator's to delete.
func (r *MessengerPageReconciler) lookupRoute(ctx context.Context, routes cache.Cache, page *messengerv1alpha1.MessengerPage, name string, obj *unstructured.Unstructured, wanted bool) (bool, error) {
	key := types.NamespacedName{Namespace: page.Namespace, Name: name}
	err := routes.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && wanted {
		err = r.APIReader.Get(ctx, key, obj)
	}
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	case !metav1.IsControlledBy(obj, page):
		if wanted {
			return true, &nameClash{kind: "HTTPRoute", name: name, owner: "MessengerPage"}
		}
		return false, nil
	}
	return true, nil
}

// routeCondition is the HTTPRoute condition of a page with spec.httpRoute.
func routeCondition(page *messengerv1alpha1.MessengerPage, obs *observation, recheck time.Duration) (metav1.ConditionStatus, string, string, bool) {
	if page.Spec.HTTPRoute == nil {
		return "", "", "", false
	}
	switch {
	case obs.route.missingAPI:
		return metav1.ConditionFalse, messengerv1alpha1.ReasonGatewayAPIMissing, fmt.Sprintf(
			"the Gateway API CRDs (%s %s) are not installed in the cluster: no HTTPRoute is made; install them and the operator makes it within %s",
			specs.HTTPRouteGVK.Kind, specs.HTTPRouteGVK.GroupVersion(), recheck), true
	case obs.route.applied != "":
		parents := make([]string, 0, len(page.Spec.HTTPRoute.ParentRefs))
		for _, p := range page.Spec.HTTPRoute.ParentRefs {
			ns := page.Namespace
			if p.Namespace != nil {
				ns = *p.Namespace
			}
			parents = append(parents, ns+"/"+p.Name)
		}
		return metav1.ConditionTrue, messengerv1alpha1.ReasonRouteApplied, fmt.Sprintf(
			"HTTPRoute %q attaches to %v; whether a Gateway accepted it is in the HTTPRoute's status", obs.route.applied, parents), true
	}
	return "", "", "", false
}

// setupGatewayRoutes prepares the HTTPRoute watch and sets it up now when the Gateway API is
// installed. A failed discovery does not stop the manager: reconciles try again.
func (r *MessengerPageReconciler) setupGatewayRoutes(mgr ctrl.Manager, c controller.Controller) error {
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	r.routes = &gatewayRoutes{mgr: mgr, ctrl: c, disc: disc, ns: r.Namespaces}
	if _, err := r.routes.start(); err != nil {
		mgr.GetLogger().Error(err, "looking for the Gateway API; will look again when a page asks for an HTTPRoute")
	}
	return nil
}
