// Package v1alpha1 holds the messenger.handover.dev/v1alpha1 API: MessengerPage, one Facebook Page
// served by one webhook, and HandoverPolicy, how its conversations move between the bot and people.
//
// +kubebuilder:object:generate=true
// +kubebuilder:ac:generate=true
// +groupName=messenger.handover.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "messenger.handover.dev", Version: "v1alpha1"}

	// SchemeGroupVersion is GroupVersion under the name the generated apply configurations use.
	SchemeGroupVersion = GroupVersion

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers every kind of this package; a new kind is added here.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&MessengerPage{}, &MessengerPageList{},
		&MessengerApp{}, &MessengerAppList{},
		&HandoverPolicy{}, &HandoverPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
