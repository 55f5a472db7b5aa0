package testenv

import (
	"context"
	"testing"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStartInstallsCRDs(t *testing.T) {
	env, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	var pol messengerv1alpha1.HandoverPolicy
	pol.Name, pol.Namespace = "p", "default"
	if err := env.Client.Create(context.Background(), &pol); err != nil {
		t.Fatalf("creating a HandoverPolicy: %v", err)
	}
	var list messengerv1alpha1.HandoverPolicyList
	if err := env.Client.List(context.Background(), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("listing policies: %v, %d items", err, len(list.Items))
	}
	_ = metav1.Now
}
