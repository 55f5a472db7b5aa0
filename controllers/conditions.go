package controllers

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/tools/events"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// conditionSet computes the operator's conditions of one object in one pass, following kstatus:
// Stalled and Reconciling only while true, Ready summarised by the kind's condition types. It
// starts from the operator's current conditions so that their transition times are kept; those
// not set again in the pass are dropped by ready.
type conditionSet struct {
	types messengerv1alpha1.ConditionTypes
	gen   int64
	now   metav1.Time
	conds []metav1.Condition
	set   map[string]bool
}

func newConditionSet(types messengerv1alpha1.ConditionTypes, current []metav1.Condition, gen int64, now time.Time) *conditionSet {
	return &conditionSet{types: types, gen: gen, now: metav1.NewTime(now.Truncate(time.Second)),
		conds: types.Owned(current, FieldManager), set: map[string]bool{}}
}

func (s *conditionSet) add(typ string, status metav1.ConditionStatus, reason, message string) {
	messengerv1alpha1.SetCondition(&s.conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message,
		ObservedGeneration: s.gen, LastTransitionTime: s.now})
	s.set[typ] = true
}

func (s *conditionSet) stalled(reason, message string) {
	s.add(messengerv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
}

func (s *conditionSet) has(typ string) bool { return s.set[typ] }

// ready finishes the pass: Ready summarised from the conditions set and others (those of other
// writers), else ok.
func (s *conditionSet) ready(ok metav1.Condition, others []metav1.Condition) []metav1.Condition {
	ok.ObservedGeneration, ok.LastTransitionTime = s.gen, s.now
	s.set[messengerv1alpha1.ConditionReady] = true
	s.conds = slices.DeleteFunc(s.conds, func(c metav1.Condition) bool { return !s.set[c.Type] })
	all := append(slices.Clone(s.conds), others...)
	messengerv1alpha1.SetCondition(&s.conds, s.types.SummarizeReady(all, ok))
	return s.conds
}

// conditionsUpToDate compares the operator's conditions of two statuses, ignoring transition
// times (kept stable anyway) and other writers' conditions.
func conditionsUpToDate(types messengerv1alpha1.ConditionTypes, have, want []metav1.Condition) bool {
	for _, t := range types.OwnedBy(FieldManager) {
		h := apimeta.FindStatusCondition(have, t)
		w := apimeta.FindStatusCondition(want, t)
		if (h == nil) != (w == nil) {
			return false
		}
		if h != nil && (h.Status != w.Status || h.Reason != w.Reason || h.Message != w.Message || h.ObservedGeneration != w.ObservedGeneration) {
			return false
		}
	}
	return true
}

// conditionsApply are the operator's conditions of conds as apply configurations.
func conditionsApply(types messengerv1alpha1.ConditionTypes, conds []metav1.Condition) []*metav1ac.ConditionApplyConfiguration {
	var out []*metav1ac.ConditionApplyConfiguration
	for _, c := range types.Owned(conds, FieldManager) {
		out = append(out, messengerv1alpha1.ConditionApply(c))
	}
	return out
}

// changedCondition is the condition typ of want when its status or reason differs from have's.
func changedCondition(have, want []metav1.Condition, typ string) (*metav1.Condition, bool) {
	w := apimeta.FindStatusCondition(want, typ)
	h := apimeta.FindStatusCondition(have, typ)
	return w, w != nil && (h == nil || h.Status != w.Status || h.Reason != w.Reason)
}

// ingressTLS sets IngressTLS for spec.ingress, when there is one: Meta calls only HTTPS.
func ingressTLS(cs *conditionSet, in *messengerv1alpha1.IngressSpec) {
	switch {
	case in == nil:
	case in.TLS == nil:
		cs.add(messengerv1alpha1.ConditionIngressTLS, metav1.ConditionFalse, messengerv1alpha1.ReasonNoTLS,
			"spec.ingress has no tls: Meta only calls HTTPS endpoints with a valid certificate; set spec.ingress.tls.secretName, with an issuer for cert-manager")
	default:
		msg := fmt.Sprintf("certificate from Secret %q", in.TLS.SecretName)
		if is := in.TLS.Issuer; is != nil {
			msg += fmt.Sprintf(", issued by cert-manager %s %q", is.GetKind(), is.Name)
		}
		cs.add(messengerv1alpha1.ConditionIngressTLS, metav1.ConditionTrue, messengerv1alpha1.ReasonTLSConfigured, msg)
	}
}

// readyEvent records a change of Ready: Normal when Ready or progressing, else Warning.
func readyEvent(rec events.EventRecorder, obj runtime.Object, have, want []metav1.Condition) {
	c, ok := changedCondition(have, want, messengerv1alpha1.ConditionReady)
	if !ok {
		return
	}
	kind := corev1.EventTypeNormal
	if c.Status != metav1.ConditionTrue && c.Reason != messengerv1alpha1.ReasonProgressing {
		kind = corev1.EventTypeWarning
	}
	rec.Eventf(obj, nil, kind, c.Reason, "Reconcile", "%s", c.Message)
}

// stallEvent records a change of Ready only when it is about a stall: entering one (Warning),
// changing it, or leaving it (Normal). The normal way of a page of an app to Ready (AppNotReady,
// WaitingServed, Loading, then Serving) makes no Event: with many pages joining, an Event per
// step would be a write per page and step for news nobody acts on.
func stallEvent(rec events.EventRecorder, obj runtime.Object, have, want []metav1.Condition) {
	was := apimeta.IsStatusConditionTrue(have, messengerv1alpha1.ConditionStalled)
	is := apimeta.IsStatusConditionTrue(want, messengerv1alpha1.ConditionStalled)
	if !was && !is {
		return
	}
	c, ok := changedCondition(have, want, messengerv1alpha1.ConditionReady)
	if !ok {
		return
	}
	kind := corev1.EventTypeNormal
	if is {
		kind = corev1.EventTypeWarning
	}
	rec.Eventf(obj, nil, kind, c.Reason, "Reconcile", "%s", c.Message)
}
