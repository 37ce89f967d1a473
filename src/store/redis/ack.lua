-- Ack many jobs of one partition. ARGV: job prefix, then (id, token) pairs.
-- A finished job leaves nothing behind unless it was enqueued again while in flight.
-- Returns one 1 (acked) or 0 (lease lost) per pair.
local now = now_ms()
local out = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if leased(id, token) then
    redis.call('ZREM', INFLIGHT, id)
    if not rerun_if_asked(id, now) then
      redis.call('DEL', JOB .. id)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
