package callback

import "sync/atomic"

// Bodies are read before their signature can be checked, so anyone who reaches the port can make
// the process hold them. The bytes held at once are bounded by BodyBudget: a request reserves its
// Content-Length (MaxBody when unknown) before its body is read and is answered 503 when the
// reservation does not fit (Meta retries 503s). Large bodies may use only three quarters of the
// budget, so that a flood of them leaves room for Meta's small ones.
const (
	// BodyBudget bounds the request-body bytes held at once by one webhook.
	BodyBudget = 16 << 20
	// smallBody is the size up to which a body may use the whole budget; Meta's are a few KiB.
	smallBody = 64 << 10
)

// byteBudget counts the body bytes reserved by requests being read or judged.
type byteBudget struct {
	inFlight atomic.Int64
}

// reserve takes n bytes of the budget, or reports false when they do not fit.
func (b *byteBudget) reserve(n int64) bool {
	limit := int64(BodyBudget)
	if n > smallBody {
		limit = BodyBudget * 3 / 4
	}
	for {
		cur := b.inFlight.Load()
		if cur+n > limit {
			return false
		}
		if b.inFlight.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *byteBudget) release(n int64) { b.inFlight.Add(-n) }

// reservation is what a request reserves: its Content-Length, or MaxBody+1 when unknown (the
// reader stops one byte past MaxBody).
func reservation(contentLength int64) int64 {
	if contentLength < 0 {
		return MaxBody + 1
	}
	return contentLength
}
