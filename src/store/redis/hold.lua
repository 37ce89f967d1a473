-- To hold until a time. ARGV: job prefix, id, token, until ms, reason.
-- A pending rerun wins: the newer trigger may have changed what the handler saw.
-- Returns 1, or 0 when the lease is lost.
local id, token = ARGV[2], ARGV[3]
if not leased(id, token) then
  return 0
end
redis.call('HSET', JOB .. id, 'last_error', ARGV[5])
redis.call('ZREM', INFLIGHT, id)
if not rerun_if_asked(id, now_ms()) then
  redis.call('ZADD', HOLD, ARGV[4], id)
end
return 1
