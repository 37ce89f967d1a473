-- Enqueue jobs, each idempotent by id and optionally only if its dedupe key is new.
-- ARGV: job prefix, dedupe prefix, then 8 arguments per job: id, kind, payload, when mode,
-- when value, 'earlier'|'keep', dedupe key ('' = none), dedupe ttl ms.
-- Returns, per job: 0 duplicate, 1 created, 2 already pending, 3 moved earlier, 4 marked to rerun.
-- Several jobs per call is how the webhook intake commits concurrent deliveries together.
--
-- Dedupe keys are fields of time-bucket hashes, not keys of their own with an expiry (a key
-- with an expiry costs about twice a hash field here, with AOF on, and the intake writes one
-- per webhook). A key seen with ttl W goes into bucket floor(now / W) of width W; a lookup
-- checks the current and the previous bucket, so a key is remembered for at least W (and at
-- most 2W). The bucket before those is UNLINKed — freed off the main thread however large —
-- by the first call that finds it out of range; an expiry on each bucket is only the backstop
-- for a partition that sees no more enqueues.
local now = now_ms()
local DEDUPE = ARGV[2]
local out = {}

local function enqueue(id, kind, payload, at, earlier)
  -- The webhook's usual case first: the job is already waiting.
  local due = redis.call('ZSCORE', DUE, id)
  if due then
    if earlier and at < tonumber(due) then
      redis.call('ZADD', DUE, at, id)
      return 3
    end
    return 2
  end
  local job = JOB .. id
  -- A job that has no hash is in no set (hashes live exactly as long as jobs).
  if redis.call('EXISTS', job) == 0 then
    redis.call('HSET', job, 'kind', kind, 'payload', payload, 'attempts', 0, 'created_at', now)
    redis.call('ZADD', DUE, at, id)
    return 1
  end
  if redis.call('ZSCORE', INFLIGHT, id) then
    local r = redis.call('HGET', job, 'rerun')
    if (not r) or tonumber(r) > at then
      redis.call('HSET', job, 'rerun', at)
    end
    return 4
  end
  local held = redis.call('ZSCORE', HOLD, id)
  if held then
    if earlier and at < tonumber(held) then
      redis.call('ZREM', HOLD, id)
      redis.call('ZADD', DUE, at, id)
      return 3
    end
    return 2
  end
  -- Dead and revived (its last_error is kept for the record).
  redis.call('ZREM', DEAD, id)
  redis.call('HSET', job, 'kind', kind, 'payload', payload, 'attempts', 0, 'created_at', now)
  redis.call('HDEL', job, 'token', 'rerun')
  redis.call('ZADD', DUE, at, id)
  return 1
end

-- The (current, previous) buckets for width `ttl`, found once per call.
local buckets = {}
local function buckets_for(ttl)
  local b = buckets[ttl]
  if b then
    return b
  end
  local width = tonumber(ttl)
  local n = math.floor(now / width)
  local base = DEDUPE .. ttl .. ':'
  b = { base .. n, base .. (n - 1) }
  redis.call('UNLINK', base .. (n - 2))
  -- A marker field tells a new bucket, which gets its backstop expiry.
  if redis.call('HSETNX', b[1], '', '') == 1 then
    redis.call('PEXPIREAT', b[1], (n + 3) * width)
  end
  buckets[ttl] = b
  return b
end

-- Whether `key` was seen within `ttl` ms; remembers it if not.
local function seen(key, ttl)
  local b = buckets_for(ttl)
  if redis.call('HEXISTS', b[2], key) == 1 then
    return true
  end
  return redis.call('HSETNX', b[1], key, '1') == 0
end

for i = 3, #ARGV, 8 do
  local dedupe = ARGV[i + 6]
  if dedupe ~= '' and seen(dedupe, ARGV[i + 7]) then
    out[#out + 1] = 0
  else
    local at = resolve(ARGV[i + 3], ARGV[i + 4], now)
    out[#out + 1] = enqueue(ARGV[i], ARGV[i + 1], ARGV[i + 2], at, ARGV[i + 5] == 'earlier')
  end
end
return out
