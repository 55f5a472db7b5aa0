package specs

import (
	"maps"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Label and annotation keys on the objects the operator owns.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelManaged marks every object the operator owns; the manager's cache of Secrets (and of
	// the other owned kinds) is selected on it, so it never holds the cluster's other Secrets.
	LabelManaged = "messenger.handover.dev/managed"

	// AppliedHashAnnotation is the hash of the object as last applied: a changed hash means the
	// desired object changed (including fields that were removed from it).
	AppliedHashAnnotation = "messenger.handover.dev/applied-hash"
	// SpecHashAnnotation, on the pod template, is the hash of what should roll the pods: the
	// page's spec.webhook, the image and the flags. Secrets and the policy are read live by the
	// webhook and are not part of it.
	SpecHashAnnotation = "messenger.handover.dev/spec-hash"

	AppName     = "messenger-webhook"
	ManagerName = "messenger-operator"
)

// ManagedSelector is the label selector of every object the operator owns.
var ManagedSelector = map[string]string{LabelManaged: "true"}

// SelectorLabels pick the page's webhook pods; they never change for a page (a Deployment's
// selector is immutable).
func SelectorLabels(page *v1alpha1.MessengerPage) map[string]string {
	return map[string]string{
		LabelName:     AppName,
		LabelInstance: InstanceValue(page.Name),
	}
}

// Labels of every owned object. The page's own labels are not copied: a GitOps tool's tracking
// label on children would make it think it owns (and may prune) them.
func Labels(page *v1alpha1.MessengerPage) map[string]string {
	l := SelectorLabels(page)
	l[LabelManagedBy] = ManagerName
	l[LabelManaged] = "true"
	return l
}

// podLabels are the user's spec.webhook.podLabels under ours: ours win, so the selector always
// matches.
func podLabels(page *v1alpha1.MessengerPage) map[string]string {
	l := maps.Clone(page.Spec.Webhook.PodLabels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, SelectorLabels(page))
	l[LabelManagedBy] = ManagerName
	return l
}
