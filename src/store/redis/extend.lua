-- Renew a lease. ARGV: job prefix, id, token, lease ms. Returns 1, or 0 when the lease is lost.
local id, token = ARGV[2], ARGV[3]
if not leased(id, token) then
  return 0
end
redis.call('ZADD', INFLIGHT, now_ms() + tonumber(ARGV[4]), id)
return 1
