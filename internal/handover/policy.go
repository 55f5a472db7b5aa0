package handover

import (
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Policy is a compiled HandoverPolicy: messages in their send form, triggers ready to match,
// business hours as a weekly bitmap in their zone. It is immutable once compiled and safe for
// concurrent use; swap the Page that holds it on every change.
type Policy struct {
	welcome, handoff, takeBack, done, errorMsg *OutMessage

	handoffTriggers, takeBackTriggers triggers

	target      string // pass_thread_control target
	metadata    string // handoff metadata
	passRequest bool   // onRequest: Pass
	idleTimeout time.Duration
	hours       *hours // nil: always open
}

// IdleTimeout is the agent idle timeout; zero when off.
func (p *Policy) IdleTimeout() time.Duration { return p.idleTimeout }

// TargetAppID is the app conversations are passed to in business hours.
func (p *Policy) TargetAppID() string { return p.target }

// Problems are everything wrong with a policy, each naming its field: v1alpha1.PolicyErrors, as
// the one Validate of the API reports them. errors.As finds each one as a v1alpha1.PolicyError.
type Problems = v1alpha1.PolicyErrors

// Validate lists the problems Compile would report for spec (defaults applied first), for the
// policy reconciler's Ready condition; the checks that need the page's app id (a target that is
// the page's own app) are left to Compile, as a policy may serve several pages.
func Validate(spec *v1alpha1.HandoverPolicySpec) []v1alpha1.PolicyError {
	if spec == nil {
		return nil
	}
	return spec.Validate()
}

// Compile checks spec with the API's Validate for pageID's app appID and precompiles it.
// Zero-valued fields behave like the CRD defaults (a nil spec is the tutorial's conversation). The
// error is Problems, each naming its field: "spec.handoff.triggers.patterns[1]: error parsing
// regexp: ...".
func Compile(pageID, appID, businessName string, spec *v1alpha1.HandoverPolicySpec) (*Policy, error) {
	var s v1alpha1.HandoverPolicySpec
	if spec != nil {
		spec.DeepCopyInto(&s)
	}
	s.Default()
	if ps := s.ValidateForApp(appID); len(ps) > 0 {
		return nil, ps
	}
	return compile(&s), nil
}

// CompileWithProfile is Compile for a page with a Messenger Profile: the titles of its menu
// items and ice breakers join the titles a tap is matched by when it arrives without its payload
// (standby, reference §3.3), as the policy's own buttons' titles do.
func CompileWithProfile(pageID, appID, businessName string, spec *v1alpha1.HandoverPolicySpec, profile *v1alpha1.MessengerProfile) (*Policy, error) {
	p, err := Compile(pageID, appID, businessName, spec)
	if err != nil || profile == nil {
		return p, err
	}
	pbs := profile.Postbacks()
	p.handoffTriggers.addProfileTitles(pbs)
	p.takeBackTriggers.addProfileTitles(pbs)
	return p, nil
}

// compile builds a valid, defaulted spec.
func compile(s *v1alpha1.HandoverPolicySpec) *Policy {
	fb := s.FirstNameFallback
	p := &Policy{
		welcome:     outMessage(&s.Welcome, fb),
		handoff:     outMessage(&s.Handoff.Message, fb),
		takeBack:    outMessage(&s.TakeBack.Message, fb),
		done:        outMessage(&s.Done, fb),
		errorMsg:    outMessage(&s.ErrorMessage, fb),
		target:      s.Handoff.TargetAppID,
		metadata:    s.Handoff.Metadata,
		passRequest: s.OnRequest == v1alpha1.RequestPass,
	}
	if d := s.AgentIdleTimeout; d != nil {
		p.idleTimeout = d.Duration
	}
	msgs := []*OutMessage{p.welcome, p.handoff, p.takeBack, p.done, p.errorMsg}
	if bh := s.BusinessHours; bh != nil {
		closed := outMessage(&bh.OutsideHours.Message, fb)
		p.hours = compileHours(bh, closed)
		msgs = append(msgs, closed)
	}
	p.handoffTriggers = compileTriggers(&s.Handoff.Triggers, msgs)
	p.takeBackTriggers = compileTriggers(&s.TakeBack.Triggers, msgs)
	return p
}

// outMessage converts a policy message to its send form.
func outMessage(m *v1alpha1.Message, firstNameFallback string) *OutMessage {
	o := &OutMessage{Text: m.Text, FirstNameFallback: firstNameFallback}
	for _, q := range m.QuickReplies {
		o.QuickReplies = append(o.QuickReplies, QuickReply{Title: q.Title, Payload: q.Payload})
	}
	if bt := m.Buttons; bt != nil {
		o.Buttons = &ButtonTemplate{Text: bt.Text, Buttons: buttons(bt.Buttons)}
	}
	for _, cd := range m.Cards {
		o.Cards = append(o.Cards, Card{Title: cd.Title, Subtitle: cd.Subtitle, ImageURL: cd.ImageURL, Buttons: buttons(cd.Buttons)})
	}
	o.NeedsFirstName = o.usesFirstName()
	return o
}

func buttons(in []v1alpha1.Button) []Button {
	out := make([]Button, 0, len(in))
	for _, b := range in {
		out = append(out, Button{Type: b.Type, Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out
}
