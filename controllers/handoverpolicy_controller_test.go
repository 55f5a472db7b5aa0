package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/controllers"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// The policy reconciler reports what CEL cannot check (a bad pattern, a bad time zone), recovers
// when the policy is fixed, and counts the pages that use the policy.
func TestPolicyReconciler(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := controllers.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.HandoverPolicyReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	c := env.Client

	waitReady := func(name string, status metav1.ConditionStatus, reason string, pages int32, msg string) {
		t.Helper()
		var last messengerv1alpha1.HandoverPolicy
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &last); err == nil {
				r := apimeta.FindStatusCondition(last.Status.Conditions, messengerv1alpha1.ConditionReady)
				if r != nil && r.Status == status && r.Reason == reason && last.Status.Pages == pages &&
					last.Status.ObservedGeneration == last.Generation && r.ObservedGeneration == last.Generation &&
					strings.Contains(r.Message, msg) {
					stalled := apimeta.IsStatusConditionTrue(last.Status.Conditions, messengerv1alpha1.ConditionStalled)
					if stalled != (status == metav1.ConditionFalse) {
						t.Fatalf("Stalled=%v with Ready=%s", stalled, status)
					}
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("policy %s: want Ready=%s/%s pages=%d message~%q, have %+v", name, status, reason, pages, msg, last.Status)
	}

	bad := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"}}
	bad.Spec.Handoff.Triggers.Patterns = []string{`order\s+#\d+`, `(unclosed`}
	bad.Spec.BusinessHours = &messengerv1alpha1.BusinessHours{
		TimeZone: "Mars/Olympus_Mons",
		Windows:  []messengerv1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}},
	}
	if err := c.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	waitReady("bad", metav1.ConditionFalse, messengerv1alpha1.ReasonInvalidPattern, 0, "spec.handoff.triggers.patterns[1]")
	waitReady("bad", metav1.ConditionFalse, messengerv1alpha1.ReasonInvalidPattern, 0, `unknown time zone "Mars/Olympus_Mons"`)

	// Fix the pattern: the time zone is still wrong.
	update(t, c, bad, func() { bad.Spec.Handoff.Triggers.Patterns = []string{`order\s+#\d+`} })
	waitReady("bad", metav1.ConditionFalse, messengerv1alpha1.ReasonInvalidTimeZone, 0, "spec.businessHours.timeZone")

	// Fix the zone: Ready.
	update(t, c, bad, func() { bad.Spec.BusinessHours.TimeZone = "America/Sao_Paulo" })
	waitReady("bad", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 0, "valid")

	// Pages that use it are counted, and moving a page to another policy updates both counts.
	good := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "good", Namespace: "default"}}
	if err := c.Create(ctx, good); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"page-a", "page-b"} {
		p := &messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
		p.Spec.PageID = []string{"1001", "1002"}[i]
		p.Spec.AppID = "42"
		p.Spec.SecretRef.Name = "creds"
		p.Spec.PolicyRef.Name = "good"
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waitReady("good", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 2, "")
	moved := &messengerv1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: "page-b", Namespace: "default"}}
	update(t, c, moved, func() { moved.Spec.PolicyRef.Name = "bad" })
	waitReady("good", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 1, "")
	waitReady("bad", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 1, "")
	if err := c.Delete(ctx, moved); err != nil {
		t.Fatal(err)
	}
	waitReady("bad", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 0, "")

	// 64 long patterns that do not compile: the joined message (over 32 KiB, which the API server
	// refuses) is capped, so the status is written and says what is wrong.
	long := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "long", Namespace: "default"}}
	for i := range 32 {
		p := fmt.Sprintf("(%02d", i) + strings.Repeat("x", 509)
		long.Spec.Handoff.Triggers.Patterns = append(long.Spec.Handoff.Triggers.Patterns, p)
		long.Spec.TakeBack.Triggers.Patterns = append(long.Spec.TakeBack.Triggers.Patterns, p)
	}
	if n := len(long.Spec.Validate().Error()); n <= 32*1024 {
		t.Fatalf("the problems take %d bytes: not the case this test is about", n)
	}
	if err := c.Create(ctx, long); err != nil {
		t.Fatal(err)
	}
	waitReady("long", metav1.ConditionFalse, messengerv1alpha1.ReasonInvalidPattern, 0, "spec.handoff.triggers.patterns[0]: error parsing regexp")
	for _, typ := range []string{messengerv1alpha1.ConditionReady, messengerv1alpha1.ConditionStalled} {
		if c := apimeta.FindStatusCondition(getPolicy(t, c, "long").Status.Conditions, typ); c == nil || len(c.Message) > messengerv1alpha1.MaxConditionMessageBytes {
			t.Fatalf("%s: %+v", typ, c)
		}
	}

	// Patterns whose matching would cost about a second per message are refused with a reason.
	costly := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "costly", Namespace: "default"}}
	for range 32 {
		costly.Spec.Handoff.Triggers.Patterns = append(costly.Spec.Handoff.Triggers.Patterns, `[\p{L}\p{N}]{1000}`)
	}
	if err := c.Create(ctx, costly); err != nil {
		t.Fatal(err)
	}
	waitReady("costly", metav1.ConditionFalse, messengerv1alpha1.ReasonPatternsTooComplex, 0, "RE2 instructions")
	update(t, c, costly, func() { costly.Spec.Handoff.Triggers.Patterns = costly.Spec.Handoff.Triggers.Patterns[:1] })
	waitReady("costly", metav1.ConditionTrue, messengerv1alpha1.ReasonValid, 0, "valid")
}

func getPolicy(t *testing.T, c client.Client, name string) *messengerv1alpha1.HandoverPolicy {
	t.Helper()
	p := &messengerv1alpha1.HandoverPolicy{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// update reads obj, applies mutate and writes it back, retrying on conflicts with controllers.
func update(t *testing.T, c client.Client, obj client.Object, mutate func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return c.Update(context.Background(), obj)
	})
	if err != nil {
		t.Fatal(err)
	}
}
