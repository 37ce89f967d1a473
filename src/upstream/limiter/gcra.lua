-- GCRA without burst allowance, on the Redis clock (protocol: src/upstream/mod.rs).
--
-- KEYS[1]  the account's limiter hash: tat (µs, theoretical arrival time of the next free
--          slot), pause (ms, set by pause.lua), strikes and strike_at (pause.lua's backoff)
-- ARGV[1]  emission interval T = W / R, in µs
-- ARGV[2]  how far ahead a slot may be reserved, in µs (the caller sleeps until it)
-- ARGV[3]  how long the hash outlives its last slot, in ms
--
-- Returns {outcome, now_ms, value}:
--   {0, now_ms, wait_us}   granted: the slot starts wait_us after now (0: at once)
--   {1, now_ms, at_ms}     busy: the next free slot, at_ms, is further ahead than ARGV[2]
--   {2, now_ms, until_ms}  paused by the upstream until until_ms
--
-- A grant takes the slot max(tat, now) and moves tat one interval past it, so grants are at
-- least T apart across every caller: at most R in any W-second window (R+1 counting both
-- edges of a closed window). There is no burst: an idle account gets one call at once, then
-- the next after T. Numbers above 2^31 are written with %.0f so they stay exact.

local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])

local state = redis.call('HMGET', KEYS[1], 'tat', 'pause')
local tat = tonumber(state[1]) or 0
local pause = tonumber(state[2]) or 0

if pause > now_ms then
  return {2, now_ms, pause}
end

local slot = math.max(tat, now_us)
if slot - now_us > max_wait then
  return {1, now_ms, math.ceil(slot / 1000)}
end

local next_tat = slot + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', next_tat))
redis.call('PEXPIRE', KEYS[1], math.ceil((next_tat - now_us) / 1000) + tonumber(ARGV[3]))
return {0, now_ms, slot - now_us}
