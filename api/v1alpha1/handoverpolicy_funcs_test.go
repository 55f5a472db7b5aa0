package v1alpha1

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An empty spec defaults to the tutorial's conversation; set fields are kept; Default is idempotent.
func TestHandoverPolicyDefault(t *testing.T) {
	s := DefaultHandoverPolicySpec()
	if s.Welcome.Text != DefaultWelcomeText || s.Handoff.TargetAppID != PageInboxAppID || s.OnRequest != RequestPass ||
		s.FirstNameFallback != "there" || s.ErrorMessage.Text != DefaultErrorText || s.Done.Text != DefaultDoneText ||
		!reflect.DeepEqual(s.Handoff.Triggers.QuickReplyPayloads, []string{PassToInboxPayload}) ||
		!reflect.DeepEqual(s.TakeBack.Triggers.QuickReplyPayloads, []string{TakeFromInboxPayload}) ||
		s.BusinessHours != nil || s.AgentIdleTimeout != nil {
		t.Fatalf("default spec %+v", s)
	}
	again := *s.DeepCopy()
	again.Default()
	if !reflect.DeepEqual(again, s) {
		t.Fatal("Default is not idempotent")
	}
	set := HandoverPolicySpec{Welcome: Message{Text: "hi"}, Handoff: HandoffSpec{Triggers: Triggers{Keywords: []string{"agent"}}},
		BusinessHours: &BusinessHours{TimeZone: "UTC", OutsideHours: OutsideHours{Action: OutsidePassAnyway}}}
	set.Default()
	if set.Welcome.Text != "hi" || len(set.Welcome.QuickReplies) != 0 || len(set.Handoff.Triggers.QuickReplyPayloads) != 0 ||
		set.BusinessHours.OutsideHours.Action != OutsidePassAnyway || set.BusinessHours.OutsideHours.Message.Text != DefaultClosedText {
		t.Fatalf("set fields: %+v", set)
	}
	var p HandoverPolicy
	p.Default()
	if p.Status.ObservedGeneration != -1 || p.Spec.Welcome.Text == "" {
		t.Fatalf("new policy %+v", p)
	}
}

func window() []HoursWindow { return []HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}} }

// Validate reports every problem, each with its field and a reason a Ready condition can carry,
// and leaves the spec as it was.
func TestHandoverPolicyValidate(t *testing.T) {
	if errs := (&HandoverPolicySpec{}).Validate(); errs != nil {
		t.Fatalf("an empty policy: %v", errs)
	}
	spec := &HandoverPolicySpec{
		Handoff:  HandoffSpec{Triggers: Triggers{Patterns: []string{"(", "ok", "[z-a]"}, Keywords: []string{"agent", " "}}},
		TakeBack: TakeBackSpec{Triggers: Triggers{Patterns: []string{"*"}}},
		BusinessHours: &BusinessHours{TimeZone: "Mars/Base", Windows: []HoursWindow{
			{Day: "Funday", Start: "09:00", End: "17:00"}, {Day: "Monday", Start: "24:00", End: "9:30"}, {Day: "Monday", Start: "09:00", End: "09:00"}}},
		Welcome: Message{Text: "   "},
	}
	before := *spec.DeepCopy()
	errs := spec.Validate()
	if !reflect.DeepEqual(before, *spec) {
		t.Fatal("Validate changed the spec")
	}
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Reason
	}
	want := map[string]string{
		"spec.welcome.text":                   ReasonInvalidSpec,
		"spec.handoff.triggers.keywords[1]":   ReasonInvalidSpec,
		"spec.handoff.triggers.patterns[0]":   ReasonInvalidPattern,
		"spec.handoff.triggers.patterns[2]":   ReasonInvalidPattern,
		"spec.takeBack.triggers.patterns[0]":  ReasonInvalidPattern,
		"spec.businessHours.timeZone":         ReasonInvalidTimeZone,
		"spec.businessHours.windows[0].day":   ReasonInvalidSpec,
		"spec.businessHours.windows[1].start": ReasonInvalidSpec,
		"spec.businessHours.windows[1].end":   ReasonInvalidSpec,
		"spec.businessHours.windows[2]":       ReasonInvalidSpec,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %v\nwant %v", got, want)
	}
	if errs.Reason() != ReasonInvalidSpec || errs[0].Field != "spec.welcome.text" {
		t.Errorf("first problem %+v", errs[0])
	}
	var pe PolicyError
	if !errors.As(error(errs), &pe) || strings.Count(errs.Error(), "; ") != len(errs)-1 {
		t.Errorf("error %v", errs)
	}
	if PolicyErrors(nil).Reason() != ReasonValid {
		t.Error("no problem, no reason")
	}

	for name, tc := range map[string]struct {
		spec   HandoverPolicySpec
		app    string
		field  string
		reason string
	}{
		"local zone":      {HandoverPolicySpec{BusinessHours: &BusinessHours{TimeZone: "Local", Windows: window()}}, "", "spec.businessHours.timeZone", ReasonInvalidTimeZone},
		"no window":       {HandoverPolicySpec{BusinessHours: &BusinessHours{TimeZone: "UTC"}}, "", "spec.businessHours.windows", ReasonInvalidSpec},
		"PassTo no app":   {HandoverPolicySpec{BusinessHours: &BusinessHours{TimeZone: "UTC", Windows: window(), OutsideHours: OutsideHours{Action: OutsidePassTo}}}, "", "spec.businessHours.outsideHours.appID", ReasonInvalidSpec},
		"PassTo own app":  {HandoverPolicySpec{BusinessHours: &BusinessHours{TimeZone: "UTC", Windows: window(), OutsideHours: OutsideHours{Action: OutsidePassTo, AppID: "7"}}}, "7", "spec.businessHours.outsideHours.appID", ReasonInvalidSpec},
		"target own app":  {HandoverPolicySpec{Handoff: HandoffSpec{TargetAppID: "7"}}, "7", "spec.handoff.targetAppID", ReasonInvalidSpec},
		"target not id":   {HandoverPolicySpec{Handoff: HandoffSpec{TargetAppID: "inbox"}}, "", "spec.handoff.targetAppID", ReasonInvalidSpec},
		"metadata":        {HandoverPolicySpec{Handoff: HandoffSpec{Metadata: strings.Repeat("é", 1000)}}, "", "spec.handoff.metadata", ReasonInvalidSpec},
		"onRequest":       {HandoverPolicySpec{OnRequest: "Maybe"}, "", "spec.onRequest", ReasonInvalidSpec},
		"idle timeout":    {HandoverPolicySpec{AgentIdleTimeout: duration(200 * time.Hour)}, "", "spec.agentIdleTimeout", ReasonInvalidSpec},
		"beyond window":   {HandoverPolicySpec{AgentIdleTimeout: duration(25 * time.Hour)}, "", "spec.agentIdleTimeout", ReasonInvalidSpec},
		"too many words":  {HandoverPolicySpec{TakeBack: TakeBackSpec{Triggers: Triggers{Keywords: make([]string, 65)}}}, "", "spec.takeBack.triggers.keywords", ReasonInvalidSpec},
		"buttons & cards": {HandoverPolicySpec{Done: Message{Text: "x", Buttons: &ButtonTemplate{}, Cards: []Card{{}}}}, "", "spec.done", ReasonInvalidSpec},
	} {
		errs := tc.spec.ValidateForApp(tc.app)
		if len(errs) != 1 || errs[0].Field != tc.field || errs[0].Reason != tc.reason {
			t.Errorf("%s: %+v, want one problem at %s", name, errs, tc.field)
		}
	}
	// An agentIdleTimeout over the 24h window needs the opt-in; up to 24h it does not.
	for _, spec := range []HandoverPolicySpec{
		{AgentIdleTimeout: duration(25 * time.Hour), AgentIdleTimeoutBeyondWindow: true},
		{AgentIdleTimeout: duration(24 * time.Hour)},
	} {
		if errs := spec.Validate(); errs != nil {
			t.Errorf("%v (beyond window %v): %v", spec.AgentIdleTimeout.Duration, spec.AgentIdleTimeoutBeyondWindow, errs)
		}
	}
	// Only ValidateForApp knows the page's app.
	own := HandoverPolicySpec{Handoff: HandoffSpec{TargetAppID: "7"}}
	if errs := own.Validate(); errs != nil {
		t.Errorf("Validate without an app: %v", errs)
	}
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// The patterns of a policy together compile to at most MaxPatternProgramSize RE2 instructions:
// 32 repetitions of a large class (about 1 s of CPU per 2000-rune message) are refused with their
// own reason, naming the pattern that went over; typical patterns fit many times over.
func TestHandoverPolicyPatternCost(t *testing.T) {
	costly := make([]string, 32)
	for i := range costly {
		costly[i] = `[\p{L}\p{N}]{1000}`
	}
	spec := HandoverPolicySpec{Handoff: HandoffSpec{Triggers: Triggers{Patterns: costly[:16]}}, TakeBack: TakeBackSpec{Triggers: Triggers{Patterns: costly[16:]}}}
	errs := spec.Validate()
	if len(errs) != 1 || errs[0].Reason != ReasonPatternsTooComplex || errs[0].Field != "spec.handoff.triggers.patterns[1]" ||
		!strings.Contains(errs[0].Detail, fmt.Sprint(MaxPatternProgramSize)) {
		t.Fatalf("costly patterns: %+v", errs)
	}
	if errs.Reason() != ReasonPatternsTooComplex {
		t.Errorf("reason %q", errs.Reason())
	}
	// The sum counts across both trigger lists.
	spec = HandoverPolicySpec{Handoff: HandoffSpec{Triggers: Triggers{Patterns: costly[:1]}}, TakeBack: TakeBackSpec{Triggers: Triggers{Patterns: costly[:1]}}}
	if errs := spec.Validate(); len(errs) != 1 || errs[0].Field != "spec.takeBack.triggers.patterns[0]" {
		t.Fatalf("two lists: %+v", errs)
	}
	typical := make([]string, 30) // 63 instructions each
	for i := range typical {
		typical[i] = `(?i)\b(talk|speak)\s+(to|with)\s+(a\s+)?(human|person|agent|someone)\b`
	}
	spec = HandoverPolicySpec{Handoff: HandoffSpec{Triggers: Triggers{Patterns: typical[:15]}}, TakeBack: TakeBackSpec{Triggers: Triggers{Patterns: typical[15:]}}}
	if errs := spec.Validate(); errs != nil {
		t.Fatalf("30 typical patterns: %v", errs)
	}
}

func TestParseClockAndWeekday(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": -1, "9:30": -1, "12:60": -1, "ab:cd": -1, "": -1} {
		got, ok := ParseClock(s)
		if (want < 0) == ok || (ok && got != want) {
			t.Errorf("ParseClock(%q) = %d, %v", s, got, ok)
		}
	}
	if d, ok := (&HoursWindow{Day: "Sunday"}).Weekday(); !ok || d != time.Sunday {
		t.Error("Sunday")
	}
	if _, ok := (&HoursWindow{Day: "Funday"}).Weekday(); ok {
		t.Error("Funday")
	}
	if loc, err := (&BusinessHours{TimeZone: "Europe/Paris"}).Location(); err != nil || loc.String() != "Europe/Paris" {
		t.Errorf("Location: %v %v", loc, err)
	}
}
