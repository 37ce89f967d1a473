-- Reserves a Shopify query's cost from the shop's leaky bucket, on the Redis clock
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see gcra.lua): pause (ms, pause.lua), and the bucket:
--          pts (points left after every reservation), pts_at (ms, when pts was computed),
--          pts_max and pts_rate (points/s, as Shopify last reported them), and the points
--          reserved by queries not answered yet in two generations of ARGV[6] ms each:
--          inflight (the generation that began at inflight_at, ms) and inflight_old (the one
--          before). A generation older than two windows is forgotten: its callers crashed or
--          gave up (a query lasts far less than a window), so a replica killed mid-query does
--          not hold its points for ever.
-- ARGV[1]  the query's estimated cost, points
-- ARGV[2]  how long the caller may wait in-process, ms
-- ARGV[3]  bucket size and ARGV[4] restore rate (points/s) assumed until Shopify reports them
-- ARGV[5]  how long the hash outlives its last use, ms
-- ARGV[6]  the length of an in-flight generation, ms
--
-- Returns {outcome, now_ms, value}:
--   {0, now_ms, wait_ms}   reserved: send after wait_ms (0: at once)
--   {1, now_ms, at_ms}     busy: the points come back later than ARGV[2]; come back at at_ms
--   {2, now_ms, until_ms}  paused (THROTTLED, 429, 402, 423) until until_ms
--
-- A reservation is taken even when it must wait: pts goes below zero, so the next caller, on
-- any replica, waits for this one's points too and the bucket is never overdrawn by a crowd.
-- A cost above the bucket is clamped to it (it would never fit; Shopify then decides).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'pause', 'pts', 'pts_at', 'pts_max', 'pts_rate', 'inflight', 'inflight_at',
  'inflight_old')
local pause = tonumber(s[1]) or 0
if pause > now then
  return {2, now, pause}
end
local max = tonumber(s[4]) or tonumber(ARGV[3])
local rate = tonumber(s[5]) or tonumber(ARGV[4])
local pts = tonumber(s[2]) or max
local at = tonumber(s[3]) or now
pts = math.min(max, pts + math.max(now - at, 0) * rate / 1000)
local cost = math.min(tonumber(ARGV[1]), max)
local wait = 0
if pts < cost then
  wait = math.ceil((cost - pts) * 1000 / rate)
end
if wait > tonumber(ARGV[2]) then
  return {1, now, now + wait}
end
local inflight, gen, old = tonumber(s[6]) or 0, tonumber(s[7]) or now, tonumber(s[8]) or 0
local window = tonumber(ARGV[6])
if now - gen >= 2 * window then
  inflight, old, gen = 0, 0, now
elseif now - gen >= window then
  inflight, old, gen = 0, inflight, now
end
redis.call('HSET', KEYS[1], 'pts', string.format('%.3f', pts - cost), 'pts_at', string.format('%.0f', now),
  'inflight', string.format('%.3f', inflight + cost), 'inflight_old', string.format('%.3f', old),
  'inflight_at', string.format('%.0f', gen))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return {0, now, wait}
