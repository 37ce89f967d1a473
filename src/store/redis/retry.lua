-- Back to due. ARGV: job prefix, id, token, when mode, when value, 'attempt'|'free'|'reset',
-- error ('' = keep the last one). A pending rerun makes it due at the earlier time.
-- Returns 1, or 0 when the lease is lost.
local id, token, charge, err = ARGV[2], ARGV[3], ARGV[6], ARGV[7]
if not leased(id, token) then
  return 0
end
local now = now_ms()
local job = JOB .. id
if charge == 'attempt' then
  redis.call('HINCRBY', job, 'attempts', 1)
elseif charge == 'reset' then
  redis.call('HSET', job, 'attempts', 0, 'created_at', now)
end
if err ~= '' then
  redis.call('HSET', job, 'last_error', err)
end
local at = resolve(ARGV[4], ARGV[5], now)
local r = redis.call('HGET', job, 'rerun')
if r then
  redis.call('HDEL', job, 'rerun')
  at = math.min(at, tonumber(r))
end
redis.call('ZREM', INFLIGHT, id)
redis.call('ZADD', DUE, at, id)
return 1
