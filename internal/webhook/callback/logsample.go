package callback

import (
	"log/slog"
	"sync"
	"time"
)

// Refusals (a bad signature, a wrong verify token) come from anyone who can reach the port, so
// their log lines are rate-limited: at most refusalBurst lines per refusalInterval, and the next
// line logged says how many were left out. The requests metric still counts every one.
const (
	refusalBurst    = 10
	refusalInterval = 10 * time.Second
)

// logLimiter lets through at most burst lines per interval and counts the rest.
type logLimiter struct {
	mu         sync.Mutex
	now        func() time.Time
	start      time.Time
	n          int
	suppressed int64
}

// allow reports whether a line may be written now, and how many were suppressed since the last
// one written (to be logged with it).
func (l *logLimiter) allow() (bool, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.start) >= refusalInterval || now.Before(l.start) {
		l.start, l.n = now, 0
	}
	if l.n >= refusalBurst {
		l.suppressed++
		return false, 0
	}
	l.n++
	s := l.suppressed
	l.suppressed = 0
	return true, s
}

// warnRefused logs a refusal through the limiter.
func (h *Handler) warnRefused(msg string, attrs ...any) {
	ok, suppressed := h.refusals.allow()
	if !ok {
		return
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int64("suppressed", suppressed))
	}
	h.log.Warn(msg, attrs...)
}
