package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func TestParseClaimBindings(t *testing.T) {
	b, err := ParseClaimBindings(" 42=shop;brand , 7=ops,")
	if err != nil || len(b) != 2 || len(b["42"]) != 2 || b["7"][0] != "ops" {
		t.Fatalf("%v %v", b, err)
	}
	for _, bad := range []string{"42", "x=shop", "42=Shop", "42=", "=shop"} {
		if _, err := ParseClaimBindings(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The oldest claim wins; one lost within the namespace names the winner, one lost to another
// namespace does not; a binding admits only its namespaces, whatever the age.
func TestClaimConflict(t *testing.T) {
	at := time.Unix(1000, 0)
	app := func(ns, name string, age int) *messengerv1alpha1.MessengerApp {
		return &messengerv1alpha1.MessengerApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			CreationTimestamp: metav1.NewTime(at.Add(-time.Duration(age) * time.Minute))}}
	}
	old, newer, elsewhere := app("shop", "old", 3), app("shop", "new", 1), app("rival", "squat", 5)
	all := []*messengerv1alpha1.MessengerApp{old, newer, elsewhere}

	if c := claimConflict(nil, elsewhere, all, "appID", "42", "MessengerApp"); c != "" {
		t.Fatalf("the oldest lost: %s", c)
	}
	c := claimConflict(nil, old, all, "appID", "42", "MessengerApp")
	if c == "" || strings.Contains(c, "rival") || strings.Contains(c, "squat") {
		t.Fatalf("lost to another namespace: %q", c)
	}
	if c := claimConflict(nil, newer, all[:2], "appID", "42", "MessengerApp"); !strings.Contains(c, `MessengerApp "old"`) {
		t.Fatalf("lost within the namespace: %q", c)
	}

	bound := ClaimBindings{"42": {"shop"}}
	if c := claimConflict(bound, old, all, "appID", "42", "MessengerApp"); c != "" {
		t.Fatalf("the bound namespace's oldest lost to a squatter: %s", c)
	}
	if c := claimConflict(bound, elsewhere, all, "appID", "42", "MessengerApp"); !strings.Contains(c, "bound by the cluster admin") || strings.Contains(c, "shop") {
		t.Fatalf("the squatter: %q", c)
	}
	if c := claimConflict(bound, newer, all, "appID", "42", "MessengerApp"); !strings.Contains(c, `"old"`) {
		t.Fatalf("within the bound namespace: %q", c)
	}
}
