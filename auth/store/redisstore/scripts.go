package redisstore

import "github.com/redis/rueidis"

// Each script touches one key, KEYS[1], so that it runs on one Cluster
// node. Expiries inside scripts are on Redis's clock (TIME, PTTL), so the
// instances' clocks only decide the lifetimes they ask for.

// maxScript stores ARGV[1], a decimal int64, under KEYS[1] unless the key
// holds a larger one, and keeps the later of ARGV[2] milliseconds from
// now and the key's own remaining lifetime. Numbers are compared as
// decimal text: Lua's numbers are doubles and would round int64s past
// 2^53. A value that is not an integer is replaced, as if absent, but its
// lifetime still counts. Returns 1 if it stored.
var maxScript = rueidis.NewLuaScript(`
local function norm(s)
  local neg = string.sub(s, 1, 1) == '-'
  local d = neg and string.sub(s, 2) or s
  d = (string.gsub(d, '^0+', ''))
  if d == '' then return false, '0' end
  return neg, d
end
local function greater(a, b)
  local an, ad = norm(a)
  local bn, bd = norm(b)
  if an ~= bn then return bn end
  if ad == bd then return false end
  local gt
  if #ad ~= #bd then gt = #ad > #bd else gt = ad > bd end
  if an then return not gt end
  return gt
end
local key, n, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
local cur = redis.call('GET', key)
if cur then
  if string.match(cur, '^%-?%d+$') and #cur <= 20 and greater(cur, n) then n = cur end
  local left = redis.call('PTTL', key)
  if left == -1 then
    redis.call('SET', key, n, 'KEEPTTL')
    return 1
  end
  if left > ttl then ttl = left end
end
if ttl <= 0 then return 0 end
redis.call('SET', key, n, 'PX', ttl)
return 1
`)

// deleteIfScript deletes KEYS[1] if it holds ARGV[1]; returns 1 if it did.
var deleteIfScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// putMemberScript stores member ARGV[1] of the hash KEYS[1] for ARGV[2]
// milliseconds with the value ARGV[3]. Redis 7.0 has no per-field
// expiry, so the field's value is its expiry (Unix milliseconds on
// Redis's clock), a colon, then the value; the hash lives as long as its
// longest-lived member. A lifetime of zero or less removes the member.
var putMemberScript = rueidis.NewLuaScript(`
local key, member, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('HDEL', key, member)
  return 0
end
local t = redis.call('TIME')
local exp = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl
redis.call('HSET', key, member, string.format('%d', exp) .. ':' .. ARGV[3])
local left = redis.call('PTTL', key)
if left < ttl then -- -1: the hash was just made, without expiry
  redis.call('PEXPIRE', key, ttl)
end
return 1
`)

// membersScript returns the unexpired members of the hash KEYS[1] as a
// flat list of member, value, and deletes the expired ones.
var membersScript = rueidis.NewLuaScript(`
local key = KEYS[1]
local all = redis.call('HGETALL', key)
if #all == 0 then return {} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out, dead = {}, {}
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, ':', 1, true)
  local exp = sep and tonumber(string.sub(v, 1, sep - 1))
  if exp and exp > now then
    out[#out + 1] = all[i]
    out[#out + 1] = string.sub(v, sep + 1)
  else
    dead[#dead + 1] = all[i]
  end
end
for i = 1, #dead, 1000 do
  redis.call('HDEL', key, unpack(dead, i, math.min(i + 999, #dead)))
end
return out
`)
