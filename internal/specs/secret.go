package specs

import (
	"crypto/rand"
	"encoding/hex"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// verifyTokenBytes of randomness: 256 bits, above the 128 asked for.
const verifyTokenBytes = 32

// NewVerifyToken returns a fresh verify token: 256 random bits from crypto/rand, hex encoded.
func NewVerifyToken() ([]byte, error) {
	b := make([]byte, verifyTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(b)), nil
}

// VerifyTokenSecret holds the verify token the operator generated for a page or app whose Secret
// has none. token is the one to keep: the existing value, or a new one from NewVerifyToken.
func VerifyTokenSecret(w Webhook, token []byte) *corev1ac.SecretApplyConfiguration {
	return generatedSecret(w, w.VerifyTokenSecretName(), v1alpha1.GeneratedVerifyTokenKey, token)
}

// generatedSecret is a Secret the operator generates for w holding value under key.
func generatedSecret(w Webhook, name, key string, value []byte) *corev1ac.SecretApplyConfiguration {
	s := corev1ac.Secret(name, w.Namespace())
	w.meta(s.ObjectMetaApplyConfiguration)
	s.WithType(corev1.SecretTypeOpaque).WithData(map[string][]byte{key: value})
	stamp(s, s.ObjectMetaApplyConfiguration)
	return s
}

// NewAuditKey returns a fresh audit key: like a verify token, 256 random bits, hex encoded.
func NewAuditKey() ([]byte, error) { return NewVerifyToken() }

// AuditKeySecret holds the key of the HMAC that names users in the webhook's handover audit, one
// per page or app, so that every replica names a user alike. key is the one to keep: the
// existing value, or a new one from NewAuditKey. The webhook gets it in its environment.
func AuditKeySecret(w Webhook, key []byte) *corev1ac.SecretApplyConfiguration {
	return generatedSecret(w, w.AuditKeySecretName(), v1alpha1.GeneratedAuditKeyKey, key)
}
