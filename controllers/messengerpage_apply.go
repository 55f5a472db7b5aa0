package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// nameClash is an object in the way: it has the name of one the page should own, but the page
// does not control it. The operator never takes it over (it could be the user's own Secret).
type nameClash struct {
	kind, name string
}

func (e *nameClash) Error() string {
	return fmt.Sprintf("%s %q already exists and is not managed by this MessengerPage; delete or rename it", e.kind, e.name)
}

// lookup reads an owned object into obj: from the cache, which holds only objects labelled as
// the operator's, else from the API server (a label removed by hand, or a name taken by someone
// else). It reports whether the object exists, and a nameClash when the page does not control it.
func (r *MessengerPageReconciler) lookup(ctx context.Context, page *messengerv1alpha1.MessengerPage, kind, name string, obj client.Object) (bool, error) {
	key := types.NamespacedName{Namespace: page.Namespace, Name: name}
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, obj)
	}
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	case !metav1.IsControlledBy(obj, page):
		return true, &nameClash{kind: kind, name: name}
	}
	return true, nil
}

// ensure applies desired (an apply configuration from internal/specs) unless current, read
// by lookup, already holds it; current is left holding the object as it now is in the cluster.
// Steady state thus costs no request at all.
func (r *MessengerPageReconciler) ensure(ctx context.Context, page *messengerv1alpha1.MessengerPage, kind string, desired runtime.ApplyConfiguration, current client.Object) error {
	name := *desiredName(desired)
	found, err := r.lookup(ctx, page, kind, name, current)
	if err != nil {
		return err
	}
	return r.applyIfChanged(ctx, kind, desired, current, found)
}

func (r *MessengerPageReconciler) applyIfChanged(ctx context.Context, kind string, desired runtime.ApplyConfiguration, current client.Object, found bool) error {
	if found {
		ok, err := specs.UpToDate(desired, current)
		if err != nil || ok {
			return err
		}
	}
	if err := r.Apply(ctx, desired, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %q: %w", kind, *desiredName(desired), err)
	}
	logf.FromContext(ctx).Info("applied", "kind", kind, "name", *desiredName(desired), "created", !found)
	// The apply answered with the object as stored (into desired); current reflects it from
	// now on, nothing left over from the stale copy.
	b, err := json.Marshal(desired)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(current).Elem()
	v.Set(reflect.Zero(v.Type()))
	return json.Unmarshal(b, current)
}

// deleteOwned deletes an owned object the page no longer needs, if the cache holds it.
func (r *MessengerPageReconciler) deleteOwned(ctx context.Context, page *messengerv1alpha1.MessengerPage, kind, name string, obj client.Object) error {
	err := r.Get(ctx, types.NamespacedName{Namespace: page.Namespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !metav1.IsControlledBy(obj, page) {
		return nil
	}
	uid := obj.GetUID()
	if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %s %q: %w", kind, name, err)
	}
	logf.FromContext(ctx).Info("deleted", "kind", kind, "name", name)
	return nil
}

// desiredName reads the name of an apply configuration made by internal/specs.
func desiredName(ac runtime.ApplyConfiguration) *string {
	if n, ok := ac.(interface{ GetName() *string }); ok {
		return n.GetName()
	}
	panic(fmt.Sprintf("%T has no name", ac))
}
