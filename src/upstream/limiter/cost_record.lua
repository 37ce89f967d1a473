-- Records what Shopify said about the shop's bucket after an answer
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see cost.lua)
-- ARGV[1]  points to give back: reserved minus the actual cost (a throttled query costs 0)
-- ARGV[2]  throttleStatus.currentlyAvailable  ARGV[3] maximumAvailable  ARGV[4] restoreRate
-- ARGV[5]  bucket size and ARGV[6] restore rate assumed until now (when none is stored)
-- ARGV[7]  how long the hash outlives its last use, ms
--
-- Returns {now_ms, pts}. Shopify's count wins when it is lower than ours (another app, or the
-- merchant's own tools, share the bucket); ours wins when lower, because it also holds the
-- reservations of calls still on their way, which Shopify has not seen yet.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'pts', 'pts_at', 'pts_max', 'pts_rate')
local max = tonumber(s[3]) or tonumber(ARGV[5])
local rate = tonumber(s[4]) or tonumber(ARGV[6])
local pts = tonumber(s[1]) or max
local at = tonumber(s[2]) or now
pts = math.min(max, pts + math.max(now - at, 0) * rate / 1000)
local new_max = tonumber(ARGV[3])
pts = math.min(pts + tonumber(ARGV[1]), tonumber(ARGV[2]), new_max)
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts), 'pts_at', string.format('%.0f', now),
  'pts_max', ARGV[3], 'pts_rate', ARGV[4])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[7]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
end
return {now, math.floor(pts)}
