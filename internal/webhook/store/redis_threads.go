package store

import (
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// threadScanBatch is how many thread keys one SCAN step asks for (and one MGET reads).
const threadScanBatch = 500

// EachThread calls f with every thread the store holds (messenger_webhook_threads at a scrape):
// a SCAN of the thread keys and one MGET per batch, within the store's operation timeout. Every
// replica sees the same threads, so the gauge is the store's count, not the replica's (take the
// max across replicas, not the sum). A failure ends the walk early and is counted in Errors.
func (s *Redis) EachThread(f func(pageID string, th *handover.Thread)) {
	ctx, cancel := s.ctx()
	defer cancel()
	head := s.Key("t") + ":"
	var cursor uint64
	for {
		keys, next, err := s.c.Scan(ctx, cursor, globEscape(head)+"*", threadScanBatch).Result()
		if err != nil {
			s.errs.Add(1)
			return
		}
		if len(keys) > 0 {
			vals, err := s.c.MGet(ctx, keys...).Result()
			if err != nil && err != redis.Nil {
				s.errs.Add(1)
				return
			}
			for i, v := range vals {
				str, ok := v.(string)
				if !ok {
					continue // expired between the SCAN and the MGET
				}
				page, _, ok := strings.Cut(strings.TrimPrefix(keys[i], head), ":")
				if !ok {
					continue
				}
				th, err := decodeThread(str)
				if err != nil {
					continue
				}
				f(page, &th)
			}
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

// globEscape quotes the characters SCAN's MATCH pattern would read as a glob.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
