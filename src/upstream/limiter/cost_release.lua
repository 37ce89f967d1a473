-- Gives back a reservation whose query was never sent (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see cost.lua)
-- ARGV[1]  points to give back
--
-- Returns 1 when given back, 0 when the bucket is not there (expired: nothing to give back to).
-- No refill here: the next reservation refills from pts_at and caps at the bucket's size.

local s = redis.call('HMGET', KEYS[1], 'pts', 'pts_max', 'inflight')
local pts = tonumber(s[1])
if not pts then
  return 0
end
local points = tonumber(ARGV[1])
pts = pts + points
local max = tonumber(s[2])
if max then
  pts = math.min(pts, max)
end
local inflight = math.max(0, (tonumber(s[3]) or 0) - points)
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts), 'inflight', string.format('%.3f', inflight))
return 1
