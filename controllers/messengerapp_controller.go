package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// MessengerAppReconciler runs one webhook per MessengerApp, serving every page whose spec.appRef
// names the app: it owns the webhook's ServiceAccount, Role, RoleBinding, Deployment, Service,
// Ingress and, when the app's Secret has no verify token, a Secret with a generated one. The
// Role's Secrets and page statuses follow the app's pages as they join and leave. With
// spec.httpRoute it owns the webhook's HTTPRoute too, once the Gateway API is installed.
type MessengerAppReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// GatewayAPIRecheck is how often an app asking for an HTTPRoute looks again for the Gateway
	// API CRDs; 5m when zero.
	GatewayAPIRecheck time.Duration
	routes            *gatewayRoutes
	// APIReader reads the data of the user's Secrets (userSecrets keeps what it read) and owned
	// objects missing from the cache.
	APIReader client.Reader
	// secrets reads the user's Secrets (userSecrets), shared with the page controller.
	secrets *secretReader
	// Recorder emits events on status transitions; nil emits none.
	Recorder events.EventRecorder
	// WebhookImage is the image of the webhook pods unless an app sets spec.webhook.image.
	WebhookImage string
	// MaxConcurrentReconciles, default 1.
	MaxConcurrentReconciles int
	// Namespaces limits the watch of Secret metadata as for MessengerPageReconciler.
	Namespaces []string
	// ClaimBindings are the admin's bindings of appIDs to namespaces; nil binds none.
	ClaimBindings ClaimBindings
	// GraphAPIHosts are the hosts an app's spec.graphAPI.baseURL may name, as for pages.
	GraphAPIHosts []string
	// Now is the clock of condition transitions and callback checks; time.Now when nil.
	Now func() time.Time
	// SubscriptionRecheck is how often the callback is checked at Meta when the app does not
	// set recheckInterval; 10m when zero.
	SubscriptionRecheck time.Duration
	// PageBatch is how long the app waits after a change of one of its pages before its
	// reconcile, so that pages changing together cost one; 200ms when zero.
	PageBatch time.Duration
	// graph runs the callback checks off the reconcile workers.
	graph *graphWork[callbackResult]
	// statusWritten holds, by app, when this process last wrote its status (servedCountInterval).
	statusWritten sync.Map
}

// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerapps/status,verbs=get;patch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerapps/finalizers,verbs=update
// The app's webhook Role grants these, so the manager must hold them (RBAC escalation prevention).
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=messengerpages/status,verbs=get;patch

// appObservation is what one reconcile of an app learnt.
type appObservation struct {
	conflict   string // another app claims the appID: Stalled, nothing applied
	clash      string // an object in the way of one the app should own
	secret     appSecretState
	store      storeURLState // the Redis store's URL, with spec.webhook.store.redis
	pages      []messengerv1alpha1.MessengerPage
	token      tokenInUse
	deployment *appsv1.Deployment
	replicas   int32
	route      routeState
	monitor    monitorState
	callback   *callbackResult // nil without spec.subscription.registerCallback
	// hostRefused: the app's Graph API host is not allowed; Stalled, nothing applied or called
	hostRefused string
}

// appSecretState is what the operator knows of the app's Secret, never its values but the
// verify token's (kept in memory for the callback registration, never logged).
type appSecretState struct {
	found       bool
	missing     string
	verifyToken []byte
	// appSecret and appToken, for registering the callback; never logged.
	appSecret, appToken []byte
}

// Reconcile brings one app's webhook objects and status to what its spec, its Secret and its
// pages say. Missing references are recorded in the status and waited for; only API errors are
// returned.
func (r *MessengerAppReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	app := &messengerv1alpha1.MessengerApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.graph.forget(req.NamespacedName)
			r.statusWritten.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references: the garbage collector removes the rest
	}
	obs := &appObservation{}
	var err error
	var requeue time.Duration
	if obs.conflict, err = r.appClaim(ctx, app); err != nil {
		return ctrl.Result{}, err
	}
	if obs.conflict == "" {
		obs.hostRefused = graphHostRefusal(app.Spec.GraphAPI.GetBaseURL(), r.GraphAPIHosts)
	}
	if obs.hostRefused != "" {
		if err := stopRefusedWebhook(ctx, r.objects(), app, specs.AppWebhookName(app.Name)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if obs.conflict == "" && obs.hostRefused == "" {
		if err := r.resolve(ctx, app, obs); err != nil {
			return ctrl.Result{}, err
		}
		if obs.clash, err = clashOf(r.reconcileOwned(ctx, app, obs)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if obs.conflict == "" && obs.hostRefused == "" && obs.clash == "" {
		requeue = r.reconcileCallback(ctx, app, obs)
	}
	if (obs.route.missingAPI || obs.monitor.missingCRD) && (requeue == 0 || r.gatewayAPIRecheck() < requeue) {
		requeue = r.gatewayAPIRecheck()
	}
	wait, err := r.writeStatus(ctx, app, obs)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if wait > 0 && (requeue == 0 || wait < requeue) {
		requeue = wait
	}
	logf.FromContext(ctx).V(1).Info("reconciled", "generation", app.Generation)
	if obs.clash != "" {
		return ctrl.Result{RequeueAfter: clashRetry}, nil
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// resolve reads the app's Secret (userSecrets: from the API server, or as last read while its
// resourceVersion is unchanged) and the app's pages (from the cache).
func (r *MessengerAppReconciler) resolve(ctx context.Context, app *messengerv1alpha1.MessengerApp, obs *appObservation) error {
	ref := app.Spec.SecretRef
	secret := &corev1.Secret{}
	err := r.userSecrets().Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("reading Secret %q: %w", ref.Name, err)
	default:
		obs.secret.found = true
		if len(secret.Data[ref.GetAppSecretKey()]) == 0 {
			obs.secret.missing = fmt.Sprintf("Secret %q has no key %q; add it or set spec.secretRef.appSecretKey", ref.Name, ref.GetAppSecretKey())
		}
		obs.secret.verifyToken = secret.Data[ref.GetVerifyTokenKey()]
		obs.secret.appSecret = secret.Data[ref.GetAppSecretKey()]
		obs.secret.appToken = secret.Data[ref.GetAppAccessTokenKey()]
	}
	if obs.store, err = readStoreURL(ctx, r.userSecrets(), app.Namespace, &app.Spec.Webhook); err != nil {
		return err
	}
	if obs.store.missing != "" && obs.secret.missing == "" {
		obs.secret.missing = obs.store.missing
	}
	var pages messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &pages, client.InNamespace(app.Namespace), client.MatchingFields{IndexAppRef: app.Name}); err != nil {
		return err
	}
	for _, p := range pages.Items {
		if p.DeletionTimestamp.IsZero() {
			obs.pages = append(obs.pages, p)
		}
	}
	return nil
}

// userSecrets reads the user's Secrets: the manager's secretReader (SetupWithManager), else the
// API server.
func (r *MessengerAppReconciler) userSecrets() client.Reader {
	if r.secrets != nil {
		return r.secrets
	}
	return r.APIReader
}

func (r *MessengerAppReconciler) objects() ownedObjects { return ownedObjects{r.Client, r.APIReader} }

// reconcileOwned applies every owned object in dependency order, as for a page: the Service
// before the Ingress and HTTPRoute that point at it.
func (r *MessengerAppReconciler) reconcileOwned(ctx context.Context, app *messengerv1alpha1.MessengerApp, obs *appObservation) error {
	o := r.objects()
	w := specs.Webhook{App: app, DefaultImage: r.WebhookImage, GraphAPIHosts: graphHosts(r.GraphAPIHosts), StoreURLHash: obs.store.hash}
	if err := o.ensure(ctx, app, "ServiceAccount", specs.ServiceAccount(w), &corev1.ServiceAccount{}); err != nil {
		return err
	}
	src := tokenSource{found: obs.secret.found, secret: app.Spec.SecretRef.Name, token: obs.secret.verifyToken,
		inStatus: app.Status.VerifyTokenSecret, generated: w.VerifyTokenSecretName()}
	var err error
	if obs.token, err = o.reconcileVerifyToken(ctx, app, w, src, r.Recorder); err != nil {
		return err
	}
	w.VerifyTokenSecret = obs.token.secret
	if err := o.ensureAuditKey(ctx, app, w); err != nil {
		return err
	}
	names, secrets := appGrants(app, obs)
	if err := o.ensure(ctx, app, "Role", specs.AppRole(w, names, secrets...), &rbacv1.Role{}); err != nil {
		return err
	}
	if err := o.ensure(ctx, app, "RoleBinding", specs.RoleBinding(w), &rbacv1.RoleBinding{}); err != nil {
		return err
	}
	d := &appsv1.Deployment{}
	if err := o.ensure(ctx, app, "Deployment", specs.Deployment(w), d); err != nil {
		return err
	}
	obs.deployment, obs.replicas = d, w.Replicas()
	if err := o.ensure(ctx, app, "Service", specs.Service(w), &corev1.Service{}); err != nil {
		return err
	}
	if err := o.reconcileOptional(ctx, app, w); err != nil {
		return err
	}
	if obs.monitor, err = o.reconcilePodMonitor(ctx, app, w, hasMonitoringCondition(app.Status.Conditions)); err != nil {
		return err
	}
	if in := specs.Ingress(w); in != nil {
		err = o.ensure(ctx, app, "Ingress", in, &networkingv1.Ingress{})
	} else {
		err = o.deleteOwned(ctx, app, "Ingress", w.Name(), &networkingv1.Ingress{})
	}
	if err != nil {
		return err
	}
	obs.route, err = webhookRoutes{o, r.routes}.reconcile(ctx, app, w)
	return err
}

func (r *MessengerAppReconciler) gatewayAPIRecheck() time.Duration {
	return gatewayAPIRecheck(r.GatewayAPIRecheck)
}

// appGrants are what the app's webhook may touch by name: the status of its pages, and the
// Secrets it reads (the app's, the generated verify token's when in use, each page's).
func appGrants(app *messengerv1alpha1.MessengerApp, obs *appObservation) (pages, secrets []string) {
	secrets = []string{app.Spec.SecretRef.Name}
	if obs.token.secret != "" {
		secrets = append(secrets, obs.token.secret)
	}
	for _, p := range obs.pages {
		pages = append(pages, p.Name)
		secrets = append(secrets, p.Spec.SecretRef.Name)
	}
	return pages, secrets
}

func (r *MessengerAppReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
