package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The welcome screen a person sees before writing, built from the Messenger Profile (reference
// §7.3), and the taps on it: Get Started, a persistent menu item, an ice breaker. Each tap is a
// messaging_postbacks event; on standby it carries no payload (§3.3, §3.4).

// WelcomeScreen is what a person sees on the Page's welcome screen and in the composer.
type WelcomeScreen struct {
	Page     string `json:"page"`
	Locale   string `json:"locale"`
	Greeting string `json:"greeting,omitempty"` // personalised ({{user_first_name}} ...)
	// IceBreakers are the API ice breakers; they take precedence over Get Started (§7.3).
	IceBreakers []string `json:"ice_breakers,omitempty"`
	// GetStarted: the Get Started button shows (set, and no ice breakers).
	GetStarted            bool       `json:"get_started"`
	Menu                  []MenuItem `json:"persistent_menu,omitempty"`
	ComposerInputDisabled bool       `json:"composer_input_disabled,omitempty"`
	WhitelistedDomains    []string   `json:"whitelisted_domains,omitempty"`
}

// MenuItem is a persistent menu button.
type MenuItem struct {
	Type    string `json:"type"` // postback or web_url
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// String renders the screen as a few lines for the transcript view and the demo.
func (w WelcomeScreen) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "welcome screen of page %s (%s)\n", w.Page, w.Locale)
	if w.Greeting != "" {
		fmt.Fprintf(&b, "  greeting: %s\n", w.Greeting)
	}
	for _, q := range w.IceBreakers {
		fmt.Fprintf(&b, "  ice breaker: [%s]\n", q)
	}
	if w.GetStarted {
		b.WriteString("  [Get Started]\n")
	}
	for _, m := range w.Menu {
		if m.Type == "web_url" {
			fmt.Fprintf(&b, "  menu: %s -> %s\n", m.Title, m.URL)
		} else {
			fmt.Fprintf(&b, "  menu: %s (%s)\n", m.Title, m.Payload)
		}
	}
	if w.ComposerInputDisabled {
		b.WriteString("  (composer disabled: the menu only)\n")
	}
	if w.Greeting == "" && len(w.IceBreakers) == 0 && !w.GetStarted && len(w.Menu) == 0 {
		b.WriteString("  (no messenger profile set)\n")
	}
	return b.String()
}

// Profile returns the Page's Messenger Profile as GET messenger_profile answers it for every field.
func (s *Simulator) Profile(pageID string) (map[string]json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return nil, fmt.Errorf("simulator: unknown page %q", pageID)
	}
	out := map[string]json.RawMessage{}
	for k, v := range p.profile {
		out[k] = v
	}
	return out, nil
}

// SetProfile sets profile properties as a Page admin editing them at Meta would (the same limits
// as POST messenger_profile; a refusal is a *GraphError).
func (s *Simulator) SetProfile(pageID string, props map[string]json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return fmt.Errorf("simulator: unknown page %q", pageID)
	}
	return gerrOrNil(s.setProfileLocked(p, "page admin", props))
}

// DeleteProfile removes profile properties as a Page admin would.
func (s *Simulator) DeleteProfile(pageID string, fields ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return fmt.Errorf("simulator: unknown page %q", pageID)
	}
	return gerrOrNil(s.deleteProfileLocked(p, "page admin", fields))
}

// WelcomeScreen is what the person psid sees, in locale (default: the person's, else "default").
func (s *Simulator) WelcomeScreen(pageID, psid, locale string) (WelcomeScreen, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return WelcomeScreen{}, fmt.Errorf("simulator: unknown page %q", pageID)
	}
	u := p.users[psid]
	if locale == "" && u != nil {
		locale = u.cfg.Locale
	}
	if locale == "" {
		locale = "default"
	}
	w := WelcomeScreen{Page: p.id, Locale: locale}
	var greet []profileLocaleText
	if json.Unmarshal(p.profile["greeting"], &greet) == nil {
		for _, g := range pickLocale(len(greet), func(i int) string { return greet[i].Locale }, locale) {
			w.Greeting = personalise(deref(greet[g].Text), u)
		}
	}
	for _, q := range iceBreakersFor(p.profile, locale) {
		w.IceBreakers = append(w.IceBreakers, q.Question)
	}
	_, gs := p.profile["get_started"]
	w.GetStarted = gs && len(w.IceBreakers) == 0
	if m, ok := menuFor(p.profile, locale); ok {
		w.ComposerInputDisabled = m.ComposerInputDisabled
		for _, b := range m.CallToActions {
			w.Menu = append(w.Menu, MenuItem{Type: b.Type, Title: b.Title, Payload: b.Payload.v, URL: b.URL})
		}
	}
	_ = json.Unmarshal(p.profile["whitelisted_domains"], &w.WhitelistedDomains)
	return w, nil
}

// pickLocale returns the index of the entry for locale, else of the default one (at most one).
func pickLocale(n int, locale func(int) string, want string) []int {
	def := -1
	for i := range n {
		switch locale(i) {
		case want:
			return []int{i}
		case "default":
			def = i
		}
	}
	if def < 0 {
		return nil
	}
	return []int{def}
}

func personalise(text string, u *user) string {
	first, last := "", ""
	if u != nil {
		first, last = u.cfg.FirstName, u.cfg.LastName
	}
	r := strings.NewReplacer("{{user_first_name}}", first, "{{user_last_name}}", last,
		"{{user_full_name}}", strings.TrimSpace(first+" "+last))
	return r.Replace(text)
}

func iceBreakersFor(prof messengerProfile, locale string) []iceBreaker {
	var es []iceBreakerEntry
	if json.Unmarshal(prof["ice_breakers"], &es) != nil || len(es) == 0 {
		return nil
	}
	if es[0].CallToActions == nil {
		out := make([]iceBreaker, len(es))
		for i, e := range es {
			out[i] = iceBreaker{Question: deref(e.Question), Payload: deref(e.Payload)}
		}
		return out
	}
	for _, i := range pickLocale(len(es), func(i int) string { return es[i].Locale }, locale) {
		return es[i].CallToActions
	}
	return nil
}

func menuFor(prof messengerProfile, locale string) (menuEntry, bool) {
	var ms []menuEntry
	if json.Unmarshal(prof["persistent_menu"], &ms) != nil {
		return menuEntry{}, false
	}
	for _, i := range pickLocale(len(ms), func(i int) string { return ms[i].Locale }, locale) {
		return ms[i], true
	}
	return menuEntry{}, false
}

// GetStarted taps Get Started: a postback with the profile's get_started payload (§7.3). The
// Page must have Get Started set.
func (c *Customer) GetStarted() error {
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", c.page)
		}
		var gs profileGetStarted
		if json.Unmarshal(p.profile["get_started"], &gs) != nil || gs.Payload == nil {
			return fmt.Errorf("simulator: page %s has no Get Started button (messenger_profile get_started is not set)", c.page)
		}
		return c.s.postbackLocked(c.page, c.psid, StepGetStarted, "Get Started", *gs.Payload, "")
	})
}

// TapMenu taps the persistent menu item titled title (in the person's locale): a postback, or
// for a URL item the webview opens and no webhook is sent.
func (c *Customer) TapMenu(title string) error {
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", c.page)
		}
		m, _ := menuFor(p.profile, c.s.localeLocked(p, c.psid))
		for _, b := range m.CallToActions {
			if b.Title != title {
				continue
			}
			if b.Type == "web_url" {
				t := p.threadLocked(c.psid)
				p.userLocked(c.psid, true)
				c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepMenu, Text: title + " (opens " + b.URL + ", no webhook)"})
				return nil
			}
			return c.s.postbackLocked(c.page, c.psid, StepMenu, title, b.Payload.v, "")
		}
		return fmt.Errorf("simulator: the persistent menu has no item titled %q", title)
	})
}

// TapIceBreaker taps the ice breaker question on the welcome screen: a postback with the
// question as title and its payload.
func (c *Customer) TapIceBreaker(question string) error {
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", c.page)
		}
		for _, q := range iceBreakersFor(p.profile, c.s.localeLocked(p, c.psid)) {
			if q.Question == question {
				return c.s.postbackLocked(c.page, c.psid, StepIceBreaker, question, q.Payload, "")
			}
		}
		return fmt.Errorf("simulator: no ice breaker %q on the welcome screen", question)
	})
}

func (s *Simulator) localeLocked(p *page, psid string) string {
	if u := p.users[psid]; u != nil && u.cfg.Locale != "" {
		return u.cfg.Locale
	}
	return "default"
}
