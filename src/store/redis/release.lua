-- Release held jobs of one partition to due now. ARGV: job prefix, ids...
-- Ids no longer held are skipped. Returns how many moved.
local now = now_ms()
local moved = 0
for i = 2, #ARGV do
  if redis.call('ZREM', HOLD, ARGV[i]) == 1 then
    redis.call('ZADD', DUE, now, ARGV[i])
    moved = moved + 1
  end
end
return moved
