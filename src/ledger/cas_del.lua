-- Deletes a versioned document if it still has the expected version and, in the same atomic
-- step, applies its index changes (see ledger/kv.rs; retention removes finished orders so).
-- KEYS[1] = document hash; KEYS[1 + i] = the key of index change i
-- ARGV[1] = expected version, then three arguments per index change as in cas.lua
-- ('zadd' | 'zrem' | 'hset' | 'hdel', member or field, score or value).
-- Returns 1 when deleted, -1 when the version did not match (nothing written).
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return -1
end
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  local op, a, b = ARGV[3 * i - 4], ARGV[3 * i - 3], ARGV[3 * i - 2]
  if op == 'zadd' then
    redis.call('ZADD', KEYS[i], b, a)
  elseif op == 'zrem' then
    redis.call('ZREM', KEYS[i], a)
  elseif op == 'hset' then
    redis.call('HSET', KEYS[i], a, b)
  elseif op == 'hdel' then
    redis.call('HDEL', KEYS[i], a)
  else
    return redis.error_reply('cas_del.lua: unknown index op ' .. tostring(op))
  end
end
return 1
