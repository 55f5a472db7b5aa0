package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
	"github.com/messenger-operator/messenger-operator/test/redistest"
)

// syncBuffer is a log sink written by the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A URL with a wrong password, then a server that is gone: the calls fail, the client logs its
// dial failures, and neither the errors nor any log line shows the password, the URL or the
// server's address.
func TestRedisLogNeverShowsURLOrPassword(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	if err := admin.ConfigSet(ctx, "requirepass", "right-one").Err(); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	var out syncBuffer
	store.SetLogger(slog.New(slog.NewTextHandler(&out, nil)))
	t.Cleanup(func() { store.SetLogger(nil) })

	const password = "wr0ng-Passw0rd"
	url := "redis://:" + password + "@" + srv.Addr + "/0"
	s := newRedis(t, url, func(o *store.RedisOptions) { o.OpTimeout = 200 * time.Millisecond })
	var errs []string
	if err := s.Ping(ctx); err == nil {
		t.Fatal("a wrong password was accepted")
	} else {
		errs = append(errs, err.Error())
	}
	srv.Stop()
	for range 3 {
		if _, err := s.SeenFirst(ctx, "m", t0, t0); err == nil {
			t.Fatal("a call to a stopped server succeeded")
		} else {
			errs = append(errs, err.Error())
		}
	}
	// The pool logs its dial failures from a goroutine of its own.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "redis client") && time.Now().Before(deadline) {
		_ = s.Ping(ctx)
		time.Sleep(50 * time.Millisecond)
	}
	logged := out.String()
	if !strings.Contains(logged, "redis client") {
		t.Fatalf("the client logged nothing through the webhook's logger (the test would show nothing):\n%s", logged)
	}
	for _, text := range append(errs, logged) {
		for _, secret := range []string{password, url, srv.Addr} {
			if strings.Contains(text, secret) {
				t.Fatalf("%q appears in:\n%s", secret, text)
			}
		}
	}
}
