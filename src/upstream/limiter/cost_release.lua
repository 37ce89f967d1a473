-- Settles a reservation that no answer recorded (protocol: src/upstream/limiter/cost.rs): the
-- query was never sent (all its points come back), or its answer carried no bucket (it is no
-- longer on its way; what it cost is unknown, so nothing comes back).
--
-- KEYS[1]  the account's limiter hash (see cost.lua)
-- ARGV[1]  points the query reserved (no longer on their way)
-- ARGV[2]  points to give back
--
-- Returns 1 when settled, 0 when the bucket is not there (expired: nothing to settle).
-- No refill here: the next reservation refills from pts_at and caps at the bucket's size.

local s = redis.call('HMGET', KEYS[1], 'pts', 'pts_max', 'inflight', 'inflight_old')
local pts = tonumber(s[1])
if not pts then
  return 0
end
pts = pts + tonumber(ARGV[2])
local max = tonumber(s[2])
if max then
  pts = math.min(pts, max)
end
-- As in cost_record.lua: from the current in-flight generation first.
local reserved, inflight = tonumber(ARGV[1]), tonumber(s[3]) or 0
local from_current = math.min(inflight, reserved)
local old = math.max(0, (tonumber(s[4]) or 0) - (reserved - from_current))
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts), 'inflight', string.format('%.3f', inflight - from_current),
  'inflight_old', string.format('%.3f', old))
return 1
