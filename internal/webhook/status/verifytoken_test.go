package status

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// waitFor polls get until ok, failing after a while with what it last saw.
func waitFor(t *testing.T, what string, get func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, seen := get()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened (last %s)", what, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The page's webhook reports the verify token it loaded as a fingerprint, and keeps it when
// conditions are written after it (an apply leaving the field out would remove it).
func TestWriterReportsThePageVerifyToken(t *testing.T) {
	r, tr, key := newPage(t, "verifytoken")
	r.Seed(getPage(t, key))
	r.VerifyToken("0123456789abcdef")
	waitFor(t, "webhookVerifyToken written", func() (bool, string) {
		got := getPage(t, key).Status.WebhookVerifyToken
		return got == "0123456789abcdef", got
	})
	r.GraphAuthorized(true, "ok")
	waitCondition(t, key, v1alpha1.ConditionGraphAuthorized, metav1.ConditionTrue, v1alpha1.ReasonGraphAuthorized)
	if got := getPage(t, key).Status.WebhookVerifyToken; got != "0123456789abcdef" {
		t.Fatalf("a condition write dropped webhookVerifyToken: %q", got)
	}
	before := tr.patches.Load()
	r.VerifyToken("0123456789abcdef")
	time.Sleep(100 * time.Millisecond)
	if n := tr.patches.Load(); n != before {
		t.Fatalf("%d writes for the same token", n-before)
	}
}

// An app's webhook writes the verify token it loaded into the MessengerApp's status, under the
// webhook's field manager.
func TestWriterReportsTheAppVerifyToken(t *testing.T) {
	_, _, key := newPage(t, "appverifytoken") // the namespace
	ctx := context.Background()
	app := &v1alpha1.MessengerApp{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: key.Namespace},
		Spec:       v1alpha1.MessengerAppSpec{AppID: "1517776481860111", SecretRef: v1alpha1.AppSecretReference{Name: "creds"}},
	}
	if err := env.Client.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	dyn, _ := watchedClient(t)
	appKey := types.NamespacedName{Namespace: key.Namespace, Name: "shop"}
	w := New(Options{Client: dyn, App: appKey, RetryBase: 10 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(rctx) }()
	defer func() { cancel(); <-done }()
	w.VerifyToken("fedcba9876543210")
	waitFor(t, "the app's webhookVerifyToken written", func() (bool, string) {
		var got v1alpha1.MessengerApp
		if err := env.Client.Get(ctx, appKey, &got); err != nil {
			t.Fatal(err)
		}
		for _, mf := range got.ManagedFields {
			if mf.Manager == FieldManager && mf.Subresource == "status" && got.Status.WebhookVerifyToken == "fedcba9876543210" {
				return true, ""
			}
		}
		return false, got.Status.WebhookVerifyToken
	})
}
