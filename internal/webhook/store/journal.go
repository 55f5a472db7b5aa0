package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// The journal keeps the events a replica acknowledged until they are handled, in a Redis stream
// per webhook with one consumer group: the replica that records an event is its consumer, and
// another replica claims it (XAUTOCLAIM) when it stays idle longer than the claim time, that is
// when its replica died. Nothing acknowledged lives only in one pod's memory.

const journalGroup = "handlers"

// recordScript, for each event (ARGV triples: dedup key, dedup TTL ms, encoded event), sets the
// dedup key if absent (an event without one is always new) and, when it was, adds the event to the stream KEYS[1] and delivers it at
// once to consumer ARGV[1] (in the same script, so no other replica reads it first). It returns
// the stream id of each new event and "" for each duplicate: one round trip per delivery.
var recordScript = redis.NewScript(`
local out = {}
local n = (#ARGV - 2) / 3
for i = 0, n - 1 do
  local key, ttl, ev = ARGV[3 + 3*i], ARGV[4 + 3*i], ARGV[5 + 3*i]
  if key == '' or redis.call('SET', key, '', 'NX', 'PX', ttl) then
    redis.call('XADD', KEYS[1], '*', 'e', ev)
    local got = redis.call('XREADGROUP', 'GROUP', 'handlers', ARGV[1], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
    out[#out + 1] = got[1][2][1][1]
  else
    out[#out + 1] = ''
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return out
`)

// Journal is the Redis stream of one webhook's accepted events, seen by one replica.
type Journal struct {
	s        *Redis
	consumer string // this replica (pod name)
	stream   string
}

// JournalEntry is an event recorded in the journal.
type JournalEntry struct {
	ID    string
	Event handover.Event
}

// NewJournal opens the journal of s for consumer (unique per replica), creating the stream and
// its group when missing.
func NewJournal(ctx context.Context, s *Redis, consumer string) (*Journal, error) {
	j := &Journal{s: s, consumer: consumer, stream: s.Key("events")}
	return j, j.ensureGroup(ctx)
}

func (j *Journal) ensureGroup(ctx context.Context) error {
	err := j.s.c.XGroupCreateMkStream(ctx, j.stream, journalGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return err
	}
	return j.s.c.PExpire(ctx, j.stream, j.s.o.DedupWindow).Err()
}

// Record adds the events that are new (by their dedup keys: "" for an event without one) to
// the journal, delivered to this replica, in one round trip; ids[i] is "" for a duplicate. An
// error means nothing can be promised: the caller must not acknowledge the delivery.
func (j *Journal) Record(ctx context.Context, evs []handover.Event, keys []string, now time.Time) ([]string, error) {
	args := make([]any, 0, 2+3*len(evs))
	args = append(args, j.consumer, j.s.o.DedupWindow.Milliseconds())
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, err
		}
		key := ""
		if keys[i] != "" {
			key = j.s.Key("d", keys[i])
		}
		ttl := evs[i].Timestamp.Add(j.s.o.DedupWindow).Sub(now)
		args = append(args, key, max(ttl, time.Millisecond).Milliseconds(), b)
	}
	res, err := recordScript.Run(ctx, j.s.c, []string{j.stream}, args...).StringSlice()
	if err != nil && strings.Contains(err.Error(), "NOGROUP") {
		// The stream expired (no event for an hour) or the server lost it: make it again.
		if gerr := j.ensureGroup(ctx); gerr != nil {
			return nil, gerr
		}
		res, err = recordScript.Run(ctx, j.s.c, []string{j.stream}, args...).StringSlice()
	}
	if err != nil {
		return nil, err
	}
	if len(res) != len(evs) {
		return nil, errors.New("journal: unexpected answer")
	}
	return res, nil
}

// Done forgets a handled event (acknowledged and deleted, one round trip).
func (j *Journal) Done(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := j.s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, j.stream, journalGroup, ids...)
		p.XDel(ctx, j.stream, ids...)
		return nil
	})
	return err
}

// Touch tells the other replicas that this one still works on ids (their idle time restarts),
// so that a long queue is not mistaken for a dead replica.
func (j *Journal) Touch(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return j.s.c.XClaimJustID(ctx, &redis.XClaimArgs{Stream: j.stream, Group: journalGroup,
		Consumer: j.consumer, MinIdle: 0, Messages: ids}).Err()
}

// Claim takes over up to n events that stayed idle longer than minIdle (their replica died or
// lost the store): each goes to one claimer.
func (j *Journal) Claim(ctx context.Context, minIdle time.Duration, n int) ([]JournalEntry, error) {
	var out []JournalEntry
	start := "0-0"
	for len(out) < n {
		msgs, next, err := j.s.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: j.stream, Group: journalGroup,
			Consumer: j.consumer, MinIdle: minIdle, Start: start, Count: int64(n - len(out))}).Result()
		if err != nil {
			if strings.Contains(err.Error(), "NOGROUP") {
				return out, j.ensureGroup(ctx)
			}
			return out, err
		}
		for _, m := range msgs {
			var e JournalEntry
			e.ID = m.ID
			raw, _ := m.Values["e"].(string)
			if json.Unmarshal([]byte(raw), &e.Event) != nil {
				_ = j.Done(ctx, m.ID) // unreadable (another version's format): dropped, not looping
				continue
			}
			out = append(out, e)
		}
		if next == "0-0" || len(msgs) == 0 {
			break
		}
		start = next
	}
	return out, nil
}
