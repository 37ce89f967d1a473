-- Settles a reservation that no answer recorded (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1], KEYS[2]  as cost.lua
-- ARGV[1]  the reservation: `<id>:<milli>` as cost.lua wrote it
-- ARGV[2]  1 when the query may have been spent (it was sent and answered without a bucket, or
--          lost its answer): its cost is taken from Shopify's last word, which cannot have
--          counted it; 0 when it was never sent: its points are simply no longer reserved
-- ARGV[3]  bucket size and ARGV[4] restore rate assumed until Shopify reports them
--
-- Returns {1} when settled, {0} when the reservation was not there (dropped as too old).

if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return {0}
end
if ARGV[2] == '1' then
  local s = redis.call('HMGET', KEYS[1], 'avail', 'avail_at', 'pts_max', 'pts_rate')
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local max = tonumber(s[3]) or tonumber(ARGV[3])
  local rate = tonumber(s[4]) or tonumber(ARGV[4])
  local avail = math.min(max, (tonumber(s[1]) or max) + math.max(now - (tonumber(s[2]) or now), 0) * rate / 1000)
  local cost = tonumber(string.match(ARGV[1], ':(%d+)$')) / 1000
  redis.call('HSET', KEYS[1], 'avail', string.format('%.3f', avail - cost), 'avail_at', string.format('%.0f', now))
end
return {1}
