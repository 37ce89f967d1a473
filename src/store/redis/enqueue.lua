-- Enqueue jobs, each idempotent by id and optionally only if its dedupe key is new.
-- ARGV: job prefix, then 8 arguments per job: id, kind, payload, when mode, when value,
-- 'earlier'|'keep', dedupe key ('' = none), dedupe ttl ms. A dedupe key is named in ARGV, not
-- KEYS, like the job hashes: it carries the partition's hash tag, so it is in this script's
-- slot. The key is SET NX PX in the same step as the enqueue.
-- Returns, per job: 0 duplicate, 1 created, 2 already pending, 3 moved earlier, 4 marked to rerun.
-- Several jobs per call is how the webhook intake commits concurrent deliveries together.
local now = now_ms()
local out = {}

local function enqueue(id, kind, payload, at, earlier)
  local job = JOB .. id
  -- The hot path: a job that has no hash is in no set (hashes live exactly as long as jobs).
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
  for _, set in ipairs({DUE, HOLD}) do
    local score = redis.call('ZSCORE', set, id)
    if score then
      if earlier and at < tonumber(score) then
        redis.call('ZREM', set, id)
        redis.call('ZADD', DUE, at, id)
        return 3
      end
      return 2
    end
  end
  -- Dead and revived (its last_error is kept for the record).
  redis.call('ZREM', DEAD, id)
  redis.call('HSET', job, 'kind', kind, 'payload', payload, 'attempts', 0, 'created_at', now)
  redis.call('HDEL', job, 'token', 'rerun')
  redis.call('ZADD', DUE, at, id)
  return 1
end

for i = 2, #ARGV, 8 do
  local dedupe = ARGV[i + 6]
  if dedupe ~= '' and not redis.call('SET', dedupe, '1', 'NX', 'PX', ARGV[i + 7]) then
    out[#out + 1] = 0
  else
    local at = resolve(ARGV[i + 3], ARGV[i + 4], now)
    out[#out + 1] = enqueue(ARGV[i], ARGV[i + 1], ARGV[i + 2], at, ARGV[i + 5] == 'earlier')
  end
end
return out
