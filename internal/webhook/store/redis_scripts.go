package store

import "github.com/redis/go-redis/v9"

// The scripts run atomically on the server: each is one round trip, and no other client sees a
// state half written. A thread's keys are built in the scripts from the webhook's prefix
// (ARGV) and "page:psid", as Redis.Key builds them; they share the prefix's hash tag.

// leaseLua is the lease function shared by the scripts that take a lease: lease(P, sfx, holder,
// ttl, fenceTTL) takes the lease of thread sfx for holder for ttl ms, or renews it when holder
// holds it, and returns its fencing token (a new, larger one on every take; the same on a
// renewal), or 0 and the holder's name when another holder has it.
const leaseLua = `
local function lease(P, sfx, holder, ttl, fttl)
  local lk = P .. 'l:' .. sfx
  local cur = redis.call('GET', lk)
  if cur then
    local sep = string.find(cur, '|', 1, true)
    local who = string.sub(cur, 1, sep - 1)
    if who ~= holder then return 0, who end
    redis.call('PEXPIRE', lk, ttl)
    return tonumber(string.sub(cur, sep + 1))
  end
  local fk = P .. 'f:' .. sfx
  local tok = redis.call('INCR', fk)
  redis.call('PEXPIRE', fk, fttl)
  redis.call('SET', lk, holder .. '|' .. tok, 'PX', ttl)
  return tok
end
local function state(P, sfx)
  return redis.call('GET', P .. 't:' .. sfx) or ''
end
`

// leaseScript takes (or renews) the lease of thread ARGV[2] for ARGV[3] (ARGV[1] the prefix,
// ARGV[4] the lease TTL, ARGV[5] the fencing counter's TTL, in ms) and returns {token, the
// thread's state ("" when none), then id, event, ... of the events forwarded to the thread's
// holder (forwardedLua)}; token 0 when another holder has it. Taking the forwarded events with
// a renewal keeps them from going idle (and being claimed elsewhere) while the holder is busy
// with one long item.
var leaseScript = redis.NewScript(leaseLua + forwardedLua + `
local tok = lease(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if tok == 0 then return {'0', ''} end
local out = {tostring(tok), state(ARGV[1], ARGV[2])}
forwarded(ARGV[1] .. 'q:' .. ARGV[2], ARGV[1] .. 'events', ARGV[3], out)
return out
`)

// forwardedLua is the function of the scripts run by a thread's lease holder:
// forwarded(fk, stream, holder, out) takes the ids of the events other replicas recorded for the
// thread while another held its lease (the list fk, see recordScript) and appends to out the id
// and event of each that no replica took yet, claimed to holder (XCLAIM, which restarts its
// idle time), so that the holder handles them in its turn instead of the recorders polling for
// the lease. Not taken yet means pending with the one delivery of its record, whichever holder
// it was forwarded to (a holder that lost the lease before taking it leaves it to the next): a
// take or a claim counts a delivery, and a handled event is no longer pending.
const forwardedLua = `
local function forwarded(fk, stream, holder, out)
  local ids = redis.call('LRANGE', fk, 0, -1)
  if #ids == 0 then return end
  redis.call('DEL', fk)
  for _, id in ipairs(ids) do
    local p = redis.pcall('XPENDING', stream, 'handlers', id, id, 1)
    if p[1] and tonumber(p[1][4]) == 1 then
      local m = redis.call('XCLAIM', stream, 'handlers', holder, 0, id)
      if m[1] then
        out[#out + 1] = m[1][1]
        out[#out + 1] = m[1][2][2]
      end
    end
  end
end
`

// releaseScript gives the lease KEYS[1] back if ARGV[1] still holds it with token ARGV[2],
// unless events were forwarded to the thread (the list KEYS[2] of the stream KEYS[3]): it then
// keeps the lease and returns them. Returns {1 when the lease is kept, else 0, then id, event,
// ...}; a caller that no longer holds the lease takes nothing.
var releaseScript = redis.NewScript(forwardedLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. '|' .. ARGV[2] then return {0} end
local out = {1}
forwarded(KEYS[2], KEYS[3], ARGV[1], out)
if #out == 1 then
  redis.call('DEL', KEYS[1])
  out[1] = 0
end
return out
`)

// commitScript ends the handling of one item under a lease, in one round trip: only if the
// fencing counter KEYS[2] still says ARGV[1] (a holder whose lease expired, and whose thread
// was since leased by another, cannot write), it writes the thread state ARGV[2] (KEYS[1], TTL
// ARGV[3] ms; "" deletes it; "-" leaves state and timer as they are) and its timer (ARGV[4]:
// due unix ms, "" for none; member ARGV[5] of the sorted set KEYS[3]), acknowledges and
// deletes the journal entry ARGV[6] ("" for none) of the stream KEYS[4], takes the events
// forwarded to the holder ARGV[8] (the list KEYS[6], see forwardedLua) and, when ARGV[7] is
// the holder and none was, gives the lease KEYS[5] back. Returns 0 when fenced off (nothing
// written, the entry left for another replica), else {0 when the lease was given back, else
// 1, then id, event, ... of the forwarded events}.
var commitScript = redis.NewScript(forwardedLua + `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '-' then
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
end
if ARGV[6] ~= '' then
  redis.call('XACK', KEYS[4], 'handlers', ARGV[6])
  redis.call('XDEL', KEYS[4], ARGV[6])
end
local out = {1}
forwarded(KEYS[6], KEYS[4], ARGV[8], out)
-- The token is still the thread's newest: the lease is the holder's or expired untaken.
if #out == 1 and ARGV[7] ~= '' then
  redis.call('DEL', KEYS[5])
  out[1] = 0
end
return out
`)

// claimScript takes up to ARGV[2] timers of the sorted set KEYS[1] due at or before ARGV[1]
// (unix ms): each due timer is returned to exactly one caller, and put back due at ARGV[3], so
// that a timer whose claimer died before handling it fires later elsewhere (the handling
// rewrites or removes it).
var claimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[3], m) end
return due
`)
