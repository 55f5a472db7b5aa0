package v1alpha1

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// VerifyTokenFingerprint names a verify token in status without revealing it: an HMAC-SHA256 of
// the token keyed with the app secret, cut to 16 hex digits. The webhook reports the token it
// has loaded this way and the operator compares it with the token it is about to register;
// without the app secret the fingerprint cannot be checked against guesses of a weak token.
// Empty when either input is.
func VerifyTokenFingerprint(appSecret, token []byte) string {
	if len(appSecret) == 0 || len(token) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, appSecret)
	m.Write([]byte("verify-token:"))
	m.Write(token)
	return hex.EncodeToString(m.Sum(nil))[:16]
}
