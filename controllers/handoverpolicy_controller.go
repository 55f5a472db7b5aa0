package controllers

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// HandoverPolicyReconciler reports whether a policy is usable (the API's Validate: what CEL cannot
// check, such as patterns, their cost and the time zone) and how many pages use it. The webhook
// compiles and runs the policy.
type HandoverPolicyReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Now is the clock of the writes of the pages count; time.Now when nil.
	Now func() time.Time
	// written holds, by policy, when this process last wrote its status (servedCountInterval).
	written sync.Map
}

// +kubebuilder:rbac:groups=messenger.handover.dev,resources=handoverpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=messenger.handover.dev,resources=handoverpolicies/status,verbs=get;update;patch

// Reconcile checks one policy and writes its status when something changed.
func (r *HandoverPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var policy messengerv1alpha1.HandoverPolicy
	if err := r.Get(ctx, req.NamespacedName, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var pages messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &pages, client.InNamespace(policy.Namespace),
		client.MatchingFields{IndexPolicyRef: policy.Name}); err != nil {
		return ctrl.Result{}, err
	}

	base := policy.DeepCopy()
	before := &base.Status
	policy.Status.ObservedGeneration = policy.Generation
	policy.Status.Pages = int32(len(pages.Items))
	now := metav1.Now()
	// kstatus: a policy that cannot be fixed by waiting is Stalled, and Ready says why.
	if errs := policy.Spec.Validate(); len(errs) > 0 {
		messengerv1alpha1.SetCondition(&policy.Status.Conditions, metav1.Condition{
			Type: messengerv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: errs.Reason(),
			Message: errs.Error(), ObservedGeneration: policy.Generation, LastTransitionTime: now,
		})
	} else {
		apimeta.RemoveStatusCondition(&policy.Status.Conditions, messengerv1alpha1.ConditionStalled)
	}
	messengerv1alpha1.SetCondition(&policy.Status.Conditions, messengerv1alpha1.HandoverPolicyConditions.SummarizeReady(
		policy.Status.Conditions, metav1.Condition{Reason: messengerv1alpha1.ReasonValid, Message: "policy is valid",
			ObservedGeneration: policy.Generation, LastTransitionTime: now}))

	if statusEqual(before, &policy.Status) {
		return ctrl.Result{}, nil
	}
	at := r.now()
	if last, ok := r.written.Load(req.NamespacedName); ok {
		// While pages join, a new count alone is written at most every servedCountInterval, as
		// for apps: nothing waits on it.
		countOnly := *before
		countOnly.Pages = policy.Status.Pages
		if d := servedCountInterval - at.Sub(last.(time.Time)); d > 0 && statusEqual(&countOnly, &policy.Status) {
			return ctrl.Result{RequeueAfter: d}, nil
		}
	}
	// The patch holds only the status fields that changed: no resourceVersion, so no conflict
	// with a newer object in the cache.
	patch := client.MergeFrom(base)
	if err := r.Status().Patch(ctx, &policy, patch); err != nil {
		return ctrl.Result{}, err
	}
	r.written.Store(req.NamespacedName, at)
	return ctrl.Result{}, nil
}

func (r *HandoverPolicyReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// statusEqual compares everything but the conditions' transition times, which SetStatusCondition
// keeps stable anyway.
func statusEqual(a, b *messengerv1alpha1.HandoverPolicyStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || a.Pages != b.Pages || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for _, c := range a.Conditions {
		d := apimeta.FindStatusCondition(b.Conditions, c.Type)
		if d == nil || d.Status != c.Status || d.Reason != c.Reason || d.Message != c.Message ||
			d.ObservedGeneration != c.ObservedGeneration {
			return false
		}
	}
	return true
}

// SetupWithManager watches policies, and pages to count them. It needs SetupIndexes.
func (r *HandoverPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&messengerv1alpha1.HandoverPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&messengerv1alpha1.MessengerPage{}, pagePolicyHandler{}).
		Named("handoverpolicy").
		Complete(r)
}

// pagePolicyHandler enqueues the policy a page uses, and on an edit of policyRef the old one too,
// so both counts stay right.
type pagePolicyHandler struct{}

var _ handler.EventHandler = pagePolicyHandler{}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func enqueuePolicy(q queue, o client.Object) {
	p, ok := o.(*messengerv1alpha1.MessengerPage)
	if !ok || p.Spec.PolicyRef.Name == "" {
		return
	}
	q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.PolicyRef.Name}})
}

func (pagePolicyHandler) Create(_ context.Context, e event.CreateEvent, q queue) {
	enqueuePolicy(q, e.Object)
}
func (pagePolicyHandler) Update(_ context.Context, e event.UpdateEvent, q queue) {
	enqueuePolicy(q, e.ObjectOld)
	enqueuePolicy(q, e.ObjectNew)
}
func (pagePolicyHandler) Delete(_ context.Context, e event.DeleteEvent, q queue) {
	enqueuePolicy(q, e.Object)
}
func (pagePolicyHandler) Generic(_ context.Context, e event.GenericEvent, q queue) {
	enqueuePolicy(q, e.Object)
}
