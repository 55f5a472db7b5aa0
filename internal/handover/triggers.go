package handover

import (
	"regexp"
	"slices"
	"strings"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// triggers are one trigger list of the policy, precompiled.
type triggers struct {
	quickReplies []string // payloads
	postbacks    []string // payloads
	// Titles the policy's own messages give to those payloads: a quick reply (postback) that
	// arrives without its payload, as on standby, is recognised by its title.
	quickReplyTitles []string
	postbackTitles   []string

	keywords keywordSet
	patterns []*regexp.Regexp
}

// compileTriggers builds a trigger list that Validate accepted.
func compileTriggers(t *v1alpha1.Triggers, msgs []*OutMessage) triggers {
	out := triggers{quickReplies: t.QuickReplyPayloads, postbacks: t.PostbackPayloads}
	// A title that the policy also gives to another payload is ambiguous: it matches nothing.
	var otherQR, otherPB []string
	for _, m := range msgs {
		for _, q := range m.QuickReplies {
			if contains(out.quickReplies, q.Payload) {
				out.quickReplyTitles = appendTitle(out.quickReplyTitles, q.Title)
			} else {
				otherQR = appendTitle(otherQR, q.Title)
			}
		}
		var bs []Button
		if m.Buttons != nil {
			bs = append(bs, m.Buttons.Buttons...)
		}
		for _, cd := range m.Cards {
			bs = append(bs, cd.Buttons...)
		}
		for _, b := range bs {
			switch {
			case b.Type != "postback":
			case contains(out.postbacks, b.Payload):
				out.postbackTitles = appendTitle(out.postbackTitles, b.Title)
			default:
				otherPB = appendTitle(otherPB, b.Title)
			}
		}
	}
	out.quickReplyTitles = slices.DeleteFunc(out.quickReplyTitles, func(t string) bool { return containsFold(otherQR, t) })
	out.postbackTitles = slices.DeleteFunc(out.postbackTitles, func(t string) bool { return containsFold(otherPB, t) })
	for _, k := range t.Keywords {
		if kw, ok := newKeyword(k); ok {
			out.keywords.add(kw)
		}
	}
	for _, pat := range t.Patterns {
		out.patterns = append(out.patterns, regexp.MustCompile(pat)) // Validate compiled it
	}
	return out
}

// addProfileTitles adds the titles of the profile's taps whose payload is one of these triggers.
// Profile titles are not cut (Meta shows menu titles up to 30 characters and whole questions);
// a title the profile also gives to another payload is ambiguous and matches nothing.
func (t *triggers) addProfileTitles(pbs []v1alpha1.ProfilePostback) {
	var mine, other []string
	for _, pb := range pbs {
		title := strings.TrimSpace(pb.Title)
		switch {
		case title == "":
		case contains(t.postbacks, pb.Payload):
			mine = append(mine, title)
		default:
			other = append(other, title)
		}
	}
	for _, title := range mine {
		if !containsFold(t.postbackTitles, title) {
			t.postbackTitles = append(t.postbackTitles, title)
		}
	}
	t.postbackTitles = slices.DeleteFunc(t.postbackTitles, func(s string) bool { return containsFold(other, s) })
}

// appendTitle adds the title as the user sees it: cut to the quick-reply title limit the way
// Render cuts it.
func appendTitle(ts []string, title string) []string {
	title = strings.TrimSpace(cut(title, titleMax, false))
	if title == "" {
		return ts
	}
	for _, t := range ts {
		if strings.EqualFold(t, title) {
			return ts
		}
	}
	return append(ts, title)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// matchPayload reports whether a tapped quick reply or postback is one of these triggers: by its
// payload, or by its title when the platform dropped the payload (standby).
func (t *triggers) matchPayload(ev *Event) bool {
	switch {
	case ev.Kind == KindMessage && ev.HasQuickReply:
		if ev.QuickReplyPayload != "" {
			return contains(t.quickReplies, ev.QuickReplyPayload)
		}
		return containsFold(t.quickReplyTitles, ev.Text)
	case ev.Kind == KindPostback:
		if ev.PostbackPayload != "" {
			return contains(t.postbacks, ev.PostbackPayload)
		}
		return containsFold(t.postbackTitles, ev.PostbackTitle)
	}
	return false
}

// tapped reports whether ev is one of these triggers as a take-back reads them: a payload (or
// title) match, a keyword or pattern, or a text with no quick_reply object that equals a quick
// reply's title (trimmed, case-folded, as cut to Meta's 20 characters): the platform may strip
// the quick_reply object on standby (reference §3.4), and the tap's text is the title.
func (t *triggers) tapped(ev *Event) bool {
	return t.matchPayload(ev) || t.matchText(ev) ||
		ev.Kind == KindMessage && !ev.HasQuickReply && containsFold(t.quickReplyTitles, ev.Text)
}

// matchText reports whether typed text (not a quick-reply tap, not a postback) matches a keyword
// or a pattern. Patterns match as written: "(?i)" makes one case-insensitive.
func (t *triggers) matchText(ev *Event) bool {
	if ev.Kind != KindMessage || ev.HasQuickReply || ev.Text == "" {
		return false
	}
	text := matchedText(ev.Text)
	if t.keywords.match(text) {
		return true
	}
	for _, re := range t.patterns {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// maxMatchedRunes is how much of a message keywords and patterns read: Messenger's own limit on
// a text, which bounds the cost of matching whatever arrives.
const maxMatchedRunes = 2000

// matchedText is the first maxMatchedRunes runes of text.
func matchedText(text string) string {
	if len(text) <= maxMatchedRunes { // bytes >= runes
		return text
	}
	n := 0
	for i := range text {
		if n == maxMatchedRunes {
			return text[:i]
		}
		n++
	}
	return text
}

func (t *triggers) hasText() bool { return !t.keywords.empty() || len(t.patterns) > 0 }
