package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// referenceValid is the rule of X-Hub-Signature-256 written plainly: "sha256=" and the hex
// (either case) of HMAC-SHA256(secret, body); a page without a secret accepts nothing.
func referenceValid(secret []byte, header string, body []byte) bool {
	if len(secret) == 0 {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return len(header) == len(want) && header[:7] == "sha256=" && strings.ToLower(header[7:]) == want[7:]
}

// FuzzSignature: valid agrees with the plain rule for any secret, body and header, the right
// signature is always accepted, and a signature of another body or secret never is.
func FuzzSignature(f *testing.F) {
	body := []byte(textBody("2000000000000001", "m_1", 1700000000000))
	good := sign(body, testSecret)
	f.Add([]byte(testSecret), body, good)
	f.Add([]byte(testSecret), body, strings.ToUpper(good[7:]))
	f.Add([]byte(testSecret), body, "sha256="+strings.ToUpper(good[7:]))
	f.Add([]byte(testSecret), body, good[:len(good)-1])
	f.Add([]byte(testSecret), body, good+"0")
	f.Add([]byte(testSecret), body, "sha1="+good[7:47])
	f.Add([]byte(testSecret), body, "sha256="+strings.Repeat("zz", 32))
	f.Add([]byte(testSecret), []byte{}, sign(nil, testSecret))
	f.Add([]byte{}, body, sign(body, ""))
	f.Add([]byte{0}, []byte{0xff, 0xfe}, "")
	f.Add([]byte(strings.Repeat("k", 200)), body, sign(body, strings.Repeat("k", 200)))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		v := newVerifier(secret)
		got := v.valid(header, body)
		if want := referenceValid(secret, header, body); got != want {
			t.Fatalf("valid(%q) = %v, want %v", header, got, want)
		}
		right := sign(body, string(secret))
		if len(secret) > 0 && !v.valid(right, body) {
			t.Fatal("the right signature was refused")
		}
		if v.valid(right, append(append([]byte(nil), body...), 'x')) {
			t.Fatal("a signature of another body was accepted")
		}
		if newVerifier(append(append([]byte(nil), secret...), 'x')).valid(right, body) {
			t.Fatal("a signature made with another secret was accepted")
		}
		// The pooled HMAC state is reset between uses: the second check agrees with the first.
		if v.valid(header, body) != got {
			t.Fatal("a second check disagrees with the first")
		}
	})
}

// FuzzVerifyToken: the verify token comparison is plain equality, an empty configured token
// matching nothing.
func FuzzVerifyToken(f *testing.F) {
	f.Add(testVerifyToken, []byte(testVerifyToken))
	f.Add(testVerifyToken[:5], []byte(testVerifyToken))
	f.Add(testVerifyToken+"\x00", []byte(testVerifyToken))
	f.Add("", []byte{})
	f.Add("x", []byte{})
	f.Add("\xff", []byte{0xff})
	f.Fuzz(func(t *testing.T, presented string, configured []byte) {
		want := len(configured) > 0 && presented == string(configured)
		if got := equalSecret(presented, configured); got != want {
			t.Fatalf("equalSecret(%q, %q) = %v, want %v", presented, configured, got, want)
		}
	})
}

// TestVerifyTokenComparedInConstantTime is a review check a timing test could not make
// reliably: the verify token and the signature are compared with crypto/subtle and
// crypto/hmac, never with == or bytes.Equal.
func TestVerifyTokenComparedInConstantTime(t *testing.T) {
	src, err := os.ReadFile("signature.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`func equalSecret\([^)]*\) bool \{[^}]*\}[^}]*subtle\.ConstantTimeCompare\(`),
		regexp.MustCompile(`func \(v \*verifier\) valid\((?s:.*?)hmac\.Equal\(`),
	} {
		if !want.Match(src) {
			t.Errorf("signature.go no longer matches %s", want)
		}
	}
	httpSrc, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(httpSrc), "equalSecret(token, live.cfg.VerifyToken)") {
		t.Error("the verify token is not compared with equalSecret")
	}
	if regexp.MustCompile(`VerifyToken\)?\s*(==|!=)|==\s*string\(live\.cfg\.VerifyToken`).Match(httpSrc) {
		t.Error("the verify token is compared with == somewhere")
	}
}
