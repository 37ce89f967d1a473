-- Claim up to n due jobs of one partition, on the store's clock.
-- ARGV: job prefix, n, lease ms, how many expired leases / due holds to move back at most.
-- First moves expired leases (charged one attempt) and due holds back into due, bounded by
-- LIMIT so the cost does not grow with the size of those sets; then leases up to n due jobs
-- with fresh fencing tokens (INCRBY seq).
-- Returns {now, {{id, kind, payload, attempts, created_at, token}, ...}}.
local n, lease, reclaim = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', INFLIGHT, '-inf', now, 'LIMIT', 0, reclaim)
for _, id in ipairs(expired) do
  redis.call('ZREM', INFLIGHT, id)
  redis.call('HINCRBY', JOB .. id, 'attempts', 1)
  redis.call('HSET', JOB .. id, 'last_error', 'lease expired: the worker did not finish in time')
  redis.call('ZADD', DUE, now, id)
end
local released = redis.call('ZRANGEBYSCORE', HOLD, '-inf', now, 'WITHSCORES', 'LIMIT', 0, reclaim)
for i = 1, #released, 2 do
  redis.call('ZREM', HOLD, released[i])
  redis.call('ZADD', DUE, released[i + 1], released[i])
end
local ids = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, n)
local jobs = {}
if #ids == 0 then
  return {now, jobs}
end
local last = redis.call('INCRBY', SEQ, #ids)
local expiry = now + lease
local scored = {}
for i, id in ipairs(ids) do
  scored[#scored + 1] = expiry
  scored[#scored + 1] = id
end
redis.call('ZREM', DUE, unpack(ids))
redis.call('ZADD', INFLIGHT, unpack(scored))
for i, id in ipairs(ids) do
  local job = JOB .. id
  local token = last - #ids + i
  redis.call('HSET', job, 'token', token)
  local f = redis.call('HMGET', job, 'kind', 'payload', 'attempts', 'created_at')
  jobs[i] = {id, f[1] or '', f[2] or '', tonumber(f[3] or 0), tonumber(f[4] or now), token}
end
return {now, jobs}
