package handover

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Send API limits (reference §5.1, §5.3), counted in characters (runes).
const (
	textMax       = 1999 // message text: < 2000
	buttonTextMax = 640  // button template text
	titleMax      = 20   // quick-reply and button titles
	cardTitleMax  = 80   // generic template element title
	subtitleMax   = 80   // generic template element subtitle
)

const (
	firstNameToken    = "{{first_name}}"
	businessNameToken = "{{business_name}}"
)

// Template reports whether m is sent as a template, which some clients do not show: the webhook
// sends RenderFallback instead when the Send API rejects it.
func (m *OutMessage) Template() bool { return m != nil && (m.Buttons != nil || len(m.Cards) > 0) }

func (m *OutMessage) usesFirstName() bool {
	if strings.Contains(m.Text, firstNameToken) {
		return true
	}
	if m.Buttons != nil && strings.Contains(m.Buttons.Text, firstNameToken) {
		return true
	}
	for _, c := range m.Cards {
		if strings.Contains(c.Title, firstNameToken) || strings.Contains(c.Subtitle, firstNameToken) {
			return true
		}
	}
	return false
}

// Render builds the Send API "message" object for m: text with quick replies, or a button or
// generic template (with quick replies when m has them). {{first_name}} (firstName, else
// m.FirstNameFallback) and {{business_name}} are filled in the text fields (message text, button
// template text, card titles and subtitles); titles of quick replies and buttons are sent as
// written, so that a tap still matches the policy. Every text is cut to its limit on a character
// boundary, ending with "…" when cut. Maps and []map[string]any only, for the Graph client's
// encoder.
func Render(m *OutMessage, firstName, businessName string) map[string]any {
	if m == nil {
		return nil
	}
	f := filler{first: firstName, business: businessName}
	if f.first == "" {
		f.first = m.FirstNameFallback
	}
	var msg map[string]any
	switch {
	case m.Buttons != nil:
		msg = map[string]any{"attachment": template(map[string]any{
			"template_type": "button",
			"text":          cut(f.fill(m.Buttons.Text, buttonTextMax), buttonTextMax, true),
			"buttons":       renderButtons(m.Buttons.Buttons),
		})}
	case len(m.Cards) > 0:
		els := make([]map[string]any, 0, len(m.Cards))
		for _, c := range m.Cards {
			el := map[string]any{"title": cut(f.fill(c.Title, cardTitleMax), cardTitleMax, true)}
			if c.Subtitle != "" {
				el["subtitle"] = cut(f.fill(c.Subtitle, subtitleMax), subtitleMax, true)
			}
			if c.ImageURL != "" {
				el["image_url"] = c.ImageURL
			}
			if len(c.Buttons) > 0 {
				el["buttons"] = renderButtons(c.Buttons)
			}
			els = append(els, el)
		}
		msg = map[string]any{"attachment": template(map[string]any{"template_type": "generic", "elements": els})}
	default:
		msg = map[string]any{"text": cut(f.fill(m.Text, textMax), textMax, true)}
	}
	if len(m.QuickReplies) > 0 {
		msg["quick_replies"] = renderQuickReplies(m.QuickReplies)
	}
	return msg
}

// RenderFallback builds the plain-text form of m: its Text and quick replies. It is what the
// webhook sends when the Send API rejects a template; for a text message it equals Render.
func RenderFallback(m *OutMessage, firstName, businessName string) map[string]any {
	if m == nil {
		return nil
	}
	return Render(&OutMessage{Text: m.Text, QuickReplies: m.QuickReplies, FirstNameFallback: m.FirstNameFallback}, firstName, businessName)
}

func template(payload map[string]any) map[string]any {
	return map[string]any{"type": "template", "payload": payload}
}

func renderQuickReplies(qs []QuickReply) []map[string]any {
	out := make([]map[string]any, 0, len(qs))
	for _, q := range qs {
		out = append(out, map[string]any{"content_type": "text", "title": cut(q.Title, titleMax, false), "payload": q.Payload})
	}
	return out
}

func renderButtons(bs []Button) []map[string]any {
	out := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		o := map[string]any{"type": b.Type, "title": cut(b.Title, titleMax, false)}
		if b.Type == "web_url" {
			o["url"] = b.URL
		} else {
			o["payload"] = b.Payload
		}
		out = append(out, o)
	}
	return out
}

// filler fills the placeholders.
type filler struct{ first, business string }

// fill fills the placeholders of a text limited to max characters. It stops once the result is
// certainly over the limit (4 bytes a character at most), so that a long name repeated by many
// placeholders costs no more than the limit; cut then shortens the result.
func (f filler) fill(s string, max int) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	budget := 4 * (max + 1)
	var b strings.Builder
	b.Grow(min(len(s)+len(f.first)+len(f.business), budget+4))
	for b.Len() <= budget {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, firstNameToken):
			b.WriteString(f.first)
			s = s[len(firstNameToken):]
		case strings.HasPrefix(s, businessNameToken):
			b.WriteString(f.business)
			s = s[len(businessNameToken):]
		default:
			b.WriteString("{{")
			s = s[2:]
		}
	}
	return b.String()
}

// cut shortens s to at most max characters. It never splits a UTF-8 sequence, and backs off so
// that a combining mark, a variation selector or a joined emoji is not left dangling; invalid
// bytes become U+FFFD so that the result is valid UTF-8. With ellipsis, a cut text ends with "…"
// (counted in max).
func cut(s string, max int, ellipsis bool) string {
	if utf8.RuneCountInString(s) <= max && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max
	if ellipsis {
		keep--
	}
	// Byte offset of the rune at index keep: the first rune dropped.
	end, n := 0, 0
	for end < len(s) && n < keep {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
		n++
	}
	// Back off over a cluster the cut would split: while the first dropped rune extends the kept
	// one (a mark, a variation selector, a zero-width joiner) or the last kept one is a joiner.
	for end > 0 {
		next, _ := utf8.DecodeRuneInString(s[end:])
		last, size := utf8.DecodeLastRuneInString(s[:end])
		if !extends(next) && last != zwj && (!isRegional(last) || !isRegional(next) || regionalRun(s[:end])%2 == 0) {
			break
		}
		end -= size
	}
	out := strings.TrimRightFunc(s[:end], unicode.IsSpace)
	if ellipsis {
		return out + "…"
	}
	return out
}

const zwj = '\u200d'

// isRegional: a regional indicator; two of them make one flag.
func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// regionalRun counts the regional indicators that end s.
func regionalRun(s string) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !isRegional(r) {
			break
		}
		n++
		s = s[:len(s)-size]
	}
	return n
}

// extends reports whether r attaches to the rune before it.
func extends(r rune) bool {
	return r == zwj || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Mc, r) ||
		unicode.Is(unicode.Variation_Selector, r) || (r >= 0x1F3FB && r <= 0x1F3FF) // skin tones
}
