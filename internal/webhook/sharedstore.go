package webhook

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// sharedStore puts the Redis store and its journal into ro when Options.RedisURL is set. A store
// that does not answer at start is no error: the webhook then answers 503 and is not ready
// until it does.
func (o *Options) sharedStore(ro *runner.Options, log *slog.Logger) error {
	if o.RedisURL == "" {
		return nil
	}
	store.SetLogger(log) // the client's own messages, with the URL and address blanked out
	s, err := store.NewRedis(store.RedisOptions{URL: o.RedisURL, KeyPrefix: o.RedisKeyPrefix})
	if err != nil {
		return err // never repeats the URL
	}
	name := o.ReplicaName
	if name == "" {
		if name, err = os.Hostname(); err != nil || name == "" {
			name = "webhook"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	j, err := store.NewJournal(ctx, s, name)
	if err != nil {
		log.Warn("the shared store does not answer yet: deliveries get 503 until it does", "error", err.Error())
	}
	ro.Store, ro.Journal, ro.Leases, ro.Holder = s, j, s, name
	ro.ClaimIdle, ro.ClaimInterval = o.ClaimIdle, o.ClaimInterval
	if ro.ClaimInterval <= 0 && ro.ClaimIdle > 0 {
		// Touched several times within the idle time, so that a live replica's work is not claimed.
		ro.ClaimInterval = min(5*time.Second, ro.ClaimIdle/4)
	}
	log.Info("shared store: Redis", "keyPrefix", o.RedisKeyPrefix, "replica", name)
	return nil
}
