package handover

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// An empty spec, a nil spec and the API's default spec behave the same: the tutorial's conversation.
func TestCompileDefaults(t *testing.T) {
	def := v1alpha1.DefaultHandoverPolicySpec()
	if def.Handoff.TargetAppID != inbox || def.OnRequest != v1alpha1.RequestPass || def.FirstNameFallback != "there" ||
		def.Welcome.Text != v1alpha1.DefaultWelcomeText || def.ErrorMessage.Text != v1alpha1.DefaultErrorText ||
		!reflect.DeepEqual(def.Handoff.Triggers.QuickReplyPayloads, []string{"pass_to_inbox"}) ||
		!reflect.DeepEqual(def.TakeBack.Triggers.QuickReplyPayloads, []string{"take_from_inbox"}) ||
		def.AgentIdleTimeout != nil || def.BusinessHours != nil {
		t.Errorf("DefaultSpec %+v", def)
	}
	for name, spec := range map[string]*v1alpha1.HandoverPolicySpec{"nil": nil, "empty": {}, "DefaultSpec": &def} {
		pol, err := Compile(testPage, testApp, bizName, spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pol.TargetAppID() != inbox || pol.IdleTimeout() != 0 || pol.hours != nil || !pol.passRequest {
			t.Errorf("%s: %+v", name, pol)
		}
		for _, m := range []*OutMessage{pol.welcome, pol.handoff, pol.takeBack, pol.done, pol.errorMsg} {
			if m.Text == "" || m.FirstNameFallback != "there" {
				t.Errorf("%s: message %+v", name, m)
			}
		}
		if got := pol.takeBackTriggers.quickReplyTitles; !reflect.DeepEqual(got, []string{"Take From Inbox"}) {
			t.Errorf("%s: take-back titles %v", name, got)
		}
		if got := pol.handoffTriggers.quickReplyTitles; !reflect.DeepEqual(got, []string{"Pass to Inbox"}) {
			t.Errorf("%s: handoff titles %v", name, got)
		}
	}
	// Business hours get their defaults too, and the spec given is not changed.
	spec := &v1alpha1.HandoverPolicySpec{BusinessHours: &v1alpha1.BusinessHours{
		TimeZone: "Europe/Paris", Windows: []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}},
	}}
	pol, err := Compile(testPage, testApp, bizName, spec)
	if err != nil {
		t.Fatal(err)
	}
	if pol.hours.action != v1alpha1.OutsideBotOnly || pol.hours.message.Text != closedTxt {
		t.Errorf("outside hours %+v", pol.hours)
	}
	if spec.BusinessHours.OutsideHours.Action != "" || spec.Welcome.Text != "" {
		t.Errorf("Compile changed its input: %+v", spec)
	}
	if pol.welcome.NeedsFirstName {
		t.Error("the default welcome does not use {{first_name}}")
	}
}

func TestCompileErrorsNameFields(t *testing.T) {
	bh := func(tz string, w ...v1alpha1.HoursWindow) *v1alpha1.BusinessHours {
		if len(w) == 0 {
			w = []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}}
		}
		return &v1alpha1.BusinessHours{TimeZone: tz, Windows: w}
	}
	for _, tc := range []struct {
		name   string
		spec   v1alpha1.HandoverPolicySpec
		want   string // the error's text starts with this
		reason string
	}{
		{"pattern", v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{Patterns: []string{"ok", "(a"}}}},
			"spec.handoff.triggers.patterns[1]: error parsing regexp: missing closing ): `(a`", v1alpha1.ReasonInvalidPattern},
		{"take-back pattern", v1alpha1.HandoverPolicySpec{TakeBack: v1alpha1.TakeBackSpec{Triggers: v1alpha1.Triggers{Patterns: []string{`\p{Foo}`}}}},
			"spec.takeBack.triggers.patterns[0]: error parsing regexp: invalid character class range", v1alpha1.ReasonInvalidPattern},
		{"time zone", v1alpha1.HandoverPolicySpec{BusinessHours: bh("Mars/Base")},
			`spec.businessHours.timeZone: unknown time zone "Mars/Base"`, v1alpha1.ReasonInvalidTimeZone},
		{"Local", v1alpha1.HandoverPolicySpec{BusinessHours: bh("Local")},
			`spec.businessHours.timeZone: unknown time zone "Local"`, v1alpha1.ReasonInvalidTimeZone},
		{"empty zone", v1alpha1.HandoverPolicySpec{BusinessHours: bh("")},
			`spec.businessHours.timeZone: unknown time zone ""`, v1alpha1.ReasonInvalidTimeZone},
		{"day", v1alpha1.HandoverPolicySpec{BusinessHours: bh("UTC", v1alpha1.HoursWindow{Day: "Funday", Start: "09:00", End: "10:00"})},
			`spec.businessHours.windows[0].day: unknown day "Funday"`, v1alpha1.ReasonInvalidSpec},
		{"start", v1alpha1.HandoverPolicySpec{BusinessHours: bh("UTC", v1alpha1.HoursWindow{Day: "Monday", Start: "24:00", End: "10:00"})},
			`spec.businessHours.windows[0].start: "24:00" is not a time of day`, v1alpha1.ReasonInvalidSpec},
		{"end", v1alpha1.HandoverPolicySpec{BusinessHours: bh("UTC", v1alpha1.HoursWindow{Day: "Monday", Start: "09:00", End: "9:30"})},
			`spec.businessHours.windows[0].end: "9:30" is not a time of day`, v1alpha1.ReasonInvalidSpec},
		{"empty window", v1alpha1.HandoverPolicySpec{BusinessHours: bh("UTC", v1alpha1.HoursWindow{Day: "Monday", Start: "09:00", End: "09:00"})},
			`spec.businessHours.windows[0]: a window's start and end must differ`, v1alpha1.ReasonInvalidSpec},
		{"PassTo without app", v1alpha1.HandoverPolicySpec{BusinessHours: &v1alpha1.BusinessHours{TimeZone: "UTC",
			Windows: []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}}, OutsideHours: v1alpha1.OutsideHours{Action: v1alpha1.OutsidePassTo}}},
			`spec.businessHours.outsideHours.appID: required`, v1alpha1.ReasonInvalidSpec},
		{"outside action", v1alpha1.HandoverPolicySpec{BusinessHours: &v1alpha1.BusinessHours{TimeZone: "UTC",
			Windows: []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}}, OutsideHours: v1alpha1.OutsideHours{Action: "Maybe"}}},
			`spec.businessHours.outsideHours.action: unknown action "Maybe"`, v1alpha1.ReasonInvalidSpec},
		{"target is us", v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{TargetAppID: testApp}},
			"spec.handoff.targetAppID: " + testApp + " is this page's own app", v1alpha1.ReasonInvalidSpec},
		{"target not an id", v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{TargetAppID: "inbox"}},
			`spec.handoff.targetAppID: "inbox" is not an app id`, v1alpha1.ReasonInvalidSpec},
		{"onRequest", v1alpha1.HandoverPolicySpec{OnRequest: "Maybe"}, `spec.onRequest: unknown action "Maybe"`, v1alpha1.ReasonInvalidSpec},
		{"idle timeout", v1alpha1.HandoverPolicySpec{AgentIdleTimeout: durationPtr(0)}, "spec.agentIdleTimeout: 0s: use 1s to 168h", v1alpha1.ReasonInvalidSpec},
		{"keyword", v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{Keywords: []string{"agent", "  "}}}},
			"spec.handoff.triggers.keywords[1]: a keyword needs a word", v1alpha1.ReasonInvalidSpec},
		{"message without text", v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{QuickReplies: []v1alpha1.QuickReply{{Title: "a", Payload: "b"}}}},
			"spec.welcome.text: text is required", v1alpha1.ReasonInvalidSpec},
		{"buttons and cards", v1alpha1.HandoverPolicySpec{Done: v1alpha1.Message{Text: "x",
			Buttons: &v1alpha1.ButtonTemplate{Text: "b", Buttons: []v1alpha1.Button{{Type: "postback", Title: "t", Payload: "p"}}},
			Cards:   []v1alpha1.Card{{Title: "c", Subtitle: "s"}}}},
			"spec.done: a message has buttons or cards, not both", v1alpha1.ReasonInvalidSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, err := Compile(testPage, testApp, bizName, &tc.spec)
			if err == nil || pol != nil {
				t.Fatalf("Compile = %v, %v; want an error", pol, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\n want prefix %q", err, tc.want)
			}
			var pe v1alpha1.PolicyError
			if !errors.As(err, &pe) || pe.Reason != tc.reason || !strings.HasPrefix(tc.want, pe.Field+": ") {
				t.Errorf("PolicyError %+v (field, reason %q)", pe, tc.reason)
			}
		})
	}
}

// Every problem is reported, and Validate gives the same list for the policy reconciler,
// agreeing with the API type's own check on what the schema cannot catch.
func TestValidate(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{
		Handoff:  v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{Patterns: []string{"(", "ok", "[z-a]"}}},
		TakeBack: v1alpha1.TakeBackSpec{Triggers: v1alpha1.Triggers{Patterns: []string{"*"}}},
		BusinessHours: &v1alpha1.BusinessHours{TimeZone: "Mars/Base",
			Windows: []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}}},
	}
	got := Validate(spec)
	fields := map[string]string{}
	for _, p := range got {
		fields[p.Field] = p.Reason
	}
	want := map[string]string{
		"spec.handoff.triggers.patterns[0]":  v1alpha1.ReasonInvalidPattern,
		"spec.handoff.triggers.patterns[2]":  v1alpha1.ReasonInvalidPattern,
		"spec.takeBack.triggers.patterns[0]": v1alpha1.ReasonInvalidPattern,
		"spec.businessHours.timeZone":        v1alpha1.ReasonInvalidTimeZone,
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Validate fields %v, want %v", fields, want)
	}
	api := spec.Validate()
	if len(api) != len(got) {
		t.Fatalf("api Validate %v, ours %v", api, got)
	}
	for i := range api {
		if api[i] != got[i] {
			t.Errorf("problem %d: api %+v, ours %+v", i, api[i], got[i])
		}
	}
	_, err := Compile(testPage, testApp, bizName, spec)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 4 || strings.Count(err.Error(), "; ") != 3 {
		t.Errorf("Compile error %v", err)
	}
	if Validate(nil) != nil || Validate(&v1alpha1.HandoverPolicySpec{}) != nil {
		t.Error("an empty policy is valid")
	}
}

func TestCompileMessages(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{
		Welcome: v1alpha1.Message{Text: "Hi {{first_name}}, welcome to {{business_name}}"},
		Done: v1alpha1.Message{Text: "fallback", Cards: []v1alpha1.Card{
			{Title: "Hello {{first_name}}", Subtitle: "s", ImageURL: "https://x/i.png",
				Buttons: []v1alpha1.Button{{Type: "postback", Title: "Agent", Payload: "AGENT"}}},
		}},
		FirstNameFallback: "friend",
		AgentIdleTimeout:  durationPtr(90 * time.Second),
	}
	pol, err := Compile(testPage, testApp, bizName, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !pol.welcome.NeedsFirstName || pol.welcome.FirstNameFallback != "friend" {
		t.Errorf("welcome %+v", pol.welcome)
	}
	if !pol.done.NeedsFirstName || !pol.done.Template() || len(pol.done.Cards) != 1 || pol.done.Cards[0].Buttons[0].Payload != "AGENT" {
		t.Errorf("done %+v", pol.done)
	}
	if pol.handoff.NeedsFirstName || pol.handoff.Template() {
		t.Errorf("handoff %+v", pol.handoff)
	}
	if pol.IdleTimeout() != 90*time.Second {
		t.Errorf("idle timeout %v", pol.IdleTimeout())
	}
}

// A policy whose patterns together compile to more than MaxPatternProgramSize RE2 instructions is
// refused by Compile (the webhook keeps its last good policy), naming the pattern that went over.
func TestCompileRefusesCostlyPatterns(t *testing.T) {
	costly := make([]string, 32)
	for i := range costly {
		costly[i] = `[\p{L}\p{N}]{1000}`
	}
	spec := &v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{Patterns: costly}}}
	pol, err := Compile(testPage, testApp, bizName, spec)
	var pe v1alpha1.PolicyError
	if pol != nil || !errors.As(err, &pe) || pe.Reason != v1alpha1.ReasonPatternsTooComplex ||
		pe.Field != "spec.handoff.triggers.patterns[1]" {
		t.Fatalf("Compile = %v, %v (%+v)", pol, err, pe)
	}
	// Under the limit the same pattern compiles.
	spec.Handoff.Triggers.Patterns = costly[:1]
	if _, err := Compile(testPage, testApp, bizName, spec); err != nil {
		t.Fatal(err)
	}
}
