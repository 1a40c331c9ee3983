/**
 * The Lua scripts of the shared Gemini quota (see `RedisQuotaShare`), and its key layout. Each
 * script runs atomically in Redis, so two processes never lease the same room.
 *
 * Per API key, named by a fingerprint of the key (never the key), all under one hash tag:
 * - `soyebot:quota:{<fp>}:minute` — a sorted set of leases: member `<lease id>|<requests>|<tokens>`,
 *   score the epoch ms it leaves the window (granted: its end of life plus a short grace;
 *   settled: its last send plus a window);
 * - `soyebot:quota:{<fp>}:day:<YYYY-MM-DD>` — a hash of requests counted per process today
 *   (field: the process's id; `spent` when the server said the day is over), expiring after
 *   midnight Pacific;
 * - `soyebot:quota:{<fp>}:state` — a hash: `parkedUntil` (a per-minute 429's rest), and the
 *   limits learned from 429s (`rpm`, `tpm`) with `learnedUntil`.
 *
 * @module
 */
import { KEY_PREFIX, type RedisConnection } from "../redis_client.ts";

/** The keys of one API key's shared quota. */
export function quotaKeys(fingerprint: string, day: string): {
  minute: string;
  day: string;
  state: string;
} {
  const base = `${KEY_PREFIX}:quota:{${fingerprint}}`;
  return { minute: `${base}:minute`, day: `${base}:day:${day}`, state: `${base}:state` };
}

/** Changes whenever Redis starts empty: processes then write their own recent usage back. */
export const EPOCH_KEY = `${KEY_PREFIX}:quota:epoch`;

/** Why a lease was refused, as {@link LEASE} returns it. */
export const LeaseRefusal = { None: 0, DaySpent: 1, DayFull: 2, Parked: 3 } as const;

/** Sums the requests and tokens held in a minute set; shared by the scripts below. */
const SUM_HELD = `
local function held(key)
  local members = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local requests, tokens, entries = 0, 0, {}
  for i = 1, #members, 2 do
    local r, t = string.match(members[i], '|(%d+)|(%d+)$')
    r = tonumber(r) or 0
    t = tonumber(t) or 0
    requests = requests + r
    tokens = tokens + t
    entries[#entries + 1] = tonumber(members[i + 1])
    entries[#entries + 1] = r
    entries[#entries + 1] = t
  end
  return requests, tokens, entries
end`;

/**
 * Leases up to `want` requests and `wantTokens` tokens, at least one request and `minTokens`.
 *
 * KEYS: minute, day, state. ARGV: now, expiresAt, want, wantTokens, minTokens, rpm, tpm, rpd,
 * process id, lease id, day expires at.
 * Returns `{requests, tokens, refusal, waitMs, today, ...entries (expiresAt, requests, tokens)}`:
 * what was granted (0 when refused), and what everyone holds, for the fallback share.
 */
export const LEASE = `${SUM_HELD}
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local rpm, tpm, rpd = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local state = redis.call('HMGET', KEYS[3], 'rpm', 'tpm', 'learnedUntil', 'parkedUntil')
if tonumber(state[3] or '0') > now then
  rpm = math.min(rpm, tonumber(state[1] or rpm))
  tpm = math.min(tpm, tonumber(state[2] or tpm))
end
local today, spent = 0, false
local day = redis.call('HGETALL', KEYS[2])
for i = 1, #day, 2 do
  if day[i] == 'spent' then spent = true else today = today + tonumber(day[i + 1]) end
end
local requests, tokens, entries = held(KEYS[1])
local function answer(r, t, refusal, wait)
  local out = {r, t, refusal, wait, today}
  for i = 1, #entries do out[#out + 1] = entries[i] end
  return out
end
if spent then return answer(0, 0, 1, 0) end
local parked = tonumber(state[4] or '0')
if parked > now then return answer(0, 0, 3, parked - now) end
if today >= rpd then return answer(0, 0, 2, 0) end
local r = math.min(tonumber(ARGV[3]), rpm - requests, rpd - today)
local t = math.min(tonumber(ARGV[4]), tpm - tokens)
if r < 1 or t < math.min(tonumber(ARGV[5]), tpm) then
  local wait = 1000
  if #entries > 0 then wait = math.max(1, entries[1] - now) end
  return answer(0, 0, 0, wait)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[10] .. '|' .. r .. '|' .. t)
redis.call('HINCRBY', KEYS[2], ARGV[9], r)
redis.call('PEXPIREAT', KEYS[2], ARGV[11])
today = today + r
entries[#entries + 1] = tonumber(ARGV[2])
entries[#entries + 1] = r
entries[#entries + 1] = t
return answer(r, t, 0, 0)`;

/**
 * Replaces a lease's member with what it actually used (or adds usage made without a lease),
 * and gives back the day's requests it did not use.
 *
 * KEYS: minute, day. ARGV: old member ('' for none), new member ('' to drop), its score,
 * process id, day delta, day expires at.
 */
export const SETTLE = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) end
local delta = tonumber(ARGV[5])
if delta ~= 0 then
  redis.call('HINCRBY', KEYS[2], ARGV[4], delta)
  redis.call('PEXPIREAT', KEYS[2], ARGV[6])
end
return 1`;

/**
 * Gives back a lease whose answer never came (the command timed out, yet Redis may have run it):
 * its member leaves the minute set and its requests leave the process's day count, so a lease
 * nobody could spend from holds no room and counts no calls.
 *
 * KEYS: minute, day. ARGV: lease id, process id, day expires at. Returns the requests given back.
 */
export const RELEASE = `
local prefix = ARGV[1] .. '|'
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local requests = 0
for i = 1, #members do
  if string.sub(members[i], 1, #prefix) == prefix then
    redis.call('ZREM', KEYS[1], members[i])
    requests = requests + (tonumber(string.match(members[i], '|(%d+)|')) or 0)
  end
end
if requests > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], -requests)
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return requests`;

/**
 * A per-minute 429: every process rests the key until `until`; with a dimension, the key's
 * limit becomes what everyone held in the window (never below `floor`) until `learnedUntil`.
 *
 * KEYS: state, minute. ARGV: until, dimension ('' | 'requests' | 'tokens'), floor, learnedUntil,
 * now, state lifetime ms.
 */
export const THROTTLE = `${SUM_HELD}
local now = tonumber(ARGV[5])
local parked = tonumber(redis.call('HGET', KEYS[1], 'parkedUntil') or '0')
if tonumber(ARGV[1]) > parked then redis.call('HSET', KEYS[1], 'parkedUntil', ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local requests, tokens = held(KEYS[2])
  local field, used = 'rpm', requests
  if ARGV[2] == 'tokens' then field, used = 'tpm', tokens end
  if tonumber(redis.call('HGET', KEYS[1], 'learnedUntil') or '0') <= now then
    redis.call('HDEL', KEYS[1], 'rpm', 'tpm')
  end
  local current = tonumber(redis.call('HGET', KEYS[1], field) or '') or used
  redis.call('HSET', KEYS[1], field, math.max(tonumber(ARGV[3]), math.min(current, used)))
  redis.call('HSET', KEYS[1], 'learnedUntil', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1`;

/** A connection with the quota scripts defined on it, as ioredis commands. */
export type ScriptedRedis = RedisConnection & {
  /** Runs {@link LEASE}. */
  soyeLease(...args: (string | number)[]): Promise<(string | number)[]>;
  /** Runs {@link SETTLE}. */
  soyeSettle(...args: (string | number)[]): Promise<number>;
  /** Runs {@link THROTTLE}. */
  soyeThrottle(...args: (string | number)[]): Promise<number>;
  /** Runs {@link RELEASE}. */
  soyeRelease(...args: (string | number)[]): Promise<number>;
};

/** Defines the quota scripts on `redis` (once per connection) and returns it typed with them. */
export function withQuotaScripts(redis: RedisConnection): ScriptedRedis {
  const scripted = redis as ScriptedRedis;
  if (!scripted.soyeLease) {
    scripted.defineCommand("soyeLease", { numberOfKeys: 3, lua: LEASE });
    scripted.defineCommand("soyeSettle", { numberOfKeys: 2, lua: SETTLE });
    scripted.defineCommand("soyeThrottle", { numberOfKeys: 2, lua: THROTTLE });
    scripted.defineCommand("soyeRelease", { numberOfKeys: 2, lua: RELEASE });
  }
  return scripted;
}
