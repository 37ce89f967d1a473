-- Reserves a Shopify query's cost from the shop's leaky bucket, on the Redis clock
-- (protocol: src/upstream/limiter/cost.rs).
--
-- KEYS[1]  the account's limiter hash (see gcra.lua): pause (ms, pause.lua), and Shopify's last
--          word on the bucket: avail (its currentlyAvailable), avail_at (ms, when recorded,
--          refilled from then), seen (ms, when the query that reported it was sent), pts_max and
--          pts_rate (points/s); cost_seq numbers the reservations
-- KEYS[2]  the reservations not settled yet (sorted set): member `<id>:<cost in thousandths of a point>`, score the time
--          it is sent (ms; in the future for one that waits its turn)
-- ARGV[1]  the query's estimated cost, points
-- ARGV[2]  how long the caller may wait in-process, ms
-- ARGV[3]  bucket size and ARGV[4] restore rate (points/s) assumed until Shopify reports them
-- ARGV[5]  how long the keys outlive their last use, ms
-- ARGV[6]  seen margin, ms: a reservation sent this long before the query whose answer gave
--          `avail` is taken as counted in it (sent earlier, it reached Shopify first)
-- ARGV[7]  keep, ms: reservations older than this are dropped (no query lives that long)
--
-- Returns {outcome, now_ms, value, id}:
--   {0, now_ms, wait_ms, id, milli}  reserved as `<id>:<milli>` (the cost, clamped, in thousandths):
--                                 send after wait_ms (0: at once)
--   {1, now_ms, at_ms}         busy: the points come back later than ARGV[2]; come back at at_ms
--   {2, now_ms, until_ms}      paused (THROTTLED, 429, 402, 423) until until_ms
--
-- What a new query may spend is Shopify's bucket now (avail refilled since avail_at) less every
-- reservation Shopify has not counted yet: those sent from `seen − margin` on and not answered,
-- including those still waiting their turn, so the next caller, on any replica, queues behind
-- them and the bucket is never overdrawn by a crowd. A replica killed with reservations in
-- hand stops holding their points as soon as a query sent after them is answered: nothing is
-- forgotten by a timer while traffic goes on, and nothing leaks. A cost above the bucket is
-- clamped to it (it would never fit; Shopify then decides).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'pause', 'avail', 'avail_at', 'pts_max', 'pts_rate', 'seen')
local pause = tonumber(s[1]) or 0
if pause > now then
  return {2, now, pause}
end
local max = tonumber(s[4]) or tonumber(ARGV[3])
local rate = tonumber(s[5]) or tonumber(ARGV[4])
local avail = tonumber(s[2]) or max
local at = tonumber(s[3]) or now
local seen = tonumber(s[6]) or 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%.0f', now - tonumber(ARGV[7])))
local pending = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], string.format('%.0f', seen - tonumber(ARGV[6])), '+inf')) do
  pending = pending + tonumber(string.match(m, ':(%d+)$')) / 1000
end
local free = math.min(max, avail + math.max(now - at, 0) * rate / 1000) - pending
local cost = math.min(tonumber(ARGV[1]), max)
local wait = 0
if free < cost then
  wait = math.ceil((cost - free) * 1000 / rate)
end
if wait > tonumber(ARGV[2]) then
  return {1, now, now + wait}
end
local id = redis.call('HINCRBY', KEYS[1], 'cost_seq', 1)
local milli = math.floor(cost * 1000 + 0.5)
redis.call('ZADD', KEYS[2], string.format('%.0f', now + wait), id .. ':' .. string.format('%.0f', milli))
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < tonumber(ARGV[5]) then
    redis.call('PEXPIRE', k, ARGV[5])
  end
end
return {0, now, wait, id, milli}
