package handover

import (
	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// defaultFirstNameFallback mirrors the CRD default of spec.firstNameFallback.
const defaultFirstNameFallback = "there"

// DefaultSpec is the HandoverPolicySpec the API server makes of an empty one: the tutorial's
// conversation. Compile applies the same defaults to zero-valued fields, so a spec built in Go (or
// read from a manifest without an API server) behaves like a stored object.
func DefaultSpec() v1alpha1.HandoverPolicySpec {
	s := v1alpha1.HandoverPolicySpec{}
	applyDefaults(&s)
	return s
}

func passQuickReply() []v1alpha1.QuickReply {
	return []v1alpha1.QuickReply{{Title: v1alpha1.PassToInboxTitle, Payload: v1alpha1.PassToInboxPayload}}
}

// applyDefaults fills the zero-valued fields of s as the CRD defaults would. A field the API
// server leaves absent decodes to its zero value, and the schema's omitzero makes both the same;
// a zero value therefore means "absent" here.
func applyDefaults(s *v1alpha1.HandoverPolicySpec) {
	if isZeroMessage(&s.Welcome) {
		s.Welcome = v1alpha1.Message{Text: v1alpha1.DefaultWelcomeText, QuickReplies: passQuickReply()}
	}
	if isZeroMessage(&s.Handoff.Message) {
		s.Handoff.Message = v1alpha1.Message{
			Text:         v1alpha1.DefaultHandoffText,
			QuickReplies: []v1alpha1.QuickReply{{Title: v1alpha1.TakeFromInboxTitle, Payload: v1alpha1.TakeFromInboxPayload}},
		}
	}
	if isZeroTriggers(&s.Handoff.Triggers) {
		s.Handoff.Triggers = v1alpha1.Triggers{QuickReplyPayloads: []string{v1alpha1.PassToInboxPayload}}
	}
	if s.Handoff.TargetAppID == "" {
		s.Handoff.TargetAppID = v1alpha1.PageInboxAppID
	}
	if isZeroMessage(&s.TakeBack.Message) {
		s.TakeBack.Message = v1alpha1.Message{Text: v1alpha1.DefaultTakeBackText, QuickReplies: passQuickReply()}
	}
	if isZeroTriggers(&s.TakeBack.Triggers) {
		s.TakeBack.Triggers = v1alpha1.Triggers{QuickReplyPayloads: []string{v1alpha1.TakeFromInboxPayload}}
	}
	if isZeroMessage(&s.Done) {
		s.Done = v1alpha1.Message{Text: v1alpha1.DefaultDoneText, QuickReplies: passQuickReply()}
	}
	if s.OnRequest == "" {
		s.OnRequest = v1alpha1.RequestPass
	}
	if isZeroMessage(&s.ErrorMessage) {
		s.ErrorMessage = v1alpha1.Message{Text: v1alpha1.DefaultErrorText}
	}
	if s.FirstNameFallback == "" {
		s.FirstNameFallback = defaultFirstNameFallback
	}
	if bh := s.BusinessHours; bh != nil {
		if bh.OutsideHours.Action == "" {
			bh.OutsideHours.Action = v1alpha1.OutsideBotOnly
		}
		if isZeroMessage(&bh.OutsideHours.Message) {
			bh.OutsideHours.Message = v1alpha1.Message{Text: v1alpha1.DefaultClosedText}
		}
	}
}

func isZeroMessage(m *v1alpha1.Message) bool {
	return m.Text == "" && len(m.QuickReplies) == 0 && m.Buttons == nil && len(m.Cards) == 0
}

func isZeroTriggers(t *v1alpha1.Triggers) bool {
	return len(t.QuickReplyPayloads) == 0 && len(t.PostbackPayloads) == 0 && len(t.Keywords) == 0 && len(t.Patterns) == 0
}
