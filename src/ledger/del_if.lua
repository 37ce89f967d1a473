-- Deletes a string only while it holds the caller's value: a lease is released by its holder,
-- never by a replica whose lease expired and was taken by another (see ledger/oauth.rs).
-- KEYS[1] = the string; ARGV[1] = the value the caller set. Returns 1 if deleted, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
