package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// While pages join, an app's status is written for a new served count at most once per
// servedCountInterval; any other change is written at once, and the last count comes after the
// interval.
func TestAppServedCountWrites(t *testing.T) {
	scheme := apiScheme(t)
	var applies []string
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).Build(), interceptor.Funcs{
		SubResourceApply: func(_ context.Context, _ client.Client, sub string, _ runtime.ApplyConfiguration, _ ...client.SubResourceApplyOption) error {
			applies = append(applies, sub)
			return nil
		},
	})
	now := time.Unix(1000, 0)
	r := &MessengerAppReconciler{Client: c, Now: func() time.Time { return now }}
	app := &messengerv1alpha1.MessengerApp{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", Generation: 1},
		Spec: messengerv1alpha1.MessengerAppSpec{AppID: "1"}}
	served := func(n int) *appObservation {
		obs := &appObservation{replicas: 1, secret: appSecretState{found: true}}
		for i := range 3 {
			p := messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i), Generation: 1}}
			if i < n {
				p.Status.Conditions = []metav1.Condition{{Type: messengerv1alpha1.ConditionServed, Status: metav1.ConditionTrue,
					Reason: messengerv1alpha1.ReasonServing, ObservedGeneration: 1}}
			}
			obs.pages = append(obs.pages, p)
		}
		return obs
	}
	write := func(obs *appObservation) time.Duration {
		t.Helper()
		wait, err := r.writeStatus(context.Background(), app, obs)
		if err != nil {
			t.Fatal(err)
		}
		if wait == 0 {
			app.Status = r.desiredStatus(app, obs) // what the cache shows next
		}
		return wait
	}
	if wait := write(served(0)); wait != 0 || len(applies) != 1 {
		t.Fatalf("first status: wait %v, %d writes", wait, len(applies))
	}
	now = now.Add(500 * time.Millisecond)
	if wait := write(served(1)); wait != 1500*time.Millisecond || len(applies) != 1 {
		t.Fatalf("a new count 0.5s after a write: wait %v, %d writes", wait, len(applies))
	}
	now = now.Add(1500 * time.Millisecond)
	if wait := write(served(2)); wait != 0 || len(applies) != 2 || app.Status.Pages != 2 {
		t.Fatalf("a new count after the interval: wait %v, %d writes, pages %d", wait, len(applies), app.Status.Pages)
	}
	now = now.Add(100 * time.Millisecond)
	stalled := served(2)
	stalled.secret.found = false
	if wait := write(stalled); wait != 0 || len(applies) != 3 {
		t.Fatalf("a stall right after a write: wait %v, %d writes", wait, len(applies))
	}
}

// apiScheme is a scheme of this API's types, for fake clients.
func apiScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := messengerv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}
