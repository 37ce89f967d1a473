-- To the dead letters. ARGV: job prefix, id, token, reason, cap.
-- The dead set is capped per partition: the oldest beyond `cap` are dropped with their hashes.
-- Returns 1, or 0 when the lease is lost.
local id, token, cap = ARGV[2], ARGV[3], tonumber(ARGV[5])
if not leased(id, token) then
  return 0
end
local now = now_ms()
redis.call('HSET', JOB .. id, 'last_error', ARGV[4])
redis.call('ZREM', INFLIGHT, id)
if rerun_if_asked(id, now) then
  return 1
end
redis.call('ZADD', DEAD, now, id)
local excess = redis.call('ZCARD', DEAD) - cap
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', DEAD, 0, excess - 1)) do
    redis.call('DEL', JOB .. old)
  end
  redis.call('ZREMRANGEBYRANK', DEAD, 0, excess - 1)
end
return 1
