package handover

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
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

// Problems are everything wrong with a policy, each naming its field. errors.As finds each one as
// a v1alpha1.PolicyError, whose Reason is ReasonInvalidPattern or ReasonInvalidTimeZone for what
// the schema cannot check, and empty for what it already rejects (seen only on specs that did not
// come through the API server).
type Problems []v1alpha1.PolicyError

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// Validate lists the problems Compile would report for spec (defaults applied first), for the
// policy reconciler's Ready condition; the checks that need the page's app id (a target that is
// the page's own app) are left to Compile, as a policy may serve several pages.
func Validate(spec *v1alpha1.HandoverPolicySpec) []v1alpha1.PolicyError {
	_, ps := compile("", spec)
	return ps
}

// Compile checks spec and precompiles it for pageID's app appID. Zero-valued fields behave like
// the CRD defaults (a nil spec is the tutorial's conversation). The error is Problems, each naming
// its field: "spec.handoff.triggers.patterns[1]: error parsing regexp: ...".
func Compile(pageID, appID, businessName string, spec *v1alpha1.HandoverPolicySpec) (*Policy, error) {
	p, ps := compile(appID, spec)
	if len(ps) > 0 {
		return nil, Problems(ps)
	}
	return p, nil
}

// checker collects problems.
type checker struct{ ps []v1alpha1.PolicyError }

func (c *checker) add(field, reason, detail string) {
	c.ps = append(c.ps, v1alpha1.PolicyError{Field: field, Reason: reason, Detail: detail})
}

var appIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)

// appID checks an app id field; required says whether it may be empty. ours is the page's app:
// the platform refuses a pass to oneself.
func (c *checker) appID(field, id, ours string, required bool) {
	switch {
	case id == "" && !required:
	case id == "":
		c.add(field, "", "required")
	case !appIDPattern.MatchString(id):
		c.add(field, "", fmt.Sprintf("%q is not an app id (1 to 32 digits)", id))
	case ours != "" && id == ours:
		c.add(field, "", fmt.Sprintf("%s is this page's own app: an app cannot pass a conversation to itself", id))
	}
}

func compile(appID string, in *v1alpha1.HandoverPolicySpec) (*Policy, []v1alpha1.PolicyError) {
	var s v1alpha1.HandoverPolicySpec
	if in != nil {
		in.DeepCopyInto(&s)
	}
	applyDefaults(&s)
	c := &checker{}
	fb := s.FirstNameFallback
	p := &Policy{
		welcome:     outMessage("spec.welcome", &s.Welcome, fb, c),
		handoff:     outMessage("spec.handoff.message", &s.Handoff.Message, fb, c),
		takeBack:    outMessage("spec.takeBack.message", &s.TakeBack.Message, fb, c),
		done:        outMessage("spec.done", &s.Done, fb, c),
		errorMsg:    outMessage("spec.errorMessage", &s.ErrorMessage, fb, c),
		target:      s.Handoff.TargetAppID,
		metadata:    s.Handoff.Metadata,
		passRequest: s.OnRequest == v1alpha1.RequestPass,
	}
	c.appID("spec.handoff.targetAppID", p.target, appID, true)
	if n := len([]rune(p.metadata)); n > 999 {
		c.add("spec.handoff.metadata", "", fmt.Sprintf("%d characters: at most 999", n))
	}
	switch s.OnRequest {
	case v1alpha1.RequestPass, v1alpha1.RequestIgnore:
	default:
		c.add("spec.onRequest", "", fmt.Sprintf("unknown action %q: use Pass or Ignore", s.OnRequest))
	}
	if d := s.AgentIdleTimeout; d != nil {
		if d.Duration < time.Second || d.Duration > 168*time.Hour {
			c.add("spec.agentIdleTimeout", "", fmt.Sprintf("%s: use 1s to 168h", d.Duration))
		}
		p.idleTimeout = d.Duration
	}
	msgs := []*OutMessage{p.welcome, p.handoff, p.takeBack, p.done, p.errorMsg}
	if bh := s.BusinessHours; bh != nil {
		closed := outMessage("spec.businessHours.outsideHours.message", &bh.OutsideHours.Message, fb, c)
		p.hours = compileHours(bh, appID, closed, c)
		msgs = append(msgs, closed)
	}
	p.handoffTriggers = compileTriggers("spec.handoff.triggers", &s.Handoff.Triggers, msgs, c)
	p.takeBackTriggers = compileTriggers("spec.takeBack.triggers", &s.TakeBack.Triggers, msgs, c)
	if len(c.ps) > 0 {
		c.sort()
		return nil, c.ps
	}
	return p, nil
}

// fieldOrder is the order of the spec's fields, in which problems are reported.
var fieldOrder = []string{
	"spec.welcome", "spec.handoff.message", "spec.handoff.triggers", "spec.handoff.targetAppID",
	"spec.handoff.metadata", "spec.takeBack.message", "spec.takeBack.triggers", "spec.done", "spec.onRequest",
	"spec.agentIdleTimeout", "spec.businessHours", "spec.errorMessage",
}

func (c *checker) sort() {
	rank := func(field string) int {
		for i, f := range fieldOrder {
			if field == f || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
				return i
			}
		}
		return len(fieldOrder)
	}
	slices.SortStableFunc(c.ps, func(a, b v1alpha1.PolicyError) int { return rank(a.Field) - rank(b.Field) })
}

// outMessage converts a policy message to its send form. Text is required: it is the message, or
// the fallback of a template.
func outMessage(field string, m *v1alpha1.Message, firstNameFallback string, c *checker) *OutMessage {
	if strings.TrimSpace(m.Text) == "" {
		c.add(field+".text", "", "text is required: it is the message, or the fallback of a template")
	}
	if m.Buttons != nil && len(m.Cards) > 0 {
		c.add(field, "", "a message has buttons or cards, not both")
	}
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
