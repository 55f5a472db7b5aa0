package v1alpha1

import (
	"strings"
	"testing"
)

func TestVerifyTokenFingerprint(t *testing.T) {
	a := VerifyTokenFingerprint([]byte("secret"), []byte("token"))
	if len(a) != 16 || strings.Contains(a, "token") {
		t.Fatalf("fingerprint %q", a)
	}
	if a != VerifyTokenFingerprint([]byte("secret"), []byte("token")) {
		t.Fatal("not stable")
	}
	if a == VerifyTokenFingerprint([]byte("other secret"), []byte("token")) {
		t.Fatal("not keyed by the app secret")
	}
	if a == VerifyTokenFingerprint([]byte("secret"), []byte("token2")) {
		t.Fatal("two tokens, one fingerprint")
	}
	if VerifyTokenFingerprint(nil, []byte("token")) != "" || VerifyTokenFingerprint([]byte("secret"), nil) != "" {
		t.Fatal("empty input gives a fingerprint")
	}
}
