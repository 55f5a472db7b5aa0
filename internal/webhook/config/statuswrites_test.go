package config

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// TestStatusWritesDoNotWakeTheSource: the writes of a page's status (the operator's, the
// webhook's own Served) change nothing the webhook reads, so they do not wake its source (each
// wake-up rebuilds the app's whole configuration); a change of the spec, or of a label, does.
func TestStatusWritesDoNotWakeTheSource(t *testing.T) {
	e := cluster(t)
	ctx := context.Background()
	const ns = "statuswrites"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	page := &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
		Spec: v1alpha1.MessengerPageSpec{PageID: "1000000000000001", AppRef: &v1alpha1.LocalReference{Name: "shop"},
			SecretRef: v1alpha1.SecretReference{Name: "p-creds"}, PolicyRef: v1alpha1.LocalReference{Name: "support"},
			GraphAPI: v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)}}}
	must(e.Client.Create(ctx, page))

	var changes atomic.Int32
	w, err := NewWatcher(e.Config, ns, func() { changes.Add(1) })
	must(err)
	s, err := w.watch(ctx, &v1alpha1.MessengerPage{}, fields.Everything())
	must(err)
	defer s.stop()
	// The page's add and the cache's sync.
	eventually(t, "the page added and the cache synced", func() bool { return s.synced() && changes.Load() == 2 })

	for i, reason := range []string{"Loading", "Serving", "Serving"} {
		must(e.Client.Get(ctx, client.ObjectKeyFromObject(page), page))
		page.Status.ObservedGeneration = page.Generation
		page.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionServed, Status: metav1.ConditionTrue, Reason: reason,
			Message: string(rune('a' + i)), ObservedGeneration: page.Generation, LastTransitionTime: metav1.Now()}}
		must(e.Client.Status().Update(ctx, page))
	}
	// The watch delivers in order: once the label's change is seen, so were the status writes.
	must(e.Client.Get(ctx, client.ObjectKeyFromObject(page), page))
	page.Labels = map[string]string{"team": "support"}
	must(e.Client.Update(ctx, page))
	eventually(t, "the label's change", func() bool { return changes.Load() >= 3 })
	must(e.Client.Get(ctx, client.ObjectKeyFromObject(page), page))
	page.Spec.BusinessName = "Shop"
	must(e.Client.Update(ctx, page))
	eventually(t, "the spec's change", func() bool { return changes.Load() >= 4 })
	if n := changes.Load(); n != 4 {
		t.Fatalf("%d wake-ups, want 4: the add, the sync, the label, the spec (none for the 3 status writes)", n)
	}
}
