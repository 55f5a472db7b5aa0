package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// scanner is a small JSON reader for the webhook's hot path: it walks the body once, decodes
// the keys the webhook knows into strings, and validates and skips everything else. Strings
// with escapes or non-ASCII bytes go through encoding/json, so text is decoded exactly as the
// standard library would.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds nesting (Meta's payloads nest a handful of levels).
const maxNesting = 512

var errDepth = errors.New("JSON nested too deeply")

func (s *scanner) syntax(what string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", s.i, what)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// literal consumes null, true or false.
func (s *scanner) literal(lit string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.i += len(lit)
		return true
	}
	return false
}

// null consumes a null, if that is what comes.
func (s *scanner) null() bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return false
}

// rawString consumes a string and returns its bytes between the quotes, and whether it holds
// escapes or bytes beyond ASCII (then it must go through the full decoder).
func (s *scanner) rawString() (raw []byte, plain bool, err error) {
	if s.peek() != '"' {
		return nil, false, s.syntax("string expected")
	}
	start := s.i + 1
	plain = true
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], plain, nil
		case c == '\\':
			plain = false
			j++
			if j >= len(s.b) {
				return nil, false, s.syntax("unterminated string")
			}
			switch s.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.b) || !isHex4(s.b[j+1:j+5]) {
					return nil, false, s.syntax("bad \\u escape")
				}
				j += 4
			default:
				return nil, false, s.syntax("bad escape")
			}
		case c < 0x20:
			return nil, false, s.syntax("control character in string")
		case c >= 0x80:
			plain = false
		}
	}
	return nil, false, s.syntax("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// str consumes a string (or null, giving "").
func (s *scanner) str() (string, error) {
	if s.null() {
		return "", nil
	}
	start := s.peekPos()
	raw, plain, err := s.rawString()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	return unquoteSlow(s.b[start:s.i])
}

func (s *scanner) peekPos() int { s.ws(); return s.i }

// unquoteSlow decodes an escaped or non-ASCII string token exactly as encoding/json does
// (invalid UTF-8 becomes U+FFFD).
func unquoteSlow(tok []byte) (string, error) {
	if utf8.Valid(tok) && bytes.IndexByte(tok[1:len(tok)-1], '\\') < 0 {
		return string(tok[1 : len(tok)-1]), nil
	}
	var v string
	if err := json.Unmarshal(tok, &v); err != nil {
		return "", err
	}
	return v, nil
}

// key consumes an object key and the colon after it. Keys with escapes are unescaped.
func (s *scanner) key() ([]byte, error) {
	start := s.peekPos()
	raw, plain, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if !plain {
		k, err := unquoteSlow(s.b[start:s.i])
		if err != nil {
			return nil, err
		}
		raw = []byte(k)
	}
	if !s.consume(':') {
		return nil, s.syntax("':' expected")
	}
	return raw, nil
}

// open consumes the opening '{' or '[' of a container; it returns false for null (an absent
// container). Walk its members with more.
func (s *scanner) open(c byte) (bool, error) {
	if s.null() {
		return false, nil
	}
	if !s.consume(c) {
		if c == '{' {
			return false, s.syntax("object expected")
		}
		return false, s.syntax("array expected")
	}
	if s.depth++; s.depth > maxNesting {
		return false, errDepth
	}
	return true, nil
}

// more reports whether another member of the open container follows, consuming the ',' before
// it or the closing byte after the last one. first is true before the first member.
func (s *scanner) more(close byte, first bool) (bool, error) {
	if s.consume(close) {
		s.depth--
		return false, nil
	}
	if first {
		return true, nil
	}
	if s.consume(',') {
		return true, nil
	}
	return false, s.syntax("',' or closing bracket expected")
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.peekPos()
	j := start
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	switch {
	case j < len(s.b) && s.b[j] == '0':
		j++
	case j < len(s.b) && s.b[j] >= '1' && s.b[j] <= '9':
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
	default:
		return nil, s.syntax("number expected")
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		d := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, s.syntax("digit expected")
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		d := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, s.syntax("digit expected")
		}
	}
	s.i = j
	return s.b[start:j], nil
}

// skip validates and consumes any value.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '{':
		s.open('{')
		if s.depth > maxNesting {
			return errDepth
		}
		for first := true; ; first = false {
			more, err := s.more('}', first)
			if err != nil || !more {
				return err
			}
			if _, err := s.key(); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '[':
		s.open('[')
		if s.depth > maxNesting {
			return errDepth
		}
		for first := true; ; first = false {
			more, err := s.more(']', first)
			if err != nil || !more {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '"':
		_, _, err := s.rawString()
		return err
	case 't':
		if s.literal("true") {
			return nil
		}
	case 'f':
		if s.literal("false") {
			return nil
		}
	case 'n':
		if s.literal("null") {
			return nil
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, err := s.number()
			return err
		}
	}
	return s.syntax("value expected")
}

// rawValue consumes any value and returns its text (for the lenient id, time and bool types).
func (s *scanner) rawValue() ([]byte, error) {
	start := s.peekPos()
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// present consumes a value and reports whether it was there and not null.
func (s *scanner) present() (bool, error) {
	if s.null() {
		return false, nil
	}
	return true, s.skip()
}

func (s *scanner) id() (jsonID, error) {
	raw, err := s.rawValue()
	if err != nil {
		return "", err
	}
	var id jsonID
	if len(raw) > 0 && raw[0] == '"' {
		v, err := unquoteSlow(raw)
		if err != nil {
			return "", err
		}
		return jsonID(v), nil
	}
	id.UnmarshalJSON(raw)
	return id, nil
}

func (s *scanner) millis() (jsonMillis, error) {
	raw, err := s.rawValue()
	if err != nil {
		return 0, err
	}
	var t jsonMillis
	t.UnmarshalJSON(raw)
	return t, nil
}

func (s *scanner) boolean() (jsonBool, error) {
	raw, err := s.rawValue()
	if err != nil {
		return false, err
	}
	var v jsonBool
	v.UnmarshalJSON(raw)
	return v, nil
}

// end checks that only space follows the top-level value.
func (s *scanner) end() error {
	if s.ws(); s.i != len(s.b) {
		return s.syntax("data after the top-level value")
	}
	return nil
}
