package security

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// TestGeneratedVerifyTokens: tokens the operator generates carry at least 128 bits from
// crypto/rand (a review check on the source: randomness cannot be proven by sampling) and never
// repeat.
func TestGeneratedVerifyTokens(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "specs", "secret.go"))
	rig.Must(t, err)
	if !regexp.MustCompile(`"crypto/rand"`).Match(src) || regexp.MustCompile(`"math/rand`).Match(src) {
		t.Error("internal/specs/secret.go does not take verify tokens from crypto/rand alone")
	}
	seen := map[string]bool{}
	for range 1000 {
		tok, err := specs.NewVerifyToken()
		rig.Must(t, err)
		raw, err := hex.DecodeString(string(tok))
		if err != nil || len(raw)*8 < 128 {
			t.Fatalf("token %q: %d bits (%v)", tok, len(raw)*8, err)
		}
		if seen[string(tok)] {
			t.Fatal("a generated verify token repeated")
		}
		seen[string(tok)] = true
	}
}
