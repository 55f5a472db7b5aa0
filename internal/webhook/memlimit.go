package webhook

import (
	"math"
	"runtime/debug"
	"strconv"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// MaxConnections caps the webhook port's open connections (Meta opens a few; the body budget
// bounds what they can make the process hold).
const MaxConnections = 256

// SetMemoryLimit sets the soft heap limit to contract.MemoryLimitFraction of the container's
// memory limit (env MEMORY_LIMIT, bytes), unless GOMEMLIMIT is set (the runtime has read it) or
// there is no limit (the downward API then gives the node's allocatable memory, still a bound).
// It returns the limit set, or 0.
func SetMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	n, err := strconv.ParseInt(getenv(contract.EnvMemoryLimit), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	limit := int64(math.Floor(float64(n) * contract.MemoryLimitFraction))
	debug.SetMemoryLimit(limit)
	return limit
}
