package controllers

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// FieldManager owns, through server-side apply, every field the operator writes: the owned
// objects and the page status fields and conditions of the operator (the webhook writes
// GraphAuthorized and HandoverPermitted under its own manager).
const FieldManager = messengerv1alpha1.FieldManagerOperator

// clashRetry is how often a page blocked by an object it does not own looks again.
const clashRetry = time.Minute

// MessengerPageReconciler runs one webhook per MessengerPage: it owns the webhook's
// ServiceAccount, Role, RoleBinding, Deployment, Service, Ingress and, when the user's Secret has
// no verify token, a Secret with a generated one. It reads the user's Secret and the
// HandoverPolicy but runs no handover logic: the webhook reads both live.
type MessengerPageReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// APIReader reads what the cache does not hold: the data of the user's Secrets (only the
	// operator's own Secrets are cached; userSecrets keeps what it read) and an owned object
	// missing from the cache, before taking its name.
	APIReader client.Reader
	// Recorder emits events on status transitions; nil emits none.
	Recorder events.EventRecorder
	// WebhookImage is the image of the webhook pods unless a page sets spec.webhook.image.
	WebhookImage string
	// MaxConcurrentReconciles, default 1.
	MaxConcurrentReconciles int
	// Namespaces limits the watch of Secret metadata to the namespaces of the manager's cache
	// (WATCH_NAMESPACE); empty means every namespace.
	Namespaces []string
	// ClaimBindings are the admin's bindings of pageIDs to namespaces; nil binds none.
	ClaimBindings ClaimBindings
	// GraphAPIHosts are the hosts a page's spec.graphAPI.baseURL may name (the manager's
	// --graph-api-hosts); empty allows Meta's only.
	GraphAPIHosts []string
	// Now is the clock of condition transitions and subscription checks; time.Now when nil.
	Now func() time.Time
	// SubscriptionRecheck is how often spec.subscription is checked at Meta when the page does
	// not set recheckInterval; 10m when zero.
	SubscriptionRecheck time.Duration
	// GatewayAPIRecheck is how often a page asking for an HTTPRoute looks again for the Gateway
	// API CRDs; 5m when zero.
	GatewayAPIRecheck time.Duration

	routes *gatewayRoutes
	// secrets reads the user's Secrets (userSecrets), shared with the app controller.
	secrets *secretReader
	// graph runs the subscription checks off the reconcile workers.
	graph *graphWork[subscriptionResult]
	// profiles runs the Messenger Profile checks off the reconcile workers.
	profiles *graphWork[profileResult]
	// tokens runs the debug_token checks of the page tokens off the reconcile workers.
	tokens *graphWork[tokenResult]
	// profileInSync holds, by page, the UID and generation whose profile a check last found or
	// made equal at Meta (profileMark): a later difference at that generation is drift, whatever
	// the cache shows.
	profileInSync sync.Map
}

// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerpages,verbs=get;list;watch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerpages/status,verbs=get;patch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerpages/finalizers,verbs=update
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=handoverpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerapps,verbs=get;list;watch
// Least privilege: server-side apply needs patch, and create for a new object; delete for what a
// page can stop needing (the generated Secret, the Ingress, and every object of its own webhook
// once it moved onto a MessengerApp); no update.
// +kubebuilder:rbac:groups="",resources=serviceaccounts;services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one page's objects and status to what its spec, Secret and policy say. A
// missing or bad reference is recorded in the status and waited for (the watches bring the page
// back); only API errors are returned, for a retry with backoff.
func (r *MessengerPageReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	page := &messengerv1alpha1.MessengerPage{}
	if err := r.Get(ctx, req.NamespacedName, page); err != nil {
		if apierrors.IsNotFound(err) {
			r.graph.forget(req.NamespacedName)
			r.profiles.forget(req.NamespacedName)
			r.tokens.forget(req.NamespacedName)
			r.profileInSync.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !page.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references: the garbage collector removes the rest
	}
	obs := &observation{}
	var err error
	if obs.conflict, obs.sharedWith, err = r.peers(ctx, page); err != nil {
		return ctrl.Result{}, err
	}
	if page.Spec.AppRef != nil {
		if err := r.reconcileAppPage(ctx, page, obs); err != nil {
			return ctrl.Result{}, err
		}
	} else if obs.conflict == "" {
		if obs.appManaged, err = r.appManaged(ctx, page); err != nil {
			return ctrl.Result{}, err
		}
		if obs.appManaged == "" {
			obs.hostRefused = graphHostRefusal(page.Spec.GraphAPI.GetBaseURL(), r.GraphAPIHosts)
		}
		if obs.hostRefused != "" {
			if err := stopRefusedWebhook(ctx, r.objects(), page, specs.WebhookName(page.Name)); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	if page.Spec.AppRef == nil && obs.conflict == "" && obs.appManaged == "" && obs.hostRefused == "" {
		if err := r.resolve(ctx, page, obs); err != nil {
			return ctrl.Result{}, err
		}
		if obs.clash, err = clashOf(r.reconcileOwned(ctx, page, obs)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if page.Spec.AppRef == nil && obs.conflict == "" && obs.appManaged == "" && obs.hostRefused == "" && obs.clash == "" {
		r.reconcileSubscription(ctx, page, obs)
		r.reconcileProfile(ctx, page, obs)
		r.reconcileToken(ctx, page, obs)
	} else if page.Spec.AppRef != nil && obs.conflict == "" {
		r.reconcileProfile(ctx, page, obs)
		r.reconcileToken(ctx, page, obs)
	}
	if err := r.writeStatus(ctx, page, obs); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil // deleted meanwhile
		}
		return ctrl.Result{}, err
	}
	if page.Spec.AppRef != nil && obs.conflict == "" && servedNow(page) {
		if err := r.removeStandaloneObjects(ctx, page); err != nil {
			return ctrl.Result{}, err
		}
	}
	logf.FromContext(ctx).V(1).Info("reconciled", "generation", page.Generation)
	if obs.clash != "" {
		// The object in the way is not the operator's, so no watch sees it go: look again later.
		obs.requeueIn(clashRetry)
	}
	return ctrl.Result{RequeueAfter: obs.requeue}, nil
}

// reconcileOwned applies every owned object in dependency order: identity and permissions
// before the pods that use them, the Service before the Ingress that points at it.
func (r *MessengerPageReconciler) reconcileOwned(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) error {
	w := specs.Webhook{Page: page, DefaultImage: r.WebhookImage, GraphAPIHosts: graphHosts(r.GraphAPIHosts), StoreURLHash: obs.store.hash}
	if err := r.objects().ensure(ctx, page, "ServiceAccount", specs.ServiceAccount(w), &corev1.ServiceAccount{}); err != nil {
		return err
	}
	if err := r.reconcileVerifyToken(ctx, page, w, obs); err != nil {
		return err
	}
	w.VerifyTokenSecret = obs.verifyTokenSecret
	if err := r.objects().ensureAuditKey(ctx, page, w); err != nil {
		return err
	}
	if err := r.ensureRBAC(ctx, page, w, obs); err != nil {
		return err
	}
	if err := r.ensureDeployment(ctx, page, w, obs); err != nil {
		return err
	}
	if err := r.objects().ensure(ctx, page, "Service", specs.Service(w), &corev1.Service{}); err != nil {
		return err
	}
	if err := r.objects().reconcileOptional(ctx, page, w); err != nil {
		return err
	}
	var err error
	if obs.monitor, err = r.objects().reconcilePodMonitor(ctx, page, w, hasMonitoringCondition(page.Status.Conditions)); err != nil {
		return err
	}
	if obs.monitor.missingCRD {
		obs.requeueIn(r.gatewayAPIRecheck())
	}
	if err := r.reconcileIngress(ctx, page, w); err != nil {
		return err
	}
	if obs.route, err = r.webhookRoutes().reconcile(ctx, page, w); err != nil {
		return err
	}
	if obs.route.missingAPI {
		obs.requeueIn(r.gatewayAPIRecheck())
	}
	return nil
}

func (r *MessengerPageReconciler) webhookRoutes() webhookRoutes {
	return webhookRoutes{r.objects(), r.routes}
}

func (r *MessengerPageReconciler) gatewayAPIRecheck() time.Duration {
	return gatewayAPIRecheck(r.GatewayAPIRecheck)
}

func (r *MessengerPageReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
