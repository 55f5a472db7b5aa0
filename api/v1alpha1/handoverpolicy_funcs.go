package v1alpha1

import (
	"fmt"
	"regexp"
	"time"

	// Distroless images carry no zone data; embed it wherever a policy is checked.
	_ "time/tzdata"
)

// PolicyError is a problem with a HandoverPolicy that its schema cannot catch.
type PolicyError struct {
	Field  string // e.g. spec.handoff.triggers.patterns[1]
	Reason string // ReasonInvalidPattern or ReasonInvalidTimeZone
	Detail string
}

func (e PolicyError) Error() string { return e.Field + ": " + e.Detail }

// Validate checks what CEL cannot: that patterns compile as RE2 and that the time zone exists.
func (s *HandoverPolicySpec) Validate() []PolicyError {
	var errs []PolicyError
	check := func(field string, patterns []string) {
		for i, p := range patterns {
			if _, err := regexp.Compile(p); err != nil {
				errs = append(errs, PolicyError{
					Field:  fmt.Sprintf("%s[%d]", field, i),
					Reason: ReasonInvalidPattern,
					Detail: err.Error(),
				})
			}
		}
	}
	check("spec.handoff.triggers.patterns", s.Handoff.Triggers.Patterns)
	check("spec.takeBack.triggers.patterns", s.TakeBack.Triggers.Patterns)
	if bh := s.BusinessHours; bh != nil {
		if _, err := time.LoadLocation(bh.TimeZone); err != nil || bh.TimeZone == "Local" {
			errs = append(errs, PolicyError{
				Field:  "spec.businessHours.timeZone",
				Reason: ReasonInvalidTimeZone,
				Detail: fmt.Sprintf("unknown time zone %q: use an IANA name such as Europe/Paris", bh.TimeZone),
			})
		}
	}
	return errs
}
