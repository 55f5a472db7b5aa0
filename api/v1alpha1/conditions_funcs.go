package v1alpha1

import (
	"fmt"
	"slices"
	"unicode/utf8"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

// MaxConditionMessageBytes caps every condition message: the API server refuses more than 32 KiB,
// and a status it refuses stays stale while the writer retries for ever.
const MaxConditionMessageBytes = 1024

// ConditionRole is what a condition type does to Ready.
type ConditionRole int

const (
	// Informational conditions are reported and never hold Ready.
	Informational ConditionRole = iota
	// Gating conditions hold Ready False while abnormal; Ready takes their reason and message.
	Gating
	// Stalling conditions gate Ready, and while abnormal waiting will not help: the object's
	// writer of Stalled reports it Stalled (kstatus Failed).
	Stalling
	// Summary is Ready itself.
	Summary
)

// ConditionType describes one condition type of a kind's status.
// +kubebuilder:object:generate=false
type ConditionType struct {
	Type string
	// Owner is the field manager that applies it; no other writer touches it.
	Owner string
	Role  ConditionRole
	// AbnormalTrue marks the abnormal-true polarity (kstatus Reconciling and Stalled: present only
	// while True); otherwise True is the good state and False the abnormal one.
	AbnormalTrue bool
	// Required makes an absent or Unknown condition abnormal too: Ready waits for its owner to
	// report it (a condition another process must write before the object works).
	Required bool
	// InformationalReasons are abnormal states reported without holding Ready.
	InformationalReasons []string
}

// Abnormal says whether c (nil when absent) is in the state this type reports as a problem.
func (t *ConditionType) Abnormal(c *metav1.Condition) bool {
	switch {
	case c == nil:
		return t.Required
	case slices.Contains(t.InformationalReasons, c.Reason):
		return false
	case t.AbnormalTrue:
		return c.Status == metav1.ConditionTrue
	case c.Status == metav1.ConditionUnknown:
		return t.Required
	}
	return c.Status == metav1.ConditionFalse
}

// ConditionTypes are the condition types of one kind, in the precedence of its Ready summary.
// +kubebuilder:object:generate=false
type ConditionTypes []ConditionType

// Lookup finds a condition type.
func (l ConditionTypes) Lookup(typ string) (ConditionType, bool) {
	for _, t := range l {
		if t.Type == typ {
			return t, true
		}
	}
	return ConditionType{}, false
}

// OwnedBy lists the condition types a field manager applies.
func (l ConditionTypes) OwnedBy(manager string) []string {
	var out []string
	for _, t := range l {
		if t.Owner == manager {
			out = append(out, t.Type)
		}
	}
	return out
}

// Owned returns copies of the conditions of conds that manager applies: what it starts from
// and all it may apply.
func (l ConditionTypes) Owned(conds []metav1.Condition, manager string) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range conds {
		if t, ok := l.Lookup(c.Type); ok && t.Owner == manager {
			out = append(out, c)
		}
	}
	return out
}

// Stall is the first abnormal Stalling condition of conds, or nil: what the writer of Stalled
// reports when it has no stall of its own.
func (l ConditionTypes) Stall(conds []metav1.Condition) *metav1.Condition {
	for i := range l {
		t := &l[i]
		if t.Role != Stalling {
			continue
		}
		c := apimeta.FindStatusCondition(conds, t.Type)
		if t.Abnormal(c) {
			return abnormalCondition(t, c)
		}
	}
	return nil
}

// SummarizeReady computes Ready from conds: False with the reason and message of the first
// abnormal Gating or Stalling condition in the list's order, else ok (its Status set to True).
// The result carries ok's observedGeneration and lastTransitionTime (SetCondition keeps the
// stored time when the status did not change).
func (l ConditionTypes) SummarizeReady(conds []metav1.Condition, ok metav1.Condition) metav1.Condition {
	ready := ok
	ready.Type = ConditionReady
	ready.Status = metav1.ConditionTrue
	for i := range l {
		t := &l[i]
		if t.Role != Gating && t.Role != Stalling {
			continue
		}
		c := apimeta.FindStatusCondition(conds, t.Type)
		if t.Abnormal(c) {
			c = abnormalCondition(t, c)
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, c.Reason, c.Message
			break
		}
	}
	ready.Message = TruncateMessage(ready.Message)
	return ready
}

// abnormalCondition is c with a reason and message to pass on; a required condition that is absent
// gets both made up.
func abnormalCondition(t *ConditionType, c *metav1.Condition) *metav1.Condition {
	if c == nil {
		return &metav1.Condition{Type: t.Type, Status: metav1.ConditionUnknown, Reason: "Waiting" + t.Type,
			Message: fmt.Sprintf("waiting for the %s condition", t.Type)}
	}
	if c.Message == "" {
		out := *c
		out.Message = fmt.Sprintf("%s is %s (%s)", c.Type, c.Status, c.Reason)
		return &out
	}
	return c
}

// SetCondition sets c in conds as meta.SetStatusCondition does (the lastTransitionTime of a
// condition whose status did not change is kept), with its message capped by TruncateMessage.
// It reports whether conds changed.
func SetCondition(conds *[]metav1.Condition, c metav1.Condition) bool {
	c.Message = TruncateMessage(c.Message)
	return apimeta.SetStatusCondition(conds, c)
}

// TruncateMessage caps a condition message at MaxConditionMessageBytes, cutting at a rune
// boundary and marking the cut.
func TruncateMessage(msg string) string {
	if len(msg) <= MaxConditionMessageBytes {
		return msg
	}
	const mark = " …"
	cut := MaxConditionMessageBytes - len(mark)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + mark
}

// ConditionApply is c as an apply configuration, its message capped by TruncateMessage: every
// status writer applies conditions through it.
func ConditionApply(c metav1.Condition) *metav1ac.ConditionApplyConfiguration {
	ac := metav1ac.Condition().
		WithType(c.Type).
		WithStatus(c.Status).
		WithReason(c.Reason).
		WithMessage(TruncateMessage(c.Message)).
		WithLastTransitionTime(c.LastTransitionTime)
	if c.ObservedGeneration > 0 {
		ac.WithObservedGeneration(c.ObservedGeneration)
	}
	return ac
}
