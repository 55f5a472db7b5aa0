package webhook_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/contract"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

// The soft heap limit follows the container's memory limit, and an explicit GOMEMLIMIT wins.
func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	env := map[string]string{contract.EnvMemoryLimit: "268435456"}
	if got := webhook.SetMemoryLimit(func(k string) string { return env[k] }); got != 201326592 {
		t.Errorf("256 MiB limit: soft limit %d, want 201326592 (3/4)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 201326592 {
		t.Errorf("runtime soft limit %d, want 201326592", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	env["GOMEMLIMIT"] = "100MiB"
	if got := webhook.SetMemoryLimit(func(k string) string { return env[k] }); got != 0 {
		t.Errorf("with GOMEMLIMIT set: %d, want 0 (untouched)", got)
	}
	for _, bad := range []string{"", "x", "-1"} {
		env = map[string]string{contract.EnvMemoryLimit: bad}
		if got := webhook.SetMemoryLimit(func(k string) string { return env[k] }); got != 0 {
			t.Errorf("MEMORY_LIMIT=%q: %d, want 0", bad, got)
		}
	}
}
