package health

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/controllers"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// kstatus (what Flux and kubectl-adjacent tools use) sees a HandoverPolicy as InProgress until the
// operator has seen it, then Current, and Failed while it is invalid.
func TestKstatusOfHandoverPolicy(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	policy := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}
	if err := env.Client.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	// No controller yet: a fresh object must not look Current.
	if got := kstatus(t, env.Client, policy); got != status.InProgressStatus {
		t.Fatalf("before any reconcile: %s, want InProgress", got)
	}

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.HandoverPolicyReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	waitKstatus(t, env.Client, policy, status.CurrentStatus)

	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(policy), policy); err != nil {
		t.Fatal(err)
	}
	policy.Spec.TakeBack.Triggers.Patterns = []string{"(bad"}
	if err := env.Client.Update(ctx, policy); err != nil {
		t.Fatal(err)
	}
	waitKstatus(t, env.Client, policy, status.FailedStatus)
}

func kstatus(t *testing.T, c client.Client, obj client.Object) status.Status {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(messengerv1alpha1.GroupVersion.WithKind("HandoverPolicy"))
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), u); err != nil {
		t.Fatal(err)
	}
	res, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return res.Status
}

func waitKstatus(t *testing.T, c client.Client, obj client.Object, want status.Status) {
	t.Helper()
	var got status.Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = kstatus(t, c, obj); got == want {
			return
		}
	}
	t.Fatalf("kstatus = %s, want %s", got, want)
}
