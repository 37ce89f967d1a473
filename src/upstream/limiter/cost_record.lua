-- Records what Shopify said about the shop's bucket after an answer
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see cost.lua)
-- ARGV[1]  points this query reserved   ARGV[2] its actual cost (a throttled query costs 0)
-- ARGV[3]  throttleStatus.currentlyAvailable  ARGV[4] maximumAvailable  ARGV[5] restoreRate
-- ARGV[6]  bucket size and ARGV[7] restore rate assumed until now (when none is stored)
-- ARGV[8]  how long the hash outlives its last use, ms
-- ARGV[9]  after how long without a reservation inflight is forgotten, ms
--
-- Returns {now_ms, pts}. Ours: what was left, plus what this query reserved beyond its cost.
-- Shopify's: currentlyAvailable, minus the reservations of queries still on their way, which
-- Shopify has not seen yet. The lower wins: another app or the merchant's own tools may share
-- the bucket, and our count may miss a query that failed before it was recorded.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'pts', 'pts_at', 'pts_max', 'pts_rate', 'inflight', 'inflight_at')
local max = tonumber(s[3]) or tonumber(ARGV[6])
local rate = tonumber(s[4]) or tonumber(ARGV[7])
local pts = tonumber(s[1]) or max
local at = tonumber(s[2]) or now
pts = math.min(max, pts + math.max(now - at, 0) * rate / 1000)
local reserved = tonumber(ARGV[1])
local inflight = tonumber(s[5]) or 0
if now - (tonumber(s[6]) or 0) > tonumber(ARGV[9]) then
  inflight = 0
end
inflight = math.max(0, inflight - reserved)
local ours = pts + math.max(reserved - tonumber(ARGV[2]), 0)
pts = math.min(ours, tonumber(ARGV[3]) - inflight, tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts), 'pts_at', string.format('%.0f', now),
  'pts_max', ARGV[4], 'pts_rate', ARGV[5], 'inflight', string.format('%.3f', inflight))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[8]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end
return {now, math.floor(pts)}
