package controllers

import (
	"context"
	"encoding/json"
	"errors"
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

// nameClash is an object in the way: it has the name of one the page (or app) should own, but
// it does not control it. The operator never takes it over (it could be the user's own Secret).
type nameClash struct {
	kind, name, owner string
}

func (e *nameClash) Error() string {
	return fmt.Sprintf("%s %q already exists and is not managed by this %s; delete or rename it", e.kind, e.name, e.owner)
}

// clashOf splits the error of applying owned objects: a nameClash is reported in the status
// (its message), anything else is returned for a retry.
func clashOf(err error) (string, error) {
	var clash *nameClash
	if errors.As(err, &clash) {
		return clash.Error(), nil
	}
	return "", err
}

// ownedObjects applies, reads and deletes the objects a page or an app owns: the same code for
// both reconcilers.
type ownedObjects struct {
	client.Client
	// APIReader reads an owned object missing from the cache, before taking its name.
	APIReader client.Reader
}

func (r *MessengerPageReconciler) objects() ownedObjects { return ownedObjects{r.Client, r.APIReader} }

// ownerKind names the kind of an owner in messages.
func ownerKind(owner client.Object) string {
	if _, ok := owner.(*messengerv1alpha1.MessengerApp); ok {
		return "MessengerApp"
	}
	return "MessengerPage"
}

// lookup reads an owned object into obj: from the cache, which holds only objects labelled as
// the operator's, else from the API server (a label removed by hand, or a name taken by someone
// else). It reports whether the object exists, and a nameClash when owner does not control it.
func (r ownedObjects) lookup(ctx context.Context, owner client.Object, kind, name string, obj client.Object) (bool, error) {
	key := types.NamespacedName{Namespace: owner.GetNamespace(), Name: name}
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, obj)
	}
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	case !metav1.IsControlledBy(obj, owner):
		return true, &nameClash{kind: kind, name: name, owner: ownerKind(owner)}
	}
	return true, nil
}

// ensure applies desired (an apply configuration from internal/specs) unless current, read
// by lookup, already holds it; current is left holding the object as it now is in the cluster.
// Steady state thus costs no request at all.
func (r ownedObjects) ensure(ctx context.Context, owner client.Object, kind string, desired runtime.ApplyConfiguration, current client.Object) error {
	name := *desiredName(desired)
	found, err := r.lookup(ctx, owner, kind, name, current)
	if err != nil {
		return err
	}
	return r.applyIfChanged(ctx, kind, desired, current, found)
}

func (r ownedObjects) applyIfChanged(ctx context.Context, kind string, desired runtime.ApplyConfiguration, current client.Object, found bool) error {
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

// deleteOwned deletes an owned object the owner no longer needs, if the cache holds it.
func (r ownedObjects) deleteOwned(ctx context.Context, owner client.Object, kind, name string, obj client.Object) error {
	err := r.Get(ctx, types.NamespacedName{Namespace: owner.GetNamespace(), Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !metav1.IsControlledBy(obj, owner) {
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
