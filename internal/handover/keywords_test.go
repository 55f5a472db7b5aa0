package handover

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func keywords(t testing.TB, kws ...string) *keywordSet {
	t.Helper()
	ks := &keywordSet{}
	for _, k := range kws {
		kw, ok := newKeyword(k)
		if !ok {
			t.Fatalf("keyword %q rejected", k)
		}
		ks.add(kw)
	}
	return ks
}

func TestKeywordMatching(t *testing.T) {
	for _, tc := range []struct {
		kw, text string
		want     bool
	}{
		{"agent", "I want an Agent!", true},
		{"agent", "AGENT", true},
		{"agent", "agent", true},
		{"agent", "(agent)", true},
		{"agent", "agent.", true},
		{"agent", "agents", false},
		{"agent", "reagent", false},
		{"agent", "agent_smith", false},
		{"agent", "agent2", false},
		{"agent", "an ag ent", false},
		{"agent", "", false},
		{"Agent", "talk to an agent please", true},
		{"  human  ", "a HUMAN", true}, // trimmed
		{"talk to a human", "Can I talk  to a\tHUMAN please?", true},
		{"talk to a human", "talk to a humane person", false},
		{"talk to a human", "talk to ahuman", false},
		{"bot please", "Bot, please!", true},
		{"bot please", "bot-please", true},
		{"help !", "help !", true},
		{"help !", "help!!", true},
		{"#help", "need #help now", true},
		{"#help", "need x#help", true}, // no word boundary needed before "#"
		{"#help", "#helper", false},
		{"?", "what?", true},
		{"équipe", "L'ÉQUIPE est là", true},
		{"équipe", "équipes", false},
		{"straße", "STRAẞE", true},      // capital sharp s folds to ß
		{"kelvin", "\u212Aelvin", true}, // Kelvin sign folds to k
		{"σίγμα", "ΣΊΓΜΑ", true},
		{"cafe", "cafe\u0301", false}, // a combining accent continues the word
		{"café", "Café au lait", true},
		{"2fa", "my 2FA code", true},
		{"問題", "我有問題", true}, // scripts without spaces need no boundary
		{"agent", "我要agent", true},
		{"ありがとう", "どうもありがとうございます", true},
		{"agent", "agent\xffx", true}, // invalid UTF-8 is no word rune
	} {
		if got := keywords(t, tc.kw).match(tc.text); got != tc.want {
			t.Errorf("keyword %q in %q = %v, want %v", tc.kw, tc.text, got, tc.want)
		}
	}

	// Several keywords, with shared first runes.
	ks := keywords(t, "agent", "a human", "agency", "human")
	for text, want := range map[string]bool{
		"the agency": true, "a human": true, "humans": false, "agen": false, "AGENCY!": true, "ahuman": false,
	} {
		if got := ks.match(text); got != want {
			t.Errorf("set in %q = %v, want %v", text, got, want)
		}
	}
	if _, ok := newKeyword(" \t "); ok {
		t.Error("a blank keyword was accepted")
	}
}

func TestKeywordMatchingAllocatesNothing(t *testing.T) {
	ks := keywords(t, "agent", "talk to a human", "équipe")
	text := "Hello, I would like to TALK to a Human about my Équipe order please"
	if n := testing.AllocsPerRun(100, func() { ks.match(text) }); n != 0 {
		t.Errorf("%v allocations per match", n)
	}
}

// referenceKeyword is the same rule as a regexp, for keywords of words and spaces.
func referenceKeyword(kw string) *regexp.Regexp {
	const w = `\pL\pN\pM_`
	words := strings.Fields(kw)
	for i, x := range words {
		words[i] = regexp.QuoteMeta(x)
	}
	return regexp.MustCompile(`(?i)(?:^|[^` + w + `])` + strings.Join(words, `[^`+w+`]+`) + `(?:$|[^` + w + `])`)
}

func FuzzKeywordMatchesReference(f *testing.F) {
	for _, s := range [][2]string{
		{"agent", "I want an Agent!"}, {"talk to a human", "talk  to A human?"}, {"équipe", "ÉQUIPE"},
		{"agent", "reagents"}, {"a b", "a, b"}, {"k", "\u212A"}, {"ß", "ẞ"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kw, text string) {
		if !utf8.ValidString(kw) || !utf8.ValidString(text) || len(kw) > 40 {
			return
		}
		for _, r := range kw {
			if r != ' ' && !isWordRune(r) || unspaced(r) {
				return // the reference covers words and spaces only
			}
		}
		for _, r := range text {
			if unspaced(r) {
				return
			}
		}
		k, ok := newKeyword(kw)
		if !ok {
			return
		}
		ks := &keywordSet{}
		ks.add(k)
		got, want := ks.match(text), referenceKeyword(kw).MatchString(text)
		if got != want {
			t.Errorf("keyword %q in %q: %v, reference %v", kw, text, got, want)
		}
	})
}

// Keywords and patterns read only the first 2000 runes of a message: text past them, however
// long the message, is never matched (it bounds the cost of a pattern per message).
func TestMatchReadsFirst2000Runes(t *testing.T) {
	pol := page(t, &v1alpha1.HandoverPolicySpec{Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{
		Keywords: []string{"agent"}, Patterns: []string{`order #\d+`},
	}}}).Policy
	tr := &pol.handoffTriggers
	pad := func(runes int) string { return strings.Repeat("é", runes) } // 2 bytes a rune: counted in runes
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"keyword within", pad(1993) + " agent", true},
		{"keyword across the end", pad(1996) + " agent", false},
		{"keyword past", pad(2000) + " agent", false},
		{"keyword past, a long message", pad(2000) + strings.Repeat(" agent", 10000), false},
		{"pattern within", pad(1988) + " order #12", true},
		{"pattern past", pad(2001) + " order #12", false},
		{"short", "agent", true},
	} {
		ev := text(Messaging, tc.text)
		if got := tr.matchText(&ev); got != tc.want {
			t.Errorf("%s: matched %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := matchedText(pad(2500)); utf8.RuneCountInString(got) != 2000 || !utf8.ValidString(got) {
		t.Errorf("matchedText kept %d runes", utf8.RuneCountInString(got))
	}
}
