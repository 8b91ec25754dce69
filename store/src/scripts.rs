//! The store's operations as Lua scripts, each atomic in Redis (one script runs at a
//! time): reserve-or-refuse across every window and budget of a request, and apply a
//! worker's report once per id. All keys carry one hash tag (`{llmgw}`), so a Redis
//! Cluster keeps them in one slot and every script stays atomic there too.

/// KEYS: n rate windows, then the budgets' spend rows. ARGV: n; rpm, tpm, tokens per
/// window (-1: no limit); each budget's limit in nano-USD.
/// Returns {admitted 0|1, index, reason, {requests, tokens per window}}.
pub const ADMIT: &str = r"
local n = tonumber(ARGV[1])
local counts = {}
for i = 1, n do
  local v = redis.call('HMGET', KEYS[i], 'requests', 'tokens')
  counts[i] = {tonumber(v[1]) or 0, tonumber(v[2]) or 0}
end
local function flat()
  local out = {}
  for i = 1, n do
    out[#out + 1] = counts[i][1]
    out[#out + 1] = counts[i][2]
  end
  return out
end
for i = 1, n do
  local rpm = tonumber(ARGV[2 + (i - 1) * 3])
  local tpm = tonumber(ARGV[3 + (i - 1) * 3])
  if rpm >= 0 and counts[i][1] >= rpm then return {0, i - 1, 'rpm', flat()} end
  if tpm >= 0 and counts[i][2] >= tpm then return {0, i - 1, 'tpm', flat()} end
end
for j = 1, #KEYS - n do
  local spent = tonumber(redis.call('HGET', KEYS[n + j], 'cost_nano_usd')) or 0
  if spent >= tonumber(ARGV[1 + 3 * n + j]) then return {0, j - 1, 'budget', flat()} end
end
for i = 1, n do
  counts[i][1] = redis.call('HINCRBY', KEYS[i], 'requests', 1)
  counts[i][2] = redis.call('HINCRBY', KEYS[i], 'tokens', ARGV[4 + (i - 1) * 3])
  redis.call('PEXPIRE', KEYS[i], ARGV[#ARGV])
end
return {1, 0, '', flat()}
";

/// KEYS: the report's id marker, n rate windows, then spend rows. ARGV: n, the marker's
/// TTL; requests, tokens per window; five counts and a TTL (s) per spend row.
/// Returns 1 if applied, 0 if this id was applied before.
pub const REPORT: &str = r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
local n = tonumber(ARGV[1])
for i = 1, n do
  local k = KEYS[1 + i]
  if redis.call('EXISTS', k) == 1 then
    redis.call('HINCRBY', k, 'requests', ARGV[3 + (i - 1) * 2])
    redis.call('HINCRBY', k, 'tokens', ARGV[4 + (i - 1) * 2])
  end
end
local fields = {'requests', 'prompt_tokens', 'completion_tokens', 'cost_nano_usd', 'errors'}
local base = 3 + n * 2
for j = 1, #KEYS - 1 - n do
  local k = KEYS[1 + n + j]
  local o = base + (j - 1) * 6
  for f = 1, 5 do
    local d = ARGV[o + f - 1]
    if d ~= '0' then redis.call('HINCRBY', k, fields[f], d) end
  end
  redis.call('EXPIRE', k, ARGV[o + 5])
end
return 1
";
