-- Compare-and-set of a versioned document and, in the same atomic step, its index entries
-- (see ledger/kv.rs).
-- KEYS[1] = document hash {v = version, d = data}; KEYS[1 + i] = the key of index change i
-- ARGV[1] = expected version ("" = the key must not exist), ARGV[2] = new data, then three
-- arguments per index change: op ('zadd' | 'zrem' | 'hset' | 'hdel'), member or field, score or value.
-- Returns the new version, or -1 when the expected version did not match (nothing written).
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if current then return -1 end
elseif current ~= ARGV[1] then
  return -1
end
local version = (tonumber(current) or 0) + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
for i = 2, #KEYS do
  local op, a, b = ARGV[3 * i - 3], ARGV[3 * i - 2], ARGV[3 * i - 1]
  if op == 'zadd' then
    redis.call('ZADD', KEYS[i], b, a)
  elseif op == 'zrem' then
    redis.call('ZREM', KEYS[i], a)
  elseif op == 'hset' then
    redis.call('HSET', KEYS[i], a, b)
  elseif op == 'hdel' then
    redis.call('HDEL', KEYS[i], a)
  else
    return redis.error_reply('cas.lua: unknown index op ' .. tostring(op))
  end
end
return version
