-- Prepended to every script. Calling convention of all scripts (one partition each):
--   KEYS = {due, inflight, hold, dead, seq, fence} of partition {pN}; the fence never exists and
--   is never touched: declaring it keeps scripts off a half-moved slot (keys.rs, "Moving a
--   partition's slot live").
--   ARGV[1] = the partition's job key prefix "<prefix>:{pN}:job:"; job hashes are ARGV[1]..id,
--   in the same hash slot as the declared keys thanks to the {pN} tag.
local DUE, INFLIGHT, HOLD, DEAD, SEQ = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local JOB = ARGV[1]

-- The store's clock (invariant 6: never the caller's).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A `When` sent as (mode, value): 'now' | 'after' ms | 'at' ms.
local function resolve(mode, value, now)
  if mode == 'after' then
    return now + tonumber(value)
  elseif mode == 'at' then
    return tonumber(value)
  end
  return now
end

-- Whether `id` is in flight under `token` (the fencing check of every follow-up call).
local function leased(id, token)
  if not redis.call('ZSCORE', INFLIGHT, id) then
    return false
  end
  return redis.call('HGET', JOB .. id, 'token') == token
end

-- If the job was enqueued again while in flight, put it in due for a fresh run.
local function rerun_if_asked(id, now)
  local job = JOB .. id
  local at = redis.call('HGET', job, 'rerun')
  if not at then
    return false
  end
  redis.call('HDEL', job, 'rerun')
  redis.call('HSET', job, 'attempts', 0, 'created_at', now)
  redis.call('ZADD', DUE, at, id)
  return true
end
