package v1alpha1

import (
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Meta's limits of the Messenger Profile (reference §7.3), as the CRD's CEL rules give them.
const (
	MaxGreetingRunes      = 160
	MaxIceBreakers        = 4
	MaxIceBreakerRunes    = 80
	MaxMenuItems          = 20
	MaxMenuTitleRunes     = 30
	MaxPostbackPayloadLen = 1000
	// DefaultLocale is the locale Meta requires in greetings, ice breakers and menus.
	DefaultLocale = "default"
)

// The Messenger Profile properties the operator manages, by their Graph names: the only ones a
// check reads, and the only ones prune removes.
const (
	ProfileGetStarted         = "get_started"
	ProfileGreeting           = "greeting"
	ProfileIceBreakers        = "ice_breakers"
	ProfilePersistentMenu     = "persistent_menu"
	ProfileWhitelistedDomains = "whitelisted_domains"
)

// ProfileFields are the managed properties, in Meta's order. A new slice on each call.
func ProfileFields() []string {
	return []string{ProfileGetStarted, ProfileGreeting, ProfileIceBreakers, ProfilePersistentMenu, ProfileWhitelistedDomains}
}

// Properties are the profile's properties in the Graph API's JSON form (POST
// /me/messenger_profile), keyed by property name; absent properties are not in the map. Values
// are plain maps and slices, so that two profiles compare after a JSON round trip.
func (p *MessengerProfile) Properties() map[string]any {
	out := map[string]any{}
	if p == nil {
		return out
	}
	if g := p.GetStarted; g != nil {
		out[ProfileGetStarted] = map[string]any{"payload": g.Payload}
	}
	if len(p.Greetings) > 0 {
		gs := make([]any, 0, len(p.Greetings))
		for _, g := range p.Greetings {
			gs = append(gs, map[string]any{"locale": g.Locale, "text": g.Text})
		}
		out[ProfileGreeting] = gs
	}
	if len(p.IceBreakers) > 0 {
		ib := make([]any, 0, len(p.IceBreakers))
		for _, l := range p.IceBreakers {
			qs := make([]any, 0, len(l.Questions))
			for _, q := range l.Questions {
				qs = append(qs, map[string]any{"question": q.Question, "payload": q.Payload})
			}
			ib = append(ib, map[string]any{"locale": l.Locale, "call_to_actions": qs})
		}
		out[ProfileIceBreakers] = ib
	}
	if len(p.PersistentMenu) > 0 {
		ms := make([]any, 0, len(p.PersistentMenu))
		for _, m := range p.PersistentMenu {
			items := make([]any, 0, len(m.Items))
			for _, it := range m.Items {
				switch {
				case it.Postback != nil:
					items = append(items, map[string]any{"type": "postback", "title": it.Postback.Title, "payload": it.Postback.Payload})
				case it.WebURL != nil:
					items = append(items, map[string]any{"type": "web_url", "title": it.WebURL.Title, "url": it.WebURL.URL})
				}
			}
			ms = append(ms, map[string]any{"locale": m.Locale, "composer_input_disabled": m.ComposerInputDisabled, "call_to_actions": items})
		}
		out[ProfilePersistentMenu] = ms
	}
	if len(p.WhitelistedDomains) > 0 {
		ds := make([]any, 0, len(p.WhitelistedDomains))
		for _, d := range p.WhitelistedDomains {
			ds = append(ds, d)
		}
		out[ProfileWhitelistedDomains] = ds
	}
	return out
}

// ProfilePostback is a tap target of the profile that sends a postback: a menu item (Title is its
// title) or an ice breaker (Title is its question, as the postback's title carries it).
type ProfilePostback struct {
	Title, Payload string
}

// Postbacks are the profile's menu postbacks and ice breakers of every locale, in spec order
// (the Get Started payload is not among them).
func (p *MessengerProfile) Postbacks() []ProfilePostback {
	if p == nil {
		return nil
	}
	var out []ProfilePostback
	for _, m := range p.PersistentMenu {
		for _, it := range m.Items {
			if it.Postback != nil {
				out = append(out, ProfilePostback{Title: it.Postback.Title, Payload: it.Postback.Payload})
			}
		}
	}
	for _, l := range p.IceBreakers {
		for _, q := range l.Questions {
			out = append(out, ProfilePostback{Title: q.Question, Payload: q.Payload})
		}
	}
	return out
}

// UnhandledPayloads are the payloads of the profile's menu items and ice breakers that no
// postbackPayloads trigger of the policy (handoff or take-back) names, other than the Get Started
// payload, each once in spec order: taps on them get the policy's welcome, which may not be what
// the item promises (ProfilePayloadUnhandled).
func (p *MessengerProfile) UnhandledPayloads(policy *HandoverPolicySpec) []string {
	var handled []string
	if policy != nil {
		handled = append(slices.Clone(policy.Handoff.Triggers.PostbackPayloads), policy.TakeBack.Triggers.PostbackPayloads...)
	}
	if p != nil && p.GetStarted != nil {
		handled = append(handled, p.GetStarted.Payload)
	}
	var out []string
	for _, pb := range p.Postbacks() {
		if !slices.Contains(handled, pb.Payload) && !slices.Contains(out, pb.Payload) {
			out = append(out, pb.Payload)
		}
	}
	return out
}

var (
	localePattern = regexp.MustCompile(`^(default|[a-z]{2}_[A-Z]{2})$`)
	originPattern = regexp.MustCompile(`^https://[^\s/?#]+/?$`)
	webURLPattern = regexp.MustCompile(`^https?://[^\s/?#]+(/[^\s]*)?$`)
)

// Validate repeats the schema's rules of spec.profile (Meta's limits), for pages read from a
// directory; it returns the first problem, in the schema's words.
func (p *MessengerProfile) Validate() error {
	if p == nil {
		return nil
	}
	field := func(name, detail string) error { return FieldError{Field: "spec.profile." + name, Detail: detail} }
	if len(p.PersistentMenu) > 0 && p.GetStarted == nil {
		return field("persistentMenu", "persistentMenu needs getStarted: Meta shows a persistent menu only on a Page with a Get Started button")
	}
	if g := p.GetStarted; g != nil {
		if err := checkPayload("getStarted.payload", g.Payload); err != nil {
			return err
		}
	}
	locales := make([]string, 0, len(p.Greetings))
	for i, g := range p.Greetings {
		f := fmt.Sprintf("greetings[%d]", i)
		switch n := utf8.RuneCountInString(g.Text); {
		case n == 0:
			return field(f+".text", "required")
		case n > MaxGreetingRunes:
			return field(f+".text", fmt.Sprintf("a greeting's text is at most %d characters (Meta's limit)", MaxGreetingRunes))
		}
		locales = append(locales, g.Locale)
	}
	if err := checkLocales("greetings", locales); err != nil {
		return err
	}
	locales = locales[:0]
	for i, l := range p.IceBreakers {
		f := fmt.Sprintf("iceBreakers[%d].questions", i)
		if len(l.Questions) == 0 || len(l.Questions) > MaxIceBreakers {
			return field(f, fmt.Sprintf("iceBreakers take 1 to %d questions per locale (Meta's limit)", MaxIceBreakers))
		}
		for j, q := range l.Questions {
			if n := utf8.RuneCountInString(q.Question); n == 0 || n > MaxIceBreakerRunes {
				return field(fmt.Sprintf("%s[%d].question", f, j), fmt.Sprintf("an ice breaker's question is 1 to %d characters (Meta's limit)", MaxIceBreakerRunes))
			}
			if err := checkPayload(fmt.Sprintf("%s[%d].payload", f, j), q.Payload); err != nil {
				return err
			}
		}
		locales = append(locales, l.Locale)
	}
	if err := checkLocales("iceBreakers", locales); err != nil {
		return err
	}
	locales = locales[:0]
	for i, m := range p.PersistentMenu {
		if err := m.validate(fmt.Sprintf("persistentMenu[%d]", i)); err != nil {
			return err
		}
		locales = append(locales, m.Locale)
	}
	if err := checkLocales("persistentMenu", locales); err != nil {
		return err
	}
	for i, d := range p.WhitelistedDomains {
		if !originPattern.MatchString(d) {
			return field(fmt.Sprintf("whitelistedDomains[%d]", i), "whitelistedDomains are https origins such as https://shop.example.com (Meta accepts only https, without a path)")
		}
	}
	return nil
}

func (m *PersistentMenu) validate(f string) error {
	field := func(name, detail string) error { return FieldError{Field: "spec.profile." + name, Detail: detail} }
	if len(m.Items) == 0 || len(m.Items) > MaxMenuItems {
		return field(f+".items", fmt.Sprintf("a persistent menu takes 1 to %d items per locale (Meta's limit)", MaxMenuItems))
	}
	for j, it := range m.Items {
		fi := fmt.Sprintf("%s.items[%d]", f, j)
		if (it.Postback == nil) == (it.WebURL == nil) {
			return field(fi, "a menu item is exactly one of postback and webURL")
		}
		title := ""
		if it.Postback != nil {
			title = it.Postback.Title
			if err := checkPayload(fi+".postback.payload", it.Postback.Payload); err != nil {
				return err
			}
		} else {
			title = it.WebURL.Title
			if !webURLPattern.MatchString(it.WebURL.URL) || len(it.WebURL.URL) > 2048 {
				return field(fi+".webURL.url", "must be an http(s) URL")
			}
		}
		if n := utf8.RuneCountInString(title); n == 0 || n > MaxMenuTitleRunes {
			return field(fi, fmt.Sprintf("a menu item's title is 1 to %d characters (Meta's limit)", MaxMenuTitleRunes))
		}
	}
	return nil
}

func checkPayload(f, payload string) error {
	if n := utf8.RuneCountInString(payload); n == 0 || n > MaxPostbackPayloadLen {
		return FieldError{Field: "spec.profile." + f, Detail: fmt.Sprintf("a postback payload is 1 to %d characters (Meta's limit)", MaxPostbackPayloadLen)}
	}
	return nil
}

// checkLocales: each locale well formed and once, and default among them (when any).
func checkLocales(f string, locales []string) error {
	if len(locales) == 0 {
		return nil
	}
	for i, l := range locales {
		if !localePattern.MatchString(l) {
			return FieldError{Field: fmt.Sprintf("spec.profile.%s[%d].locale", f, i), Detail: "a locale is default or looks like en_US"}
		}
		if slices.Index(locales, l) != i {
			return FieldError{Field: fmt.Sprintf("spec.profile.%s[%d].locale", f, i), Detail: fmt.Sprintf("locale %s appears twice", l)}
		}
	}
	if !slices.Contains(locales, DefaultLocale) {
		return FieldError{Field: "spec.profile." + f, Detail: f + " need an entry with locale default (Meta requires one)"}
	}
	return nil
}
