package v1alpha1

import (
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"

	// Distroless images carry no zone data; embed it wherever a policy is checked.
	_ "time/tzdata"
)

// The defaults of a HandoverPolicy that are no message text (those are the Default*Text
// constants), as the +kubebuilder:default markers give them (a test holds both equal).
const (
	DefaultOnRequest         = RequestPass
	DefaultFirstNameFallback = "there"
	DefaultOutsideHours      = OutsideBotOnly
)

// Limits of a policy that no schema marker states.
const (
	// MaxPatternProgramSize bounds the RE2 instructions of all of a policy's patterns together:
	// matching costs up to about (instructions x runes) per message, and a repetition such as
	// [\p{L}]{1000} compiles to a thousand instructions.
	MaxPatternProgramSize = 2000
	// MaxHandoffMetadataRunes is the Graph API's limit on pass_thread_control metadata.
	MaxHandoffMetadataRunes = 999
	// MinAgentIdleTimeout and MaxAgentIdleTimeout bound spec.agentIdleTimeout (the CRD's CEL).
	MinAgentIdleTimeout = time.Second
	MaxAgentIdleTimeout = 168 * time.Hour
	// MessagingWindow is how long after a user's last message a Page may message them without a
	// tag (Messenger Platform policy); an agentIdleTimeout beyond it needs
	// agentIdleTimeoutBeyondWindow.
	MessagingWindow = 24 * time.Hour
	// MaxKeywords is the schema's limit of keywords per trigger list.
	MaxKeywords = 64
)

// DefaultHandoverPolicySpec is what the API server makes of an empty spec: the tutorial's
// conversation.
func DefaultHandoverPolicySpec() HandoverPolicySpec {
	var s HandoverPolicySpec
	s.Default()
	return s
}

// Default marks a status never written as not yet observed, as the API server does on create,
// and defaults the spec.
func (p *HandoverPolicy) Default() {
	p.Spec.Default()
	if reflect.DeepEqual(p.Status, HandoverPolicyStatus{}) {
		p.Status.ObservedGeneration = -1
	}
}

// Default fills the zero-valued fields of s as the CRD defaults would, in place. A field the API
// server leaves absent decodes to its zero value, and the schema's omitzero makes both the same:
// a zero value therefore means absent here.
func (s *HandoverPolicySpec) Default() {
	passQuickReply := func() []QuickReply { return []QuickReply{{Title: PassToInboxTitle, Payload: PassToInboxPayload}} }
	if s.Welcome.isZero() {
		s.Welcome = Message{Text: DefaultWelcomeText, QuickReplies: passQuickReply()}
	}
	if s.Handoff.Message.isZero() {
		s.Handoff.Message = Message{Text: DefaultHandoffText, QuickReplies: []QuickReply{{Title: TakeFromInboxTitle, Payload: TakeFromInboxPayload}}}
	}
	if s.Handoff.Triggers.isZero() {
		s.Handoff.Triggers = Triggers{QuickReplyPayloads: []string{PassToInboxPayload}}
	}
	if s.Handoff.TargetAppID == "" {
		s.Handoff.TargetAppID = PageInboxAppID
	}
	if s.TakeBack.Message.isZero() {
		s.TakeBack.Message = Message{Text: DefaultTakeBackText, QuickReplies: passQuickReply()}
	}
	if s.TakeBack.Triggers.isZero() {
		s.TakeBack.Triggers = Triggers{QuickReplyPayloads: []string{TakeFromInboxPayload}}
	}
	if s.Done.isZero() {
		s.Done = Message{Text: DefaultDoneText, QuickReplies: passQuickReply()}
	}
	if s.OnRequest == "" {
		s.OnRequest = DefaultOnRequest
	}
	if s.ErrorMessage.isZero() {
		s.ErrorMessage = Message{Text: DefaultErrorText}
	}
	if s.FirstNameFallback == "" {
		s.FirstNameFallback = DefaultFirstNameFallback
	}
	if bh := s.BusinessHours; bh != nil {
		if bh.OutsideHours.Action == "" {
			bh.OutsideHours.Action = DefaultOutsideHours
		}
		if bh.OutsideHours.Message.isZero() {
			bh.OutsideHours.Message = Message{Text: DefaultClosedText}
		}
	}
}

func (m *Message) isZero() bool {
	return m.Text == "" && len(m.QuickReplies) == 0 && m.Buttons == nil && len(m.Cards) == 0
}

func (t *Triggers) isZero() bool {
	return len(t.QuickReplyPayloads) == 0 && len(t.PostbackPayloads) == 0 && len(t.Keywords) == 0 && len(t.Patterns) == 0
}

// PolicyError is a problem with a HandoverPolicy, naming its field.
type PolicyError struct {
	Field string // e.g. spec.handoff.triggers.patterns[1]
	// Reason is the policy's Ready reason for it: ReasonInvalidPattern, ReasonPatternsTooComplex,
	// ReasonInvalidTimeZone, or ReasonInvalidSpec for what the schema also rejects in a cluster.
	Reason string
	Detail string
}

func (e PolicyError) Error() string { return e.Field + ": " + e.Detail }

// PolicyErrors are every problem of a policy, in the order of the spec's fields (the size of all
// patterns together last).
// +kubebuilder:object:generate=false
type PolicyErrors []PolicyError

func (ps PolicyErrors) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find each PolicyError.
func (ps PolicyErrors) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// Reason is the reason of the first problem, for the policy's Ready condition.
func (ps PolicyErrors) Reason() string {
	if len(ps) == 0 {
		return ReasonValid
	}
	return ps[0].Reason
}

// Validate checks what the webhook relies on in a policy, defaults applied first (on a copy):
// what CEL cannot check (patterns compile as RE2 within MaxPatternProgramSize, the time zone
// exists, keywords have a word, texts are not blank) and, for policies read from a directory,
// the schema's rules the engine depends on (app ids, actions, the idle timeout, the windows). A
// nil result means valid. The checks that need the page's app are ValidateForApp's, as a policy
// may serve several pages.
func (s *HandoverPolicySpec) Validate() PolicyErrors {
	return s.ValidateForApp("")
}

// ValidateForApp is Validate for a page of app appID: also, no pass to that app itself (the
// platform refuses a pass to oneself).
func (s *HandoverPolicySpec) ValidateForApp(appID string) PolicyErrors {
	d := s.DeepCopy()
	d.Default()
	c := &policyChecker{ours: appID}
	c.message("spec.welcome", &d.Welcome)
	c.message("spec.handoff.message", &d.Handoff.Message)
	c.triggers("spec.handoff.triggers", &d.Handoff.Triggers)
	c.appID("spec.handoff.targetAppID", d.Handoff.TargetAppID)
	if n := len([]rune(d.Handoff.Metadata)); n > MaxHandoffMetadataRunes {
		c.add("spec.handoff.metadata", ReasonInvalidSpec, fmt.Sprintf("%d characters: at most %d", n, MaxHandoffMetadataRunes))
	}
	c.message("spec.takeBack.message", &d.TakeBack.Message)
	c.triggers("spec.takeBack.triggers", &d.TakeBack.Triggers)
	c.message("spec.done", &d.Done)
	switch d.OnRequest {
	case RequestPass, RequestIgnore:
	default:
		c.add("spec.onRequest", ReasonInvalidSpec, fmt.Sprintf("unknown action %q: use Pass or Ignore", d.OnRequest))
	}
	if t := d.AgentIdleTimeout; t != nil && (t.Duration < MinAgentIdleTimeout || t.Duration > MaxAgentIdleTimeout) {
		c.add("spec.agentIdleTimeout", ReasonInvalidSpec, fmt.Sprintf("%s: use 1s to 168h", t.Duration))
	} else if t != nil && t.Duration > MessagingWindow && !d.AgentIdleTimeoutBeyondWindow {
		c.add("spec.agentIdleTimeout", ReasonInvalidSpec, fmt.Sprintf(
			"%s is over 24h and ends after the messaging window: set agentIdleTimeoutBeyondWindow: true to allow it", t.Duration))
	}
	if bh := d.BusinessHours; bh != nil {
		c.businessHours(bh)
	}
	c.message("spec.errorMessage", &d.ErrorMessage)
	if c.programSize > MaxPatternProgramSize {
		c.add(c.overField, ReasonPatternsTooComplex, fmt.Sprintf(
			"the policy's patterns compile to %d RE2 instructions in all, over the limit of %d (this one to %d): use fewer or simpler patterns (each repeat of x{n} counts)",
			c.programSize, MaxPatternProgramSize, c.overSize))
	}
	return c.ps
}

// policyChecker collects the problems of one policy.
type policyChecker struct {
	ps   PolicyErrors
	ours string // the page's app, when known

	programSize int    // RE2 instructions of the patterns so far
	overField   string // the pattern that took programSize over the limit
	overSize    int    // its own size
}

func (c *policyChecker) add(field, reason, detail string) {
	c.ps = append(c.ps, PolicyError{Field: field, Reason: reason, Detail: detail})
}

func (c *policyChecker) message(field string, m *Message) {
	if strings.TrimSpace(m.Text) == "" {
		c.add(field+".text", ReasonInvalidSpec, "text is required: it is the message, or the fallback of a template")
	}
	if m.Buttons != nil && len(m.Cards) > 0 {
		c.add(field, ReasonInvalidSpec, "a message has buttons or cards, not both")
	}
}

func (c *policyChecker) triggers(field string, t *Triggers) {
	if n := len(t.Keywords); n > MaxKeywords {
		c.add(field+".keywords", ReasonInvalidSpec, fmt.Sprintf("%d keywords: at most %d", n, MaxKeywords))
	} else {
		for i, k := range t.Keywords {
			if strings.TrimSpace(k) == "" {
				c.add(fmt.Sprintf("%s.keywords[%d]", field, i), ReasonInvalidSpec, "a keyword needs a word: it is empty or only spaces")
			}
		}
	}
	for i, p := range t.Patterns {
		f := fmt.Sprintf("%s.patterns[%d]", field, i)
		size, err := programSize(p)
		if err != nil {
			c.add(f, ReasonInvalidPattern, err.Error())
			continue
		}
		c.programSize += size
		if c.overField == "" && c.programSize > MaxPatternProgramSize {
			c.overField, c.overSize = f, size
		}
	}
}

// programSize compiles a pattern as regexp.Compile does and counts its RE2 instructions.
func programSize(pattern string) (int, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return 0, err
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	return len(prog.Inst), nil
}

// appID checks a required app id field.
func (c *policyChecker) appID(field, id string) {
	switch {
	case id == "":
		c.add(field, ReasonInvalidSpec, "required")
	case !idPattern.MatchString(id):
		c.add(field, ReasonInvalidSpec, fmt.Sprintf("%q is not an app id (1 to 32 digits)", id))
	case c.ours != "" && id == c.ours:
		c.add(field, ReasonInvalidSpec, fmt.Sprintf("%s is this page's own app: an app cannot pass a conversation to itself", id))
	}
}

func (c *policyChecker) businessHours(bh *BusinessHours) {
	const field = "spec.businessHours"
	c.message(field+".outsideHours.message", &bh.OutsideHours.Message)
	if _, err := bh.Location(); err != nil {
		c.add(field+".timeZone", ReasonInvalidTimeZone, err.Error())
	}
	if len(bh.Windows) == 0 {
		c.add(field+".windows", ReasonInvalidSpec, "at least one window is required")
	}
	for i := range bh.Windows {
		w := &bh.Windows[i]
		wf := fmt.Sprintf("%s.windows[%d]", field, i)
		_, okD := w.Weekday()
		if !okD {
			c.add(wf+".day", ReasonInvalidSpec, fmt.Sprintf("unknown day %q: use Monday to Sunday", w.Day))
		}
		start, okS := ParseClock(w.Start)
		if !okS {
			c.add(wf+".start", ReasonInvalidSpec, fmt.Sprintf("%q is not a time of day as HH:MM (00:00 to 23:59)", w.Start))
		}
		end, okE := ParseClock(w.End)
		if !okE {
			c.add(wf+".end", ReasonInvalidSpec, fmt.Sprintf("%q is not a time of day as HH:MM (00:00 to 23:59)", w.End))
		}
		if okD && okS && okE && start == end {
			c.add(wf, ReasonInvalidSpec, "a window's start and end must differ")
		}
	}
	switch bh.OutsideHours.Action {
	case OutsideBotOnly, OutsidePassAnyway:
	case OutsidePassTo:
		c.appID(field+".outsideHours.appID", bh.OutsideHours.AppID)
	default:
		c.add(field+".outsideHours.action", ReasonInvalidSpec,
			fmt.Sprintf("unknown action %q: use BotOnly, PassAnyway or PassTo", bh.OutsideHours.Action))
	}
}

// Location loads the time zone; an empty zone and "Local" (the machine's, which differs between
// the operator and the webhook) are refused.
func (bh *BusinessHours) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(bh.TimeZone)
	if bh.TimeZone == "" || bh.TimeZone == "Local" || err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris", bh.TimeZone)
	}
	return loc, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// Weekday is the window's day; ok is false for an unknown day.
func (w *HoursWindow) Weekday() (day time.Weekday, ok bool) {
	day, ok = weekdays[strings.ToLower(w.Day)]
	return day, ok
}

// ParseClock parses HH:MM (24 h) into minutes after midnight.
func ParseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	d := func(c byte) (int, bool) { return int(c - '0'), c >= '0' && c <= '9' }
	h1, a := d(s[0])
	h2, b := d(s[1])
	m1, c := d(s[3])
	m2, e := d(s[4])
	h, m := h1*10+h2, m1*10+m2
	if !a || !b || !c || !e || h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
