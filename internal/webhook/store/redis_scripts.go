package store

import "github.com/redis/go-redis/v9"

// The scripts run atomically on the server: each is one round trip, and no other client sees a
// state half written.

// leaseScript takes the lease of a thread for ARGV[1] (the holder) for ARGV[2] ms, or renews
// it when ARGV[1] holds it: KEYS[1] the lease, KEYS[2] the thread's fencing counter. It returns
// the fencing token of the lease (a new, larger one on every take; the same on a renewal), or
// 0 when another holder has it.
var leaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  if string.sub(cur, 1, sep - 1) ~= ARGV[1] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(cur, sep + 1))
end
local tok = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. tok, 'PX', ARGV[2])
return tok
`)

// releaseScript gives the lease back if ARGV[1] still holds it with token ARGV[2].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] .. '|' .. ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// saveScript writes the thread state ARGV[2] (TTL ARGV[3] ms) and its timer (ARGV[4]: due
// unix ms, empty for none; member ARGV[5] of the sorted set KEYS[3]) only if the fencing
// counter KEYS[2] still says ARGV[1]: a holder whose lease expired, and whose thread was since
// leased by another, cannot write. KEYS[1] is the state. Returns 1 when written, 0 when fenced
// off.
var saveScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[3], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return 1
`)

// claimScript removes and returns up to ARGV[2] timers of the sorted set KEYS[1] due at or
// before ARGV[1] (unix ms): each due timer is returned to exactly one caller.
var claimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`)
