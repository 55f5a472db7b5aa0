package handover

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// keywordSet matches typed text against keywords as case-insensitive whole words or phrases in one
// pass over the text and without allocating: a regexp per keyword would cost far more on every
// message for what is a plain scan.
//
// Rules:
//   - case-insensitive by Unicode simple case folding ("AGENT", "Agent", "agent" are the same);
//   - whole words: where a keyword begins (ends) with a word rune (letter, number, mark, '_'), the
//     text rune before (after) the match must not be one, so "agent" matches "I want an Agent!"
//     but neither "agents" nor "reagent"; a keyword edge that is not a word rune ("#help", "?")
//     needs no boundary, and neither do the scripts written without spaces between words (Han,
//     kana, Thai, ...): "問題" matches "我有問題";
//   - phrases: whitespace inside a keyword matches any run of spaces and punctuation in the text
//     ("bot please" matches "Bot, please!").
type keywordSet struct {
	kws []keyword
	// ascii and other index the keywords by their folded first rune: the candidates at a
	// position of the text are found in one lookup. uint8 holds the index of any of the
	// v1alpha1.MaxKeywords (64) keywords Validate lets through.
	ascii [utf8.RuneSelf][]uint8
	other map[rune][]uint8
}

type keyword struct {
	folded             []rune // case-folded; ' ' stands for a separator (see matchAt)
	wordStart, wordEnd bool   // the keyword begins / ends with a boundaryRune: a boundary is needed
}

// newKeyword normalises a keyword: trimmed, inner whitespace collapsed, folded. ok is false when
// nothing is left.
func newKeyword(s string) (keyword, bool) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return keyword{}, false
	}
	var k keyword
	for i, f := range fields {
		if i > 0 {
			k.folded = append(k.folded, ' ')
		}
		for _, r := range f {
			k.folded = append(k.folded, fold(r))
		}
	}
	k.wordStart = boundaryRune(k.folded[0])
	k.wordEnd = boundaryRune(k.folded[len(k.folded)-1])
	return k, true
}

func (ks *keywordSet) add(k keyword) {
	i := uint8(len(ks.kws))
	ks.kws = append(ks.kws, k)
	first := k.folded[0]
	if first < utf8.RuneSelf {
		ks.ascii[first] = append(ks.ascii[first], i)
		return
	}
	if ks.other == nil {
		ks.other = map[rune][]uint8{}
	}
	ks.other[first] = append(ks.other[first], i)
}

func (ks *keywordSet) empty() bool { return len(ks.kws) == 0 }

// match reports whether any keyword occurs in text.
func (ks *keywordSet) match(text string) bool {
	if len(ks.kws) == 0 {
		return false
	}
	prevWord := false
	for i := 0; i < len(text); {
		var cands []uint8
		var word bool
		size := 1
		if c := text[i]; c < utf8.RuneSelf {
			// ASCII by table: most text is, and this loop is the cost of keyword triggers.
			cands, word = ks.ascii[asciiFold[c]], asciiWord[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			if f := fold(r); f < utf8.RuneSelf {
				cands = ks.ascii[f] // the Kelvin sign folds to 'K'
			} else if ks.other != nil {
				cands = ks.other[f]
			}
			word = boundaryRune(r)
		}
		for _, ci := range cands {
			k := &ks.kws[ci]
			if k.wordStart && prevWord {
				continue
			}
			if end, ok := k.matchAt(text, i); ok {
				if !k.wordEnd || end == len(text) || !boundaryRune(firstRune(text[end:])) {
					return true
				}
			}
		}
		prevWord = word
		i += size
	}
	return false
}

// matchAt matches k at text[i:] and returns where the match ends.
func (k *keyword) matchAt(text string, i int) (int, bool) {
	for j, kr := range k.folded {
		if i >= len(text) {
			return 0, false
		}
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		if kr != ' ' {
			if fold(r) != kr {
				return 0, false
			}
			i += size
			continue
		}
		// A separator: one or more non-word runes, stopping before the keyword's own next rune
		// when that is punctuation ("help !" matches "help!!" and "help !").
		var next rune = -1
		if j+1 < len(k.folded) && !isWordRune(k.folded[j+1]) {
			next = k.folded[j+1]
		}
		n := 0
		for i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
			if isWordRune(r) || n > 0 && fold(r) == next {
				break
			}
			i += size
			n++
		}
		if n == 0 {
			return 0, false
		}
	}
	return i, true
}

func firstRune(s string) rune {
	if s[0] < utf8.RuneSelf {
		return rune(s[0])
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// asciiFold and asciiWord are fold and boundaryRune for ASCII.
var asciiFold, asciiWord = func() (f [utf8.RuneSelf]byte, w [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		f[c], w[c] = byte(fold(rune(c))), boundaryRune(rune(c))
	}
	return
}()

// fold maps r to the smallest rune of its simple case-folding orbit, so that two runes are equal
// ignoring case exactly when their folds are equal ('k', 'K' and the Kelvin sign all give 'K').
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// boundaryRune: a word rune of a script that separates words with spaces; only those need a
// word boundary.
func boundaryRune(r rune) bool {
	return isWordRune(r) && (r < utf8.RuneSelf || !unspaced(r))
}

func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao,
		unicode.Khmer, unicode.Myanmar)
}

// isWordRune: letters, numbers, combining marks (so a decomposed "é" stays one word) and '_'.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}
