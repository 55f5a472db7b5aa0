package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
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

// recordScript, for each event (ARGV quadruples from ARGV[6]: dedup key, dedup TTL ms, encoded
// event, thread "page:psid"), sets the dedup key if absent (an event without one is always
// new) and, when it was, adds the event to the stream KEYS[1] and takes the lease of its thread
// for ARGV[1] with the thread's state (ARGV[3] the key prefix, ARGV[4] the lease TTL, ARGV[5]
// the fencing counter's TTL), so that handling the event needs no round trip before its commit.
// The event is delivered at once (in the same script, so no other replica reads it first) to
// ARGV[1], or, when another replica holds the thread's lease, to that replica, its id pushed to
// the thread's forward list, which the holder takes with its next commit (forwardedLua): the
// thread's events are handled by its holder in order, and the recorder never polls for the
// lease. It returns a triple per event: the stream id ("" for a duplicate), the lease's fencing
// token ("0": another replica holds it) and the thread's state, or ">" when the event was
// forwarded: one round trip per delivery. A stream that expired (no event and no replica for an
// hour) or that the server lost is made again with its group and TTL; the replicas' claim rounds
// keep its TTL (Claim), so that a record costs no command for it.
var recordScript = redis.NewScript(leaseLua + `
local out = {}
local P, holder = ARGV[3], ARGV[1]
for i = 6, #ARGV, 4 do
  local key, ttl, ev, sfx = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if key == '' or redis.call('SET', key, '', 'NX', 'PX', ttl) then
    local id = redis.call('XADD', KEYS[1], '*', 'e', ev)
    local tok, other = lease(P, sfx, holder, ARGV[4], ARGV[5])
    local read = {'XREADGROUP', 'GROUP', 'handlers', other or holder, 'COUNT', 1, 'STREAMS', KEYS[1], '>'}
    if redis.pcall(unpack(read)).err then
      -- A new stream (the last expired, or the server lost it): its group first, so that no
      -- entry is left undelivered.
      redis.call('XGROUP', 'CREATE', KEYS[1], 'handlers', '0', 'MKSTREAM')
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      redis.call(unpack(read))
    end
    out[#out + 1] = id
    out[#out + 1] = tostring(tok)
    if tok ~= 0 then
      out[#out + 1] = state(P, sfx)
    else
      local fk = P .. 'q:' .. sfx
      redis.call('RPUSH', fk, id)
      redis.call('PEXPIRE', fk, ARGV[2])
      out[#out + 1] = '>'
    end
  else
    out[#out + 1] = ''
    out[#out + 1] = '0'
    out[#out + 1] = ''
  end
end
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
	// The scripts are loaded up front, so that the hot path's first calls are one round trip
	// each (EVALSHA, not EVALSHA then EVAL).
	for _, sc := range []*redis.Script{recordScript, leaseScript, commitScript, releaseScript, claimScript} {
		if err := sc.Load(ctx, j.s.c).Err(); err != nil {
			return err
		}
	}
	err := j.s.c.XGroupCreateMkStream(ctx, j.stream, journalGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return err
	}
	return j.s.c.PExpire(ctx, j.stream, j.s.o.DedupWindow).Err()
}

// Recorded is what Record says of one event.
type Recorded struct {
	// ID is the event's id in the journal; "" for a duplicate.
	ID string
	// Lease is this replica's lease of the event's thread, taken with the record (Token 0:
	// another replica holds it), and Thread the thread's state read under it.
	Lease  Lease
	Thread handover.Thread
	// Forwarded: another replica held the thread's lease; the event was handed to it (it
	// handles the event in its turn), and this replica has nothing more to do with it.
	Forwarded bool
}

// Record adds the events that are new (by their dedup keys: "" for an event without one) to
// the journal, delivered to this replica, and takes the lease of each new event's thread, in
// one round trip. An error means nothing can be promised: the caller must not acknowledge the
// delivery.
func (j *Journal) Record(ctx context.Context, evs []handover.Event, keys []string, now time.Time) ([]Recorded, error) {
	o := &j.s.o
	args := make([]any, 0, 5+4*len(evs))
	args = append(args, j.consumer, o.DedupWindow.Milliseconds(), j.s.prefix, o.LeaseTTL.Milliseconds(),
		o.ThreadTTL.Milliseconds())
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, err
		}
		key := ""
		if keys[i] != "" {
			key = j.s.Key("d", keys[i])
		}
		ttl := evs[i].Timestamp.Add(o.DedupWindow).Sub(now)
		args = append(args, key, max(ttl, time.Millisecond).Milliseconds(), b, evs[i].PageID+":"+evs[i].PSID)
	}
	res, err := j.s.batch.run(ctx, recordScript, []string{j.stream}, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	if len(res) != 3*len(evs) {
		return nil, errors.New("journal: unexpected answer")
	}
	out := make([]Recorded, len(evs))
	for i := range out {
		out[i].ID = res[3*i]
		tok, _ := strconv.ParseInt(res[3*i+1], 10, 64)
		out[i].Forwarded = out[i].ID != "" && tok == 0 && res[3*i+2] == ">"
		if out[i].ID == "" || tok == 0 {
			continue
		}
		th, err := decodeState(res[3*i+2])
		if err != nil {
			continue // an unreadable state: the lease is taken again (and the state read) later
		}
		out[i].Lease = Lease{Page: evs[i].PageID, PSID: evs[i].PSID, Holder: j.consumer, Token: tok}
		out[i].Thread = th
	}
	return out, nil
}

// Done forgets a handled event (acknowledged and deleted, one round trip).
func (j *Journal) Done(ctx context.Context, ids ...string) error { return j.s.drop(ctx, ids...) }

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
	// Each live replica's round keeps the stream for the dedup window.
	if err := j.s.c.PExpire(ctx, j.stream, j.s.o.DedupWindow).Err(); err != nil {
		return nil, err
	}
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
