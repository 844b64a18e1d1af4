-- ConnGuard fleet permits: one script for acquire, renew and release ("sync").
-- Every call tells Redis what this JVM (the holder) holds and how many local connects wait; the
-- script reconciles, purges dead JVMs by Redis's own clock, and grants what fairness allows.
--
-- KEYS (one host of one fleet; all five share a hash tag, e.g. {connguard:<fleet>:<host:port>}):
--   1 holders  ZSET  holder -> lease expiry (ms, Redis clock)
--   2 counts   HASH  holder -> permits held by that JVM (one entry per JVM, whatever the count)
--   3 queue    ZSET  "holder#seq" -> seq         (one ticket per waiting connect, FIFO by seq)
--   4 waiters  ZSET  holder -> ticket lease expiry (ms)
--   5 meta     HASH  seq -> last ticket number, used -> sum of counts (for people; never read)
-- ARGV:
--   1 holder    this JVM's id, unique per JVM run, no '#' in it (e.g. host/pid/random)
--   2 cap       the fleet cap for this host
--   3 lease     permit lease, ms (renew at lease/3)
--   4 tlease    ticket lease, ms (waiting JVMs call again well within it)
--   5 held      permits this JVM holds locally after its releases (reconciled: SET, not add)
--   6 pending   local connects waiting for a permit now, at most cap (a JVM never needs more
--               tickets than the cap to hold its place; this bounds the queue to JVMs x cap)
--   7 extra     surplus permits wanted beyond pending (block grant), given only when nobody waits
-- Returns {granted, used (fleet-wide, after), queue length, own tickets left, own tickets ahead
--          of the first free slot (0 = at the head), now ms}
-- Needs Redis >= 5.0 (effects replication, so TIME before writes is allowed).

local holder = ARGV[1]
local cap = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local tlease = tonumber(ARGV[4])
local held = tonumber(ARGV[5])
local pending = tonumber(ARGV[6])
local extra = tonumber(ARGV[7])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function starts(s, prefix)
  return string.sub(s, 1, #prefix) == prefix
end


-- 1. Dead JVMs: permits whose lease ran out come back; tickets whose lease ran out leave the queue.
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, h in ipairs(dead) do
  redis.call('HDEL', KEYS[2], h)
  redis.call('ZREM', KEYS[1], h)
end
-- Permits in use: summed from the holders' counts every time (one entry per JVM), never a
-- running total, so a lost or evicted key cannot leave the count wrong.
local used = 0
for _, c in ipairs(redis.call('HVALS', KEYS[2])) do
  used = used + tonumber(c)
end
local deadw = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
if #deadw > 0 then
  local gone = {}
  for _, h in ipairs(deadw) do
    gone[h .. '#'] = true
    redis.call('ZREM', KEYS[4], h)
  end
  for _, ticket in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local h = string.match(ticket, '^(.*#)%d+$')
    if h and gone[h] then
      redis.call('ZREM', KEYS[3], ticket)
    end
  end
end

-- 2. Reconcile this JVM's count with what it says it holds (a lost reply or an expired lease
--    cannot leak or double-count permits).
local before = tonumber(redis.call('HGET', KEYS[2], holder) or '0')
used = used - before + held

-- 3. Tickets: exactly `pending` of them while connects wait; the youngest go first.
local prefix = holder .. '#'
local queued = redis.call('ZCARD', KEYS[3])
local free = cap - used
local granted = 0

local function ownTickets()
  local list = {}
  for _, ticket in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if starts(ticket, prefix) then
      list[#list + 1] = ticket
    end
  end
  return list
end

-- This JVM's tickets as the queue holds them (not a separate count that could disagree).
local own = #ownTickets()

if pending > 0 and queued == own and free >= pending then
  -- Nobody else waits and there is room for every waiting connect: take them, and a block.
  if own > 0 then
    for _, ticket in ipairs(ownTickets()) do
      redis.call('ZREM', KEYS[3], ticket)
    end
    own = 0
  end
  granted = math.min(free, pending + extra)
elseif pending > 0 then
  if own < pending then
    -- Ticket numbers only grow, even if the counter was lost: never behind the newest ticket.
    local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
    local seq = tonumber(redis.call('HGET', KEYS[5], 'seq') or '0')
    if newest[2] and tonumber(newest[2]) > seq then
      redis.call('HSET', KEYS[5], 'seq', newest[2])
    end
    local last = redis.call('HINCRBY', KEYS[5], 'seq', pending - own)
    for seq = last - (pending - own) + 1, last do
      redis.call('ZADD', KEYS[3], seq, prefix .. seq)
    end
  elseif own > pending then
    local mine = ownTickets()
    for i = #mine - (own - pending) + 1, #mine do
      redis.call('ZREM', KEYS[3], mine[i])
    end
  end
  own = pending
  -- Fair share: only own tickets among the first `free` tickets of the whole queue.
  if free > 0 then
    for _, ticket in ipairs(redis.call('ZRANGE', KEYS[3], 0, free - 1)) do
      if starts(ticket, prefix) then
        redis.call('ZREM', KEYS[3], ticket)
        granted = granted + 1
      end
    end
    own = own - granted
  end
else
  -- No connect waits here: drop leftover tickets; a surplus block only while nobody waits.
  if own > 0 then
    for _, ticket in ipairs(ownTickets()) do
      redis.call('ZREM', KEYS[3], ticket)
    end
    own = 0
  end
  if extra > 0 and free > 0 and redis.call('ZCARD', KEYS[3]) == 0 then
    granted = math.min(free, extra)
  end
end

-- 4. Write back: count, total, leases.
local count = held + granted
used = used + granted
if count > 0 then
  redis.call('HSET', KEYS[2], holder, count)
  redis.call('ZADD', KEYS[1], now + lease, holder)
else
  redis.call('HDEL', KEYS[2], holder)
  redis.call('ZREM', KEYS[1], holder)
end
if own > 0 then
  redis.call('ZADD', KEYS[4], now + tlease, holder)
else
  redis.call('ZREM', KEYS[4], holder)
end
redis.call('HSET', KEYS[5], 'used', used)

queued = redis.call('ZCARD', KEYS[3])

-- 5. Position: own tickets wait behind `ahead` tickets beyond the free slots.
local ahead = 0
if own > 0 then
  local first = 0
  for i, ticket in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if starts(ticket, prefix) then
      first = i - 1
      break
    end
  end
  ahead = first - math.max(cap - used, 0)
  if ahead < 0 then ahead = 0 end
end

-- Keys of a fleet that went quiet disappear by themselves (every live JVM refreshes them).
local ttl = math.max(lease, tlease) * 4
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ttl)
end

return {granted, used, queued, own, ahead, now}
