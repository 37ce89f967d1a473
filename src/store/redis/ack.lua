-- Ack many jobs of one partition. ARGV: job prefix, then (id, token) pairs.
-- A finished job leaves nothing behind unless it was enqueued again while in flight.
-- Returns one 1 (acked) or 0 (lease lost) per pair.
-- The hot path: three calls per job (HMGET, ZREM, DEL); ZREM answering 0 means "not in
-- flight" (then nothing was changed), so no separate ZSCORE is needed.
local now = nil
local out = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local job = JOB .. id
  local f = redis.call('HMGET', job, 'token', 'rerun')
  if f[1] == token and redis.call('ZREM', INFLIGHT, id) == 1 then
    if f[2] then
      now = now or now_ms()
      redis.call('HDEL', job, 'rerun')
      redis.call('HSET', job, 'attempts', 0, 'created_at', now)
      redis.call('ZADD', DUE, f[2], id)
    else
      redis.call('DEL', job)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
