package specs

import (
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
)

// PodDisruptionBudget keeps one webhook pod serving through node drains: only with the Redis
// store (the replicas share their state) and at least two replicas; nil otherwise (with one
// replica a budget of one would block every drain).
func PodDisruptionBudget(w Webhook) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	if w.webhookSpec().Redis() == nil || w.Replicas() < 2 {
		return nil
	}
	p := policyv1ac.PodDisruptionBudget(w.Name(), w.Namespace())
	w.meta(p.ObjectMetaApplyConfiguration)
	p.WithSpec(policyv1ac.PodDisruptionBudgetSpec().
		WithMinAvailable(intstr.FromInt32(1)).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(w.SelectorLabels())))
	stamp(p, p.ObjectMetaApplyConfiguration)
	return p
}

// StoreURLHash is what of a Redis URL goes into the pod template: a short hash, never the URL
// (it may hold a password).
func StoreURLHash(url []byte) string {
	sum := sha256.Sum256(append([]byte("redis-url\x00"), url...))
	return hex.EncodeToString(sum[:8])
}
