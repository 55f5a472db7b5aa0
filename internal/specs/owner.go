package specs

import (
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ownerReference makes the page or app the controller of an object: the garbage collector
// deletes the object with it, and Owns watches map the object back to it.
func (w Webhook) ownerReference() *metav1ac.OwnerReferenceApplyConfiguration {
	kind, name, uid := w.owner()
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind(kind).
		WithName(name).
		WithUID(uid).
		WithController(true).
		WithBlockOwnerDeletion(true)
}
