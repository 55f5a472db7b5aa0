package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The Messenger Profile (reference §7.3): /{page}/messenger_profile with a Page token. GET
// ?fields= answers {"data":[{...}]} (empty data when nothing is set), POST sets the properties it
// names and leaves the others, DELETE {"fields":[...]} removes them; writes answer
// {"result":"success"}. Every violated limit is a code 100 error and nothing changes.

const (
	maxGreeting    = 160 // greeting text (§7.3)
	maxIceBreakers = 4   // questions (per locale) (§7.3)
	maxMenuItems   = 20  // persistent menu buttons per locale (§7.3)
	// maxMenuTitle: persistent menu item titles; not in the reference, from Meta's persistent menu
	// reference ("title: 30 character limit").
	maxMenuTitle = 30
)

// profileFields are the properties the simulator keeps, in the order GET writes them.
var profileFields = []string{"get_started", "greeting", "ice_breakers", "persistent_menu", "whitelisted_domains", "commands"}

func knownProfileField(f string) bool {
	for _, k := range profileFields {
		if k == f {
			return true
		}
	}
	return false
}

// messengerProfile is a Page's profile: each set property as validated JSON.
type messengerProfile map[string]json.RawMessage

type profileGetStarted struct {
	Payload *string `json:"payload"`
}

type profileLocaleText struct {
	Locale string  `json:"locale"`
	Text   *string `json:"text"`
}

type iceBreaker struct {
	Question string `json:"question"`
	Payload  string `json:"payload"`
}

// iceBreakerEntry is either form: {question, payload} (old) or {call_to_actions, locale} (new).
type iceBreakerEntry struct {
	Question      *string      `json:"question,omitempty"`
	Payload       *string      `json:"payload,omitempty"`
	CallToActions []iceBreaker `json:"call_to_actions,omitempty"`
	Locale        string       `json:"locale,omitempty"`
}

type menuEntry struct {
	Locale                string       `json:"locale"`
	ComposerInputDisabled bool         `json:"composer_input_disabled"`
	CallToActions         []menuButton `json:"call_to_actions"`
}

// menuButton is a persistent menu item: a postback or a URL button (§5.3 button fields).
type menuButton struct {
	Type                string     `json:"type"`
	Title               string     `json:"title"`
	Payload             flexString `json:"payload,omitzero"`
	URL                 string     `json:"url,omitempty"`
	WebviewHeightRatio  string     `json:"webview_height_ratio,omitempty"`
	MessengerExtensions bool       `json:"messenger_extensions,omitempty"`
	FallbackURL         string     `json:"fallback_url,omitempty"`
	WebviewShareButton  string     `json:"webview_share_button,omitempty"`
}

func (s *Simulator) messengerProfileEndpoint(method string, c *caller, p params) (any, *GraphError) {
	switch method {
	case http.MethodGet:
		fields, gerr := p.list("fields")
		if gerr != nil {
			return nil, gerr
		}
		if len(fields) == 0 {
			return nil, errParam("param fields is required")
		}
		for i, f := range fields {
			if !knownProfileField(f) {
				return nil, errProfileFieldName(fmt.Sprintf("fields[%d]", i))
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return profileAnswer(c.page.profile, fields), nil
	case http.MethodPost:
		props := map[string]json.RawMessage{}
		for k, v := range p {
			if k == "access_token" || k == "appsecret_proof" {
				continue
			}
			props[k] = v
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if gerr := s.setProfileLocked(c.page, c.app.name, props); gerr != nil {
			return nil, gerr
		}
		return map[string]string{"result": "success"}, nil
	case http.MethodDelete:
		fields, gerr := p.list("fields")
		if gerr != nil {
			return nil, gerr
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if gerr := s.deleteProfileLocked(c.page, c.app.name, fields); gerr != nil {
			return nil, gerr
		}
		return map[string]string{"result": "success"}, nil
	}
	return nil, errUnsupported(method, c.page.id)
}

func errProfileFieldName(param string) *GraphError {
	return errParam("param %s must be one of {%s}", param, strings.Join(profileFields, ", "))
}

// profileAnswer is GET's answer for the fields asked.
func profileAnswer(prof messengerProfile, fields []string) map[string]any {
	got := map[string]json.RawMessage{}
	for _, f := range fields {
		if v, ok := prof[f]; ok {
			got[f] = v
		}
	}
	data := []any{}
	if len(got) > 0 {
		data = append(data, got)
	}
	return map[string]any{"data": data}
}

// setProfileLocked validates every property given, then sets them all (a POST, or a hand edit at
// Meta through the control API).
func (s *Simulator) setProfileLocked(p *page, actor string, props map[string]json.RawMessage) *GraphError {
	if len(props) == 0 {
		return errParam("Requires one of the params: %s", strings.Join(profileFields, ", "))
	}
	next := messengerProfile{}
	for k, v := range p.profile {
		next[k] = v
	}
	var names []string
	for k, v := range props {
		if !knownProfileField(k) {
			return errParam("Invalid keys %q were found in param \"messenger_profile\"", k)
		}
		clean, gerr := validateProfileProperty(k, v)
		if gerr != nil {
			return gerr
		}
		next[k] = clean
		names = append(names, k)
	}
	if gerr := checkMenuNeedsGetStarted(next); gerr != nil {
		return gerr
	}
	p.profile = next
	sort.Strings(names)
	s.stepLocked(p, nil, Step{Actor: actor, Kind: StepProfile, Text: "messenger_profile set " + strings.Join(names, ", ")})
	return nil
}

func (s *Simulator) deleteProfileLocked(p *page, actor string, fields []string) *GraphError {
	if len(fields) == 0 {
		return errParam("param fields is required")
	}
	next := messengerProfile{}
	for k, v := range p.profile {
		next[k] = v
	}
	for i, f := range fields {
		if !knownProfileField(f) {
			return errProfileFieldName(fmt.Sprintf("fields[%d]", i))
		}
		delete(next, f)
	}
	if gerr := checkMenuNeedsGetStarted(next); gerr != nil {
		return gerr
	}
	p.profile = next
	s.stepLocked(p, nil, Step{Actor: actor, Kind: StepProfile, Text: "messenger_profile deleted " + strings.Join(fields, ", ")})
	return nil
}

// checkMenuNeedsGetStarted: a persistent menu needs Get Started (§7.3).
func checkMenuNeedsGetStarted(prof messengerProfile) *GraphError {
	if _, menu := prof["persistent_menu"]; menu {
		if _, gs := prof["get_started"]; !gs {
			return errParam("You must set a Get Started button if you also wish to use persistent menu.")
		}
	}
	return nil
}

// decodeStrict decodes a property, refusing unknown keys (Meta names them in its error).
func decodeStrict(name string, raw json.RawMessage, dst any) *GraphError {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		raw = json.RawMessage(str) // a form body carries the property as a JSON string
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return errParam("param %s is not valid: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// validateProfileProperty checks one property against the limits of §7.3 and returns it as JSON.
func validateProfileProperty(name string, raw json.RawMessage) (json.RawMessage, *GraphError) {
	var v any
	switch name {
	case "get_started":
		var gs profileGetStarted
		if gerr := decodeStrict(name, raw, &gs); gerr != nil {
			return nil, gerr
		}
		if gs.Payload == nil || *gs.Payload == "" || runes(*gs.Payload) > maxPayload {
			return nil, errParam("param get_started[payload] is required and must be at most %d characters", maxPayload)
		}
		v = gs
	case "greeting":
		var gr []profileLocaleText
		if gerr := decodeStrict(name, raw, &gr); gerr != nil {
			return nil, gerr
		}
		if gerr := checkLocales(name, len(gr), func(i int) string { return gr[i].Locale }); gerr != nil {
			return nil, gerr
		}
		for i, g := range gr {
			if g.Text == nil || *g.Text == "" {
				return nil, errParam("param greeting[%d][text] is required", i)
			}
			if runes(*g.Text) > maxGreeting {
				return nil, errParam("param greeting[%d][text] must be at most %d characters", i, maxGreeting)
			}
		}
		v = gr
	case "ice_breakers":
		ib, gerr := validateIceBreakers(raw)
		if gerr != nil {
			return nil, gerr
		}
		v = ib
	case "persistent_menu":
		m, gerr := validateMenu(raw)
		if gerr != nil {
			return nil, gerr
		}
		v = m
	case "whitelisted_domains":
		var ds []string
		if gerr := decodeStrict(name, raw, &ds); gerr != nil {
			return nil, gerr
		}
		for i, d := range ds {
			u, err := url.Parse(d)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return nil, errParam("param whitelisted_domains[%d] must be an https URL", i)
			}
		}
		v = ds
	case "commands":
		var cs []struct {
			Locale   string `json:"locale"`
			Commands []struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"commands"`
		}
		if gerr := decodeStrict(name, raw, &cs); gerr != nil {
			return nil, gerr
		}
		v = cs
	}
	out, _ := json.Marshal(v)
	return out, nil
}

// checkLocales: a default locale is required and no locale appears twice (§7.3).
func checkLocales(name string, n int, locale func(int) string) *GraphError {
	if n == 0 {
		return errParam("param %s must not be empty", name)
	}
	seen := map[string]bool{}
	for i := range n {
		l := locale(i)
		if l == "" {
			return errParam("param %s[%d][locale] is required", name, i)
		}
		if seen[l] {
			return errParam("param %s has the locale %s twice", name, l)
		}
		seen[l] = true
	}
	if !seen["default"] {
		return errParam("param %s must have a default locale", name)
	}
	return nil
}

// validateIceBreakers: up to 4 questions, in the old form or the localised one, not both in one
// POST (§7.3).
func validateIceBreakers(raw json.RawMessage) ([]iceBreakerEntry, *GraphError) {
	var es []iceBreakerEntry
	if gerr := decodeStrict("ice_breakers", raw, &es); gerr != nil {
		return nil, gerr
	}
	if len(es) == 0 {
		return nil, errParam("param ice_breakers must not be empty")
	}
	localised := es[0].CallToActions != nil
	checkQ := func(field string, q, p string) *GraphError {
		if q == "" || p == "" {
			return errParam("param %s needs a question and a payload", field)
		}
		if runes(p) > maxPayload {
			return errParam("param %s[payload] must be at most %d characters", field, maxPayload)
		}
		return nil
	}
	if !localised {
		if len(es) > maxIceBreakers {
			return nil, errParam("param ice_breakers must have at most %d questions", maxIceBreakers)
		}
		for i, e := range es {
			if e.CallToActions != nil || e.Locale != "" {
				return nil, errParam("param ice_breakers mixes the old and the localised form")
			}
			if gerr := checkQ(fmt.Sprintf("ice_breakers[%d]", i), deref(e.Question), deref(e.Payload)); gerr != nil {
				return nil, gerr
			}
		}
		return es, nil
	}
	seen := map[string]bool{}
	for i, e := range es {
		if e.CallToActions == nil || e.Question != nil || e.Payload != nil {
			return nil, errParam("param ice_breakers mixes the old and the localised form")
		}
		if e.Locale == "" || seen[e.Locale] {
			return nil, errParam("param ice_breakers[%d][locale] is missing or repeated", i)
		}
		seen[e.Locale] = true
		if len(e.CallToActions) == 0 || len(e.CallToActions) > maxIceBreakers {
			return nil, errParam("param ice_breakers[%d][call_to_actions] must have 1 to %d questions", i, maxIceBreakers)
		}
		for j, q := range e.CallToActions {
			if gerr := checkQ(fmt.Sprintf("ice_breakers[%d][call_to_actions][%d]", i, j), q.Question, q.Payload); gerr != nil {
				return nil, gerr
			}
		}
	}
	return es, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// validateMenu: a default locale, up to 20 postback or web_url buttons per locale, no nested
// menus (§7.3).
func validateMenu(raw json.RawMessage) ([]menuEntry, *GraphError) {
	var ms []menuEntry
	if gerr := decodeStrict("persistent_menu", raw, &ms); gerr != nil {
		return nil, gerr
	}
	if gerr := checkLocales("persistent_menu", len(ms), func(i int) string { return ms[i].Locale }); gerr != nil {
		return nil, gerr
	}
	for i, m := range ms {
		if len(m.CallToActions) > maxMenuItems {
			return nil, errParam("param persistent_menu[%d][call_to_actions] must have at most %d buttons", i, maxMenuItems)
		}
		if len(m.CallToActions) == 0 && !m.ComposerInputDisabled {
			return nil, errParam("param persistent_menu[%d][call_to_actions] must not be empty", i)
		}
		for j, b := range m.CallToActions {
			field := fmt.Sprintf("persistent_menu[%d][call_to_actions][%d]", i, j)
			if b.Type != "postback" && b.Type != "web_url" {
				return nil, errParam("param %s[type] must be postback or web_url (nested menus are no longer supported)", field)
			}
			if runes(b.Title) > maxMenuTitle {
				return nil, errParam("param %s[title] must be at most %d characters", field, maxMenuTitle)
			}
			// The button rules of the Send API apply but for the longer title.
			title := b.Title
			if runes(title) > maxButtonTitle {
				title = string([]rune(title)[:maxButtonTitle])
			}
			sb := sendButton{Type: b.Type, Title: &title, Payload: b.Payload, URL: b.URL, WebviewHeightRatio: b.WebviewHeightRatio}
			if b.Title == "" {
				sb.Title = nil
			}
			if _, gerr := validateButton(field, sb); gerr != nil {
				return nil, gerr
			}
		}
	}
	return ms, nil
}
