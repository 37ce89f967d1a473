-- Records what Shopify said about the shop's bucket after an answer
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see cost.lua)
-- ARGV[1]  points this query reserved   ARGV[2] its actual cost (a throttled query costs 0)
-- ARGV[3]  throttleStatus.currentlyAvailable  ARGV[4] maximumAvailable  ARGV[5] restoreRate
-- ARGV[6]  bucket size and ARGV[7] restore rate assumed until now (when none is stored)
-- ARGV[8]  how long the hash outlives its last use, ms
-- ARGV[9]  the length of an in-flight generation, ms (see cost.lua)
--
-- Returns {now_ms, pts}. Ours: what was left, plus what this query reserved beyond its cost.
-- Shopify's: currentlyAvailable, minus the reservations of queries still on their way, which
-- Shopify has not seen yet. The lower wins: another app or the merchant's own tools may share
-- the bucket, and our count may miss a query that failed before it was recorded.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'pts', 'pts_at', 'pts_max', 'pts_rate', 'inflight', 'inflight_at',
  'inflight_old')
local max = tonumber(s[3]) or tonumber(ARGV[6])
local rate = tonumber(s[4]) or tonumber(ARGV[7])
local pts = tonumber(s[1]) or max
local at = tonumber(s[2]) or now
pts = math.min(max, pts + math.max(now - at, 0) * rate / 1000)
local reserved = tonumber(ARGV[1])
local inflight, gen, old = tonumber(s[5]) or 0, tonumber(s[6]) or now, tonumber(s[7]) or 0
local window = tonumber(ARGV[9])
if now - gen >= 2 * window then
  inflight, old, gen = 0, 0, now
elseif now - gen >= window then
  inflight, old, gen = 0, inflight, now
end
-- The answered query's points leave the current generation first (a query lasts well under a
-- window, so it is almost always there), the rest the one before.
local from_current = math.min(inflight, reserved)
inflight, old = inflight - from_current, math.max(0, old - (reserved - from_current))
local ours = pts + math.max(reserved - tonumber(ARGV[2]), 0)
pts = math.min(ours, tonumber(ARGV[3]) - inflight - old, tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts), 'pts_at', string.format('%.0f', now),
  'pts_max', ARGV[4], 'pts_rate', ARGV[5], 'inflight', string.format('%.3f', inflight),
  'inflight_old', string.format('%.3f', old), 'inflight_at', string.format('%.0f', gen))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[8]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end
return {now, math.floor(pts)}
