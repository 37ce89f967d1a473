-- Records what Shopify said about the shop's bucket in an answer
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1], KEYS[2]  as cost.lua
-- ARGV[1]  the answered reservation: `<id>:<milli>` as cost.lua wrote it
-- ARGV[2]  throttleStatus.currentlyAvailable  ARGV[3] maximumAvailable  ARGV[4] restoreRate
-- ARGV[5]  bucket size and ARGV[6] restore rate assumed until now (when none is stored)
-- ARGV[7]  how long the keys outlive their last use, ms
--
-- Returns {now_ms, avail}. The reservation is settled: Shopify's count includes it now. An
-- answer to a query sent no earlier than the one that last reported the bucket replaces
-- Shopify's word (another app or the merchant's own tools may share the bucket, so Shopify's
-- count is the truth); an older one, overtaken on its way back, can only lower it.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'avail', 'avail_at', 'pts_max', 'pts_rate', 'seen')
local max = tonumber(s[3]) or tonumber(ARGV[5])
local rate = tonumber(s[4]) or tonumber(ARGV[6])
local avail = math.min(max, (tonumber(s[1]) or max) + math.max(now - (tonumber(s[2]) or now), 0) * rate / 1000)
local seen = tonumber(s[5]) or 0
local sent = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
redis.call('ZREM', KEYS[2], ARGV[1])
local reported = tonumber(ARGV[2])
if sent and sent >= seen then
  avail, seen = reported, sent
else
  avail = math.min(avail, reported)
end
redis.call('HSET', KEYS[1], 'avail', string.format('%.3f', avail), 'avail_at', string.format('%.0f', now),
  'seen', string.format('%.0f', seen), 'pts_max', ARGV[3], 'pts_rate', ARGV[4])
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < tonumber(ARGV[7]) then
    redis.call('PEXPIRE', k, ARGV[7])
  end
end
return {now, math.floor(avail)}
