-- Compare-and-set of a versioned document (see ledger/kv.rs).
-- KEYS[1] = document hash {v = version, d = data}
-- ARGV[1] = expected version ("" = the key must not exist), ARGV[2] = new data
-- Returns the new version, or -1 when the expected version did not match.
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if current then return -1 end
elseif current ~= ARGV[1] then
  return -1
end
local version = (tonumber(current) or 0) + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
return version
