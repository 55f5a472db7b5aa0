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

	// LabelComponent is on an app's webhook objects only (ComponentApp).
	LabelComponent = "app.kubernetes.io/component"

	AppName     = "messenger-webhook"
	ManagerName = "messenger-operator"
	// ComponentApp marks the objects of a MessengerApp's webhook.
	ComponentApp = "app"
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

// AppSelectorLabels pick an app's webhook pods. Their instance value (AppInstanceValue) is never
// a page's, so a page's selector never picks an app's pods, and the component label keeps an
// app's selector off every page's pods.
func AppSelectorLabels(app *v1alpha1.MessengerApp) map[string]string {
	return map[string]string{
		LabelName:      AppName,
		LabelInstance:  AppInstanceValue(app.Name),
		LabelComponent: ComponentApp,
	}
}

// Labels of every object a page owns. The page's own labels are not copied: a GitOps tool's
// tracking label on children would make it think it owns (and may prune) them.
func Labels(page *v1alpha1.MessengerPage) map[string]string {
	return Webhook{Page: page}.labels()
}

func (w Webhook) labels() map[string]string {
	l := w.SelectorLabels()
	l[LabelManagedBy] = ManagerName
	l[LabelManaged] = "true"
	return l
}

// podLabels are the user's spec.webhook.podLabels under ours: ours win, so the selector always
// matches.
func (w Webhook) podLabels() map[string]string {
	l := maps.Clone(w.webhookSpec().PodLabels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, w.SelectorLabels())
	l[LabelManagedBy] = ManagerName
	return l
}
