-- Pauses an account for every replica after the upstream said so (protocol: src/upstream/mod.rs).
-- Mirrors `adaptive::pause_end` (the memory store's version).
--
-- KEYS[1]  the account's limiter hash (see gcra.lua)
-- ARGV[1]  absolute end, unix ms, 0 = none (X-Rate-Limit-Reset, Retry-After as a date)
-- ARGV[2]  relative end, ms, 0 = none (Retry-After in seconds)
-- ARGV[3]  1 when the answer was a 429 (a strike), else 0
-- ARGV[4]  backoff base, ms      ARGV[5]  backoff cap, ms     ARGV[6]  jitter factor in [0.5, 1]
-- ARGV[7]  longest pause, ms     ARGV[8]  strike window, ms (strikes older than this are forgotten;
--          also how long the hash outlives the pause)
--
-- Returns {now_ms, pause_until_ms}; pause_until_ms <= now_ms means the account is not paused.
-- With no hint, a 429 backs off base * 2^(strikes-1) (capped) times the jitter. A pause never
-- shortens an earlier one, and tat moves to the pause end so calls resume paced, not in a burst.
-- A 429 answered while the account is already paused was sent before the pause began: it is
-- the same episode, so it adds no strike (otherwise every call in flight during one storm
-- would double the backoff, and one 3 s storm paused an account for 30 s and more).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[8])

local until_ms = tonumber(ARGV[1])
local rel = tonumber(ARGV[2])
if rel > 0 then
  until_ms = math.max(until_ms, now + rel)
end

local state = redis.call('HMGET', KEYS[1], 'tat', 'pause', 'strikes', 'strike_at')

local paused = (tonumber(state[2]) or 0) > now
if ARGV[3] == '1' and not paused then
  local strikes = tonumber(state[3]) or 0
  local strike_at = tonumber(state[4]) or 0
  if now - strike_at > window then
    strikes = 0
  end
  strikes = strikes + 1
  redis.call('HSET', KEYS[1], 'strikes', strikes, 'strike_at', string.format('%.0f', now))
  if until_ms <= now then
    local backoff = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * 2 ^ (math.min(strikes, 17) - 1))
    until_ms = now + math.floor(backoff * tonumber(ARGV[6]))
  end
end

until_ms = math.min(until_ms, now + tonumber(ARGV[7]))
local pause = math.max(tonumber(state[2]) or 0, until_ms)
if pause > now then
  local tat = math.max(tonumber(state[1]) or 0, pause * 1000)
  redis.call('HSET', KEYS[1], 'pause', string.format('%.0f', pause), 'tat', string.format('%.0f', tat))
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], math.max(pause - now, 0) + window)
end
return {now, pause}
