package specs

import (
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ownerReference makes the page the controller of an object: the garbage collector deletes the
// object with the page, and Owns watches map the object back to it.
func ownerReference(page *v1alpha1.MessengerPage) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("MessengerPage").
		WithName(page.Name).
		WithUID(page.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// objectMeta is the metadata every owned object shares.
func objectMeta(meta *metav1ac.ObjectMetaApplyConfiguration, page *v1alpha1.MessengerPage) {
	meta.WithLabels(Labels(page)).WithOwnerReferences(ownerReference(page))
}
