package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// RedisOptions say where the Redis store is and how long it keeps things.
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL (password and database inside it). It never appears
	// in an error, a log or a metric.
	URL string
	// KeyPrefix starts every key (the app's or page's, with a hash tag for Redis Cluster).
	KeyPrefix string
	// DedupWindow is how long after an event's own timestamp its key is kept. Default 1 hour.
	DedupWindow time.Duration
	// ThreadTTL is how long a thread state and its timer are kept after their last write.
	// Default 8 days: longer than the longest idle timeout (168h) the API allows.
	ThreadTTL time.Duration
	// LeaseTTL is how long a thread's lease lasts unless renewed: a crashed holder loses it
	// after that. Default 15s.
	LeaseTTL time.Duration
	// OpTimeout bounds one call. Default 2s.
	OpTimeout time.Duration
}

// Redis is the store shared by the replicas of one webhook. Every key starts with the prefix
// and has a TTL; it holds ids, owners and times, never message text or profile data.
type Redis struct {
	c      *redis.Client
	batch  *batcher // the hot path's scripts
	prefix string
	o      RedisOptions
	errs   atomic.Uint64 // failed calls of the Store methods (which cannot return errors)
}

// ErrFenced is returned by Commit when another holder leased the thread since the lease
// was taken: the caller's view is stale and it must not act.
var ErrFenced = errors.New("thread lease lost to another holder")

// errBadURL never wraps the parser's error: it may repeat the URL.
var errBadURL = errors.New("the Redis URL is not a valid redis:// or rediss:// URL")

// NewRedis connects lazily to the store at o.URL.
func NewRedis(o RedisOptions) (*Redis, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, errBadURL
	}
	// Longest first: the URL holds the others.
	redisLog.addSecrets(o.URL, opts.Addr, opts.Password, opts.Username)
	if o.DedupWindow <= 0 {
		o.DedupWindow = DedupWindow
	}
	if o.ThreadTTL <= 0 {
		o.ThreadTTL = 8 * 24 * time.Hour
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 2 * time.Second
	}
	opts.ReadTimeout, opts.WriteTimeout = o.OpTimeout, o.OpTimeout
	opts.DialTimeout = o.OpTimeout
	opts.MaxRetries = 1
	if opts.PoolSize == 0 {
		// Every delivery waits on the store before its 200 (and Redis with an fsync per write
		// batches the writes of one event-loop round): enough connections for the deliveries
		// in flight rather than the default 10 per CPU. A URL's pool_size wins.
		opts.PoolSize, opts.MinIdleConns = 64, 8
	}
	o.URL = ""
	c := redis.NewClient(opts)
	c.AddHook(redactDial{})
	return &Redis{c: c, batch: newBatcher(c, o.OpTimeout), prefix: o.KeyPrefix, o: o}, nil
}

// Close closes the connections.
func (s *Redis) Close() error {
	s.batch.close()
	return s.c.Close()
}

// Ping checks that the store answers (readiness).
func (s *Redis) Ping(ctx context.Context) error { return s.c.Ping(ctx).Err() }

// Client is the underlying client, for the event stream.
func (s *Redis) Client() *redis.Client { return s.c }

// Key is the full name of a key of this webhook.
func (s *Redis) Key(parts ...string) string { return s.prefix + strings.Join(parts, ":") }

func (s *Redis) threadKey(page, psid string) string  { return s.Key("t", page, psid) }
func (s *Redis) leaseKey(page, psid string) string   { return s.Key("l", page, psid) }
func (s *Redis) fenceKey(page, psid string) string   { return s.Key("f", page, psid) }
func (s *Redis) forwardKey(page, psid string) string { return s.Key("q", page, psid) }
func (s *Redis) timersKey() string                   { return s.Key("timers") }

// TimerMember names a thread in the timer set.
func TimerMember(page, psid string) string { return page + "|" + psid }

// SplitTimerMember is the inverse of TimerMember.
func SplitTimerMember(m string) (page, psid string, ok bool) { return strings.Cut(m, "|") }

// SeenFirst records an event's dedup key until its own timestamp plus the dedup window (by the
// engine's clock now) and reports whether no replica recorded it before. An event already past
// the window is not recorded and reported as seen.
func (s *Redis) SeenFirst(ctx context.Context, key string, at, now time.Time) (bool, error) {
	ttl := at.Add(s.o.DedupWindow).Sub(now)
	if ttl <= 0 {
		return false, nil
	}
	return s.c.SetNX(ctx, s.Key("d", key), "", max(ttl, time.Millisecond)).Result()
}

// LoadThread reads a thread's state; the zero Thread when none is known.
func (s *Redis) LoadThread(ctx context.Context, page, psid string) (handover.Thread, error) {
	v, err := s.c.Get(ctx, s.threadKey(page, psid)).Result()
	if errors.Is(err, redis.Nil) {
		return handover.Thread{}, nil
	}
	if err != nil {
		return handover.Thread{}, err
	}
	return decodeThread(v)
}

// decodeState is decodeThread, with "" for no state.
func decodeState(v string) (handover.Thread, error) {
	if v == "" {
		return handover.Thread{}, nil
	}
	return decodeThread(v)
}

// Lease is one holder's exclusive right to act on a thread, with its fencing token.
type Lease struct {
	Page, PSID, Holder string
	Token              int64
}

// Acquire takes (or renews) the lease of a thread for holder and reads the thread's state
// under it, in one round trip; ok is false while another holder has it. With the lease come
// the events other replicas forwarded to the thread's holder, to be handled under it.
func (s *Redis) Acquire(ctx context.Context, page, psid, holder string) (Lease, handover.Thread, bool, []JournalEntry, error) {
	res, err := s.batch.run(ctx, leaseScript, nil, s.prefix, page+":"+psid, holder,
		s.o.LeaseTTL.Milliseconds(), s.o.ThreadTTL.Milliseconds()).StringSlice()
	if err != nil {
		return Lease{}, handover.Thread{}, false, nil, err
	}
	if len(res) < 2 || len(res)%2 != 0 {
		return Lease{}, handover.Thread{}, false, nil, errors.New("lease: unexpected answer")
	}
	tok, _ := strconv.ParseInt(res[0], 10, 64)
	if tok == 0 {
		return Lease{}, handover.Thread{}, false, nil, nil
	}
	th, err := decodeState(res[1])
	if err != nil {
		th = handover.Thread{} // unreadable: the owner is asked again
	}
	return Lease{Page: page, PSID: psid, Holder: holder, Token: tok}, th, true, s.entries(ctx, res[2:]), nil
}

// LeaseTTL is how long a lease lasts unless renewed.
func (s *Redis) LeaseTTL() time.Duration { return s.o.LeaseTTL }

// Release gives a lease back (a no-op when it was lost meanwhile), unless other replicas
// forwarded events of the thread to its holder: the lease is then kept (kept is true), and the
// events returned for the holder to handle under it.
func (s *Redis) Release(ctx context.Context, l Lease) (fwd []JournalEntry, kept bool, err error) {
	res, err := s.batch.run(ctx, releaseScript, []string{s.leaseKey(l.Page, l.PSID), s.forwardKey(l.Page, l.PSID), s.Key("events")},
		l.Holder, l.Token).Slice()
	if err != nil {
		return nil, false, err
	}
	return s.turn(ctx, res)
}

// Commit is the end of one item's handling under lease l, in one round trip: the thread's
// state th and its timer (due at timerAt; zero for none) unless c.Keep, the acknowledgement
// of the journal entry c.JID ("" for none), the events other replicas forwarded to the holder
// (returned, to be handled under the lease), and, when c.Release and none was forwarded, the
// lease given back (kept is false only then). ErrFenced, with nothing written, when another
// holder leased the thread since.
func (s *Redis) Commit(ctx context.Context, l Lease, c Commit) (fwd []JournalEntry, kept bool, err error) {
	state, due := "-", ""
	if !c.Keep {
		state = ""
		if c.Thread != (handover.Thread{}) {
			state = encodeThread(c.Thread)
		}
		if !c.TimerAt.IsZero() {
			due = strconv.FormatInt(c.TimerAt.UnixMilli(), 10)
		}
	}
	release := ""
	if c.Release {
		release = l.Holder
	}
	res, err := s.batch.run(ctx, commitScript,
		[]string{s.threadKey(l.Page, l.PSID), s.fenceKey(l.Page, l.PSID), s.timersKey(), s.Key("events"),
			s.leaseKey(l.Page, l.PSID), s.forwardKey(l.Page, l.PSID)},
		strconv.FormatInt(l.Token, 10), state, s.o.ThreadTTL.Milliseconds(), due, TimerMember(l.Page, l.PSID), c.JID,
		release, l.Holder).Result()
	if err != nil {
		return nil, false, err
	}
	vals, ok := res.([]any)
	if !ok {
		return nil, false, ErrFenced
	}
	return s.turn(ctx, vals)
}

// turn reads a commit's or release's answer: whether the lease is kept, then id, event, ...
// of the forwarded events.
func (s *Redis) turn(ctx context.Context, vals []any) ([]JournalEntry, bool, error) {
	if len(vals)%2 != 1 {
		return nil, false, errors.New("lease: unexpected answer")
	}
	kept, _ := vals[0].(int64)
	pairs := make([]string, len(vals)-1)
	for i, v := range vals[1:] {
		pairs[i], _ = v.(string)
	}
	return s.entries(ctx, pairs), kept == 1, nil
}

// drop acknowledges and deletes journal entries (one round trip).
func (s *Redis) drop(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	stream := s.Key("events")
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, stream, journalGroup, ids...)
		p.XDel(ctx, stream, ids...)
		return nil
	})
	return err
}

// entries reads forwarded events (id, event, ...). An unreadable event (another version's
// format) is dropped from the journal rather than handled or left to loop.
func (s *Redis) entries(ctx context.Context, pairs []string) []JournalEntry {
	var out []JournalEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		e := JournalEntry{ID: pairs[i]}
		if json.Unmarshal([]byte(pairs[i+1]), &e.Event) != nil {
			_ = s.drop(ctx, e.ID)
			continue
		}
		out = append(out, e)
	}
	return out
}

// Commit says what the end of an item's handling writes.
type Commit struct {
	// Thread and TimerAt (zero: no timer) are written unless Keep.
	Thread  handover.Thread
	TimerAt time.Time
	Keep    bool
	// JID is the journal entry handled ("" for none: a timer tick).
	JID string
	// Release gives the lease back (the thread's queue is empty here).
	Release bool
}

// ClaimDue takes up to n timers due at now: each is returned to one caller across replicas,
// which then handles the thread's tick (a timer due during an outage is claimed after it). A
// claimed timer is put back due at now plus reclaim, so that it fires elsewhere when its
// claimer dies before handling it.
func (s *Redis) ClaimDue(ctx context.Context, now time.Time, n int, reclaim time.Duration) ([]string, error) {
	return claimScript.Run(ctx, s.c, []string{s.timersKey()}, now.UnixMilli(), n, now.Add(reclaim).UnixMilli()).StringSlice()
}

// The Store methods, for a runner that keeps one process's view (errors are counted: a failed
// read gives the unknown thread, which makes the engine ask Graph; a failed dedup write lets
// the event through).

func (s *Redis) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.o.OpTimeout)
}

// Thread implements Store.
func (s *Redis) Thread(pageID, psid string) handover.Thread {
	ctx, cancel := s.ctx()
	defer cancel()
	th, err := s.LoadThread(ctx, pageID, psid)
	if err != nil {
		s.errs.Add(1)
	}
	return th
}

// SetThread implements Store: a write outside any lease (one replica).
func (s *Redis) SetThread(pageID, psid string, th handover.Thread) {
	ctx, cancel := s.ctx()
	defer cancel()
	var err error
	if th == (handover.Thread{}) {
		err = s.c.Del(ctx, s.threadKey(pageID, psid)).Err()
	} else {
		err = s.c.Set(ctx, s.threadKey(pageID, psid), encodeThread(th), s.o.ThreadTTL).Err()
	}
	if err != nil {
		s.errs.Add(1)
	}
}

// FirstSeen implements Store.
func (s *Redis) FirstSeen(key string, at, now time.Time) bool {
	ctx, cancel := s.ctx()
	defer cancel()
	ok, err := s.SeenFirst(ctx, key, at, now)
	if err != nil {
		s.errs.Add(1)
		return true
	}
	return ok
}

// Errors counts the failed calls of the Store methods.
func (s *Redis) Errors() uint64 { return s.errs.Load() }
