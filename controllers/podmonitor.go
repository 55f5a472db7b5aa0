package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors,verbs=get;create;patch;delete

// monitorState is what a reconcile learnt of the webhook's PodMonitor.
type monitorState struct {
	missingCRD bool   // asked for, and the PodMonitor CRD is not installed
	applied    string // the PodMonitor's name, once in place
}

// reconcilePodMonitor applies the PodMonitor of the owner's spec.monitoring.podMonitor, or
// deletes the one the operator made once it is no longer asked for (had: the owner's status
// still reports one, so a PodMonitor may exist). The CRD is looked up through the REST mapper,
// which asks the API server again while the kind is missing: a CRD installed later is found at
// the next look (the caller comes back every Gateway API recheck). No informer watches
// PodMonitors (the CRD may be absent at start): a hand edit is put back at the owner's next
// reconcile.
func (r ownedObjects) reconcilePodMonitor(ctx context.Context, owner client.Object, w specs.Webhook, had bool) (monitorState, error) {
	var st monitorState
	desired := specs.PodMonitor(w)
	if desired == nil && !had {
		return st, nil
	}
	served, err := kindServed(r.RESTMapper(), specs.PodMonitorGVK)
	if err != nil {
		return st, err
	}
	if !served {
		st.missingCRD = desired != nil
		return st, nil
	}
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(specs.PodMonitorGVK)
	err = r.APIReader.Get(ctx, types.NamespacedName{Namespace: w.Namespace(), Name: w.Name()}, current)
	found := err == nil
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return st, fmt.Errorf("reading PodMonitor %q: %w", w.Name(), err)
	case !metav1.IsControlledBy(current, owner):
		if desired != nil {
			return st, &nameClash{kind: "PodMonitor", name: w.Name(), owner: ownerKind(owner)}
		}
		return st, nil // not ours to delete
	}
	if desired == nil {
		if !found {
			return st, nil
		}
		uid := current.GetUID()
		if err := r.Delete(ctx, current, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return st, fmt.Errorf("deleting PodMonitor %q: %w", w.Name(), err)
		}
		logf.FromContext(ctx).Info("deleted", "kind", "PodMonitor", "name", w.Name())
		return st, nil
	}
	st.applied = w.Name()
	if found {
		if ok, err := specs.UpToDate(desired.Object, current.Object); err != nil || ok {
			return st, err
		}
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return st, fmt.Errorf("applying PodMonitor %q: %w", w.Name(), err)
	}
	logf.FromContext(ctx).Info("applied", "kind", "PodMonitor", "name", w.Name(), "created", !found)
	return st, nil
}

// kindServed asks the REST mapper whether the API server serves gvk; a missing group or
// version is no error.
func kindServed(mapper apimeta.RESTMapper, gvk schema.GroupVersionKind) (bool, error) {
	_, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil {
		return true, nil
	}
	if apimeta.IsNoMatchError(err) {
		return false, nil
	}
	var failed *apiutil.ErrResourceDiscoveryFailed
	if errors.As(err, &failed) {
		for _, e := range *failed {
			if !apimeta.IsNoMatchError(e) && !apierrors.IsNotFound(e) {
				return false, err
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("looking up %s: %w", gvk.GroupKind(), err)
}

// hasMonitoringCondition reports whether conds report a PodMonitor (made, or asked for).
func hasMonitoringCondition(conds []metav1.Condition) bool {
	return apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionMonitoring) != nil
}

// monitorCondition is the Monitoring condition of an owner with spec.monitoring.podMonitor.
func monitorCondition(m *messengerv1alpha1.MonitoringSpec, st monitorState, recheck time.Duration) (metav1.ConditionStatus, string, string, bool) {
	if !m.WantsPodMonitor() {
		return "", "", "", false
	}
	if st.missingCRD {
		return metav1.ConditionFalse, messengerv1alpha1.ReasonPodMonitorCRDMissing, fmt.Sprintf(
			"spec.monitoring.podMonitor asks for a PodMonitor, but its CRD (%s %s, from the Prometheus Operator) is not installed: none is made; install it and the operator makes it within %s; the metrics stay on the Service's port %q",
			specs.PodMonitorGVK.Kind, specs.PodMonitorGVK.GroupVersion(), recheck, specs.MetricsPortName), true
	}
	if st.applied != "" {
		return metav1.ConditionTrue, messengerv1alpha1.ReasonPodMonitorApplied, fmt.Sprintf(
			"PodMonitor %q scrapes the webhook's pods (port %q, /metrics)", st.applied, "probes"), true
	}
	return "", "", "", false
}
