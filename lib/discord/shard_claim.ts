/**
 * Shard claims: with Redis, a process claims the gateway shards it runs before it connects, and
 * renews the claim while it runs, so that two processes started with the same (or overlapping)
 * `SHARDS` never both answer a guild's messages. The second claimant is refused, told who holds
 * them; a process that dies (even by SIGKILL) lets its claim lapse after {@link CLAIM_TTL_MS}.
 *
 * One hash, `soyebot:shards`: field `<id>/<count>` per claimed shard (or `all` for a process that
 * runs every shard), value `<expires at, Redis's clock in ms>|<holder>`. Claims conflict when they
 * share a shard, when either is `all`, or when their shard counts differ (then their guilds
 * overlap).
 *
 * @module
 */
import type { RedisConnection } from "../redis_client.ts";
import { KEY_PREFIX } from "../store/mod.ts";
import type { ShardRange } from "./shard_range.ts";

/** How long a claim lasts without renewal: how soon a killed process's shards can start again. */
export const CLAIM_TTL_MS = 6_000;

/** How often a running process renews its claim. */
export const CLAIM_RENEW_MS = CLAIM_TTL_MS / 3;

/** The hash of every process's claims. */
export const CLAIMS_KEY = `${KEY_PREFIX}:shards`;

// KEYS: the claims hash. ARGV: holder, ttl ms, then the fields wanted.
// Returns '' when claimed (or renewed), else the conflicting holder.
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder, ttl = ARGV[1], tonumber(ARGV[2])
local wanted, mineAll, myCount = {}, false, nil
for i = 3, #ARGV do
  wanted[ARGV[i]] = true
  if ARGV[i] == 'all' then mineAll = true else myCount = string.match(ARGV[i], '/(%d+)$') end
end
local held = redis.call('HGETALL', KEYS[1])
for i = 1, #held, 2 do
  local field, value = held[i], held[i + 1]
  local expires, who = string.match(value, '^(%d+)|(.*)$')
  if tonumber(expires) <= now then
    redis.call('HDEL', KEYS[1], field)
  elseif who ~= holder then
    local count = string.match(field, '/(%d+)$')
    if wanted[field] or mineAll or field == 'all' or count ~= myCount then return who end
  end
end
for field in pairs(wanted) do redis.call('HSET', KEYS[1], field, (now + ttl) .. '|' .. holder) end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return ''`;

// KEYS: the claims hash. ARGV: holder. Drops the holder's fields.
const RELEASE = `
local held = redis.call('HGETALL', KEYS[1])
for i = 1, #held, 2 do
  if string.match(held[i + 1], '^%d+|(.*)$') == ARGV[1] then redis.call('HDEL', KEYS[1], held[i]) end
end
return 1`;

/** The connection with the claim scripts defined on it. */
type Scripted = RedisConnection & {
  soyeClaimShards(key: string, ...args: (string | number)[]): Promise<string>;
  soyeReleaseShards(key: string, holder: string): Promise<number>;
};

/** Thrown when another process holds (some of) the shards: it names the holder. */
export class ShardsTakenError extends Error {
  /** Who holds them: `<host> pid <pid>`. */
  readonly holder: string;
  /** A refusal naming the shards and their holder. */
  constructor(label: string, holder: string) {
    super(`shards ${label} are held by ${holder}`);
    this.name = "ShardsTakenError";
    this.holder = holder;
  }
}

/** The fields a range claims: one per shard, or `all` for a process that runs every shard. */
export function claimFields(range: ShardRange | undefined): string[] {
  if (!range) return ["all"];
  const fields: string[] = [];
  for (let id = range.first; id <= range.last; id++) fields.push(`${id}/${range.total}`);
  return fields;
}

/** Options for {@linkcode claimShards}. */
export interface ClaimOptions {
  /** Who this process is, as the refused one is told: `<host> pid <pid>`. */
  holder: string;
  /** How long to keep trying while another holds them (a killed process's claim lapsing). */
  waitMs?: number;
  /** Told when a renewal fails or finds the shards taken by another. */
  onRenewFailed?(error: Error): void;
}

/** A held claim, renewed until released. */
export interface ShardClaim {
  /** Stops renewing and gives the shards up. */
  release(): Promise<void>;
}

/**
 * Claims `range`'s shards for this process, retrying for `waitMs` (a killed holder's claim
 * lapses within {@link CLAIM_TTL_MS}); throws {@link ShardsTakenError} naming the holder when
 * another process still holds them.
 */
export async function claimShards(
  redis: RedisConnection,
  range: ShardRange | undefined,
  label: string,
  options: ClaimOptions,
): Promise<ShardClaim> {
  const scripted = redis as Scripted;
  if (!("soyeClaimShards" in redis)) {
    redis.defineCommand("soyeClaimShards", { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand("soyeReleaseShards", { numberOfKeys: 1, lua: RELEASE });
  }
  const fields = claimFields(range);
  const claim = () => scripted.soyeClaimShards(CLAIMS_KEY, options.holder, CLAIM_TTL_MS, ...fields);
  const deadline = Date.now() + (options.waitMs ?? 0);
  let holder = await claim();
  while (holder !== "" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    holder = await claim();
  }
  if (holder !== "") throw new ShardsTakenError(label, holder);
  const renewal = setInterval(() => {
    claim().then((other) => {
      if (other !== "") options.onRenewFailed?.(new ShardsTakenError(label, other));
    }, (error) => options.onRenewFailed?.(error));
  }, CLAIM_RENEW_MS);
  Deno.unrefTimer(renewal);
  return {
    async release() {
      clearInterval(renewal);
      await scripted.soyeReleaseShards(CLAIMS_KEY, options.holder).catch(() => {});
    },
  };
}
