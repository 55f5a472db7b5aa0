package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// While pages join, a policy's new pages count is written at most once per servedCountInterval
// (the reconcile asks to come back when it is due); a change of its validity at once.
func TestPolicyCountWrites(t *testing.T) {
	scheme := apiScheme(t)
	policy := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: "ns", Generation: 1}}
	patches := 0
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(policy).
		WithStatusSubresource(policy).
		WithIndex(&messengerv1alpha1.MessengerPage{}, IndexPolicyRef, func(o client.Object) []string {
			return []string{o.(*messengerv1alpha1.MessengerPage).Spec.PolicyRef.Name}
		}).Build(), interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			patches++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	now := time.Unix(1000, 0)
	r := &HandoverPolicyReconciler{Client: c, Scheme: scheme, Now: func() time.Time { return now }}
	pages := 0
	addPage := func() {
		t.Helper()
		pages++
		p := &messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", pages), Namespace: "ns"},
			Spec: messengerv1alpha1.MessengerPageSpec{PolicyRef: messengerv1alpha1.LocalReference{Name: "support"}}}
		if err := c.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	reconcile := func() time.Duration {
		t.Helper()
		res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(policy)})
		if err != nil {
			t.Fatal(err)
		}
		return res.RequeueAfter
	}
	count := func() int32 {
		t.Helper()
		got := &messengerv1alpha1.HandoverPolicy{}
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(policy), got); err != nil {
			t.Fatal(err)
		}
		return got.Status.Pages
	}

	addPage()
	if wait := reconcile(); wait != 0 || patches != 1 || count() != 1 {
		t.Fatalf("first status: wait %v, %d patches, pages %d", wait, patches, count())
	}
	now = now.Add(500 * time.Millisecond)
	addPage()
	if wait := reconcile(); wait != 1500*time.Millisecond || patches != 1 || count() != 1 {
		t.Fatalf("a new count 0.5s after a write: wait %v, %d patches, pages %d", wait, patches, count())
	}
	now = now.Add(1500 * time.Millisecond)
	if wait := reconcile(); wait != 0 || patches != 2 || count() != 2 {
		t.Fatalf("the count when due: wait %v, %d patches, pages %d", wait, patches, count())
	}
	// An invalid policy is news: written at once.
	now = now.Add(100 * time.Millisecond)
	got := &messengerv1alpha1.HandoverPolicy{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(policy), got); err != nil {
		t.Fatal(err)
	}
	got.Spec.BusinessHours = &messengerv1alpha1.BusinessHours{TimeZone: "Nowhere/Atlantis"}
	got.Generation = 2
	if err := c.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	if wait := reconcile(); wait != 0 || patches != 3 {
		t.Fatalf("an invalid policy right after a write: wait %v, %d patches", wait, patches)
	}
}
