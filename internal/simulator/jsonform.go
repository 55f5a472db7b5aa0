package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// idValue is an id as written in a webhook body: a string, or a number when the IDForm asks for
// it and the id is all digits.
type idValue struct {
	s   string
	num bool
}

func (v idValue) MarshalJSON() ([]byte, error) {
	if v.num && digits.MatchString(v.s) {
		return []byte(v.s), nil
	}
	return json.Marshal(v.s)
}

// idKind says which kind of id is being written, for IDAsDocumented.
type idKind int

const (
	idPlain      idKind = iota // page, PSID, entry, owner ids: strings in the docs
	idEchoApp                  // message.app_id of echoes: a number in the docs
	idRequestApp               // requested_owner_app_id: shown both ways; number here
)

func (s *Simulator) id(v string, k idKind) idValue {
	switch s.opts.IDs {
	case IDNumbers:
		return idValue{s: v, num: true}
	case IDAsDocumented:
		return idValue{s: v, num: k != idPlain}
	}
	return idValue{s: v}
}

func (s *Simulator) idPtr(v string, k idKind) *idValue {
	if v == "" {
		return nil
	}
	id := s.id(v, k)
	return &id
}

// metaJSON encodes v the way Meta writes JSON (reference §2.2): non-ASCII as \uXXXX with lowercase
// hex and "/" as "\/", so a receiver that re-serialises instead of hashing the raw bytes fails the
// signature check as it would in production.
func metaJSON(v any, escapeSlashes bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '/' && escapeSlashes {
				out = append(out, '\\', '/')
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		// Only string contents can be non-ASCII in JSON, so escaping here is always legal.
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r > 0xFFFF {
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	return out, nil
}
