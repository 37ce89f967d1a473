-- Enqueue one job, idempotent by id; optionally only if a dedupe key is new.
-- ARGV: job prefix, id, kind, payload, when mode, when value, 'earlier'|'keep', dedupe ttl ms
-- KEYS[6] (optional): the dedupe key, SET NX PX in the same step as the enqueue.
-- Returns 0 duplicate, 1 created, 2 already pending, 3 moved earlier, 4 marked to rerun.
local id, kind, payload = ARGV[2], ARGV[3], ARGV[4]
local earlier = ARGV[7] == 'earlier'
if KEYS[6] and not redis.call('SET', KEYS[6], '1', 'NX', 'PX', ARGV[8]) then
  return 0
end
local now = now_ms()
local at = resolve(ARGV[5], ARGV[6], now)
local job = JOB .. id
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
-- New, or dead and revived (its last_error is kept for the record).
redis.call('ZREM', DEAD, id)
redis.call('HSET', job, 'kind', kind, 'payload', payload, 'attempts', 0, 'created_at', now)
redis.call('HDEL', job, 'token', 'rerun')
redis.call('ZADD', DUE, at, id)
return 1
