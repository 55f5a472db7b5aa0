package config

import (
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"sync"
)

// Target receives configurations; the webhook's Server is one.
type Target interface {
	Apply(cfg Page)
}

// Applier builds every snapshot a source delivers and applies it when it is valid and differs
// from the one applied last. An invalid or incomplete snapshot is logged (once per distinct
// problem) and leaves the last good configuration serving.
type Applier struct {
	Target Target
	Logger *slog.Logger
	// Applied, when set, is called after each Apply with the snapshot and the configuration
	// applied (the status writer takes the page's generation and the verify token from them).
	Applied func(Snapshot, Page)

	mu      sync.Mutex
	last    [sha256.Size]byte
	applied bool
	lastErr string
}

// Update builds s and applies it. It returns the build error, if any (already logged).
func (a *Applier) Update(s Snapshot) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	log := a.logger()
	cfg, err := Build(s)
	if err != nil {
		if msg := err.Error(); msg != a.lastErr {
			a.lastErr = msg
			if a.applied {
				log.Error("page configuration not applied; the last good one keeps serving", "error", msg)
			} else {
				log.Warn("page configuration incomplete or invalid; not ready", "error", msg)
			}
		}
		return err
	}
	a.lastErr = ""
	key := digest(s, &cfg)
	if a.applied && key == a.last {
		return nil // a change that does not touch the configuration (status, labels, resync)
	}
	a.Target.Apply(cfg)
	a.last, a.applied = key, true
	if a.Applied != nil {
		a.Applied(s, cfg)
	}
	return nil
}

// digest identifies what a configuration is built from: the specs and the secret values in use
// (hashed, never kept in clear beyond the Config itself).
func digest(s Snapshot, cfg *Page) [sha256.Size]byte {
	h := sha256.New()
	page, _ := json.Marshal(s.Page.Spec)
	policy, _ := json.Marshal(s.Policy.Spec)
	for _, b := range [][]byte{page, policy, cfg.PageAccessToken, cfg.AppSecret, cfg.VerifyToken} {
		writeField(h, b)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (a *Applier) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
