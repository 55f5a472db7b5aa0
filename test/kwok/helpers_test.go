package kwok

import (
	"encoding/json"
	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"testing"
	"time"
)

type messengerPage = messengerv1alpha1.MessengerPage

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes; the last message says why not.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var msg string
	for {
		var ok bool
		if ok, msg = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func stringify(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
