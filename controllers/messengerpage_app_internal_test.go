package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// A Ready app's served count (in its Ready message) changes with every page its pods serve: that
// must not wake its pages, who read the message only while the app is not Ready.
func TestAppReadyChangedIgnoresTheServedCount(t *testing.T) {
	app := func(status metav1.ConditionStatus, reason, msg string) *messengerv1alpha1.MessengerApp {
		return &messengerv1alpha1.MessengerApp{
			ObjectMeta: metav1.ObjectMeta{Generation: 1},
			Status: messengerv1alpha1.MessengerAppStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{{
				Type: messengerv1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: 1}}},
		}
	}
	ready := func(msg string) *messengerv1alpha1.MessengerApp {
		return app(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, msg)
	}
	waiting := func(msg string) *messengerv1alpha1.MessengerApp {
		return app(metav1.ConditionFalse, messengerv1alpha1.ReasonProgressing, msg)
	}
	for _, tc := range []struct {
		name     string
		old, new *messengerv1alpha1.MessengerApp
		want     bool
	}{
		{"served count of a Ready app", ready("serving 1 of 3 pages"), ready("serving 2 of 3 pages"), false},
		{"becomes Ready", waiting("0 of 1 replicas"), ready("serving 0 of 3 pages"), true},
		{"no longer Ready", ready("serving 3 of 3 pages"), waiting("0 of 1 replicas"), true},
		{"message of an app not Ready", waiting("0 of 1 replicas"), waiting("1 of 2 replicas"), true},
	} {
		if got := appReadyChanged.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
