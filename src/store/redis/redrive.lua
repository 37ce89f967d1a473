-- Dead jobs of one partition back to due now, with a fresh start (attempts 0, created_at now,
-- so the give-up horizon counts again). ARGV: job prefix, ids... Returns how many moved.
local now = now_ms()
local moved = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', DEAD, id) == 1 then
    redis.call('HSET', JOB .. id, 'attempts', 0, 'created_at', now)
    redis.call('ZADD', DUE, now, id)
    moved = moved + 1
  end
end
return moved
