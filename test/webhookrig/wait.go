package webhookrig

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Must fails the test on an error.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Eventually polls cond until it holds, failing the test after a deadline (generous: two cores
// are shared by the parallel test packages).
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, 60*time.Second, what, cond)
}

// EventuallyWithin is Eventually with its own deadline.
func EventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Status makes Update write the status subresource.
const Status = true

// Update reads obj, edits it and writes it back, retrying on conflicts.
func Update[T client.Object](t *testing.T, obj T, key types.NamespacedName, edit func(T), statusOnly ...bool) {
	t.Helper()
	ctx := context.Background()
	Eventually(t, "an update of "+key.String(), func() bool {
		Must(t, Env.Client.Get(ctx, key, obj))
		edit(obj)
		var err error
		if len(statusOnly) > 0 && statusOnly[0] {
			err = Env.Client.Status().Update(ctx, obj)
		} else {
			err = Env.Client.Update(ctx, obj)
		}
		if err != nil && !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
		return err == nil
	})
}

// UpdateSecret edits the Secret SecretName of namespace ns.
func UpdateSecret(t *testing.T, ns string, edit func(*corev1.Secret)) {
	t.Helper()
	Update(t, &corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: SecretName}, edit)
}

// WaitCondition waits until the page's GraphAuthorized condition has the status and reason,
// and returns it.
func WaitCondition(t *testing.T, key types.NamespacedName, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	Eventually(t, fmt.Sprintf("GraphAuthorized=%s (%s) on %s", want, reason, key), func() bool {
		cond = meta.FindStatusCondition(GetPage(t, key).Status.Conditions, v1alpha1.ConditionGraphAuthorized)
		return cond != nil && cond.Status == want && cond.Reason == reason
	})
	return *cond
}
