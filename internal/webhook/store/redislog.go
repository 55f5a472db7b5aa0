package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// The go-redis client logs on its own (dial failures in its pool, with the server's address);
// its logger is process-wide. redisLog replaces it with one that writes to the webhook's slog
// logger and blanks out what NewRedis registered as secret (the URL, its password and user,
// the server's address) and any redis:// URL, so that the URL never reaches a log.

var redisLog = &redactingLogger{}

func init() { redis.SetLogger(redisLog) }

// SetLogger makes the go-redis client's messages go to log (at warning level), redacted.
func SetLogger(log *slog.Logger) {
	redisLog.mu.Lock()
	redisLog.log = log
	redisLog.mu.Unlock()
}

type redactingLogger struct {
	mu      sync.Mutex
	log     *slog.Logger // nil: slog.Default()
	secrets []string
}

var urlPattern = regexp.MustCompile(`rediss?://\S*`)

// addSecrets registers strings never to print (empty ones are ignored).
func (l *redactingLogger) addSecrets(s ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range s {
		if v != "" {
			l.secrets = append(l.secrets, v)
		}
	}
}

// redact blanks the secrets out of msg, the longest first (a password may be part of the URL).
func (l *redactingLogger) redact(msg string) string {
	msg = urlPattern.ReplaceAllString(msg, "[redis URL]")
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

func (l *redactingLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := l.redact(strings.TrimSpace(fmt.Sprintf(format, v...)))
	l.mu.Lock()
	log := l.log
	l.mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "redis client", "message", msg)
}

// redactDial is a client hook that blanks the secrets out of dial errors ("dial tcp
// host:port: ..."), which the callers log.
type redactDial struct{}

func (redactDial) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, redactedError{redisLog.redact(err.Error()), err}
		}
		return c, nil
	}
}

func (redactDial) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (redactDial) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// redactedError says what err says without the secrets; errors.Is/As still see err.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
