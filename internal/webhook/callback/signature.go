package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
)

// SignatureHeader carries HMAC-SHA256(app secret, raw body) as "sha256=<hex>".
const SignatureHeader = "X-Hub-Signature-256"

// valid checks the X-Hub-Signature-256 header against the raw body in constant time.
//
// The legacy X-Hub-Signature (HMAC-SHA1) header is deliberately not accepted, not even as a
// fallback: Meta sends the SHA-256 header on every POST, so a request carrying only the SHA-1
// one did not come from Meta as documented today, and accepting it would let the weaker, legacy
// MAC stand in for the one we can check.
func (v *verifier) valid(header string, body []byte) bool {
	if v == nil || len(v.secret) == 0 {
		return false // a page without a secret accepts nothing
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return false
	}
	m := v.pool.Get().(*macState)
	m.h.Reset()
	m.h.Write(body)
	ok = hmac.Equal(m.h.Sum(m.sum[:0]), got[:])
	v.pool.Put(m)
	return ok
}

// macState is a keyed HMAC with room for its sum: a sum buffer on the stack would escape through
// the hash.Hash interface, one allocation per request.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// verifier checks signatures with one app secret; its HMAC states are reused (keying an HMAC
// costs two hash blocks and a few allocations per request otherwise).
type verifier struct {
	secret []byte
	pool   sync.Pool
}

func newVerifier(secret []byte) *verifier {
	v := &verifier{secret: secret}
	v.pool.New = func() any { return &macState{h: hmac.New(sha256.New, secret)} }
	return v
}

// equalSecret compares a presented secret with the configured one in constant time, also in
// length (both are hashed first). An empty configured secret matches nothing.
func equalSecret(presented string, configured []byte) bool {
	if len(configured) == 0 {
		return false
	}
	a := sha256.Sum256([]byte(presented))
	b := sha256.Sum256(configured)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
