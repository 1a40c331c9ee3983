/**
 * Shard ranges: which of a bot's gateway shards one process runs (`SHARDS` of `SHARD_COUNT`).
 *
 * Discord sends a guild's events to shard `(guild_id >> 22) % shard_count` and DMs to shard 0,
 * so a process running a range owns those guilds' channels. Pure: parsing and arithmetic only.
 *
 * @module
 */

/** Shards `first`..`last` (inclusive) of `total`. */
export interface ShardRange {
  /** The first shard id this process runs. */
  first: number;
  /** The last shard id this process runs (inclusive). */
  last: number;
  /** How many shards the bot has over all processes. */
  total: number;
}

/**
 * Reads `SHARDS` (`"2"` or `"0-3"`) into its first and last ids; undefined when malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseShardIds("0-3"), { first: 0, last: 3 });
 * assert.equal(parseShardIds("3-1"), undefined);
 * ```
 */
export function parseShardIds(text: string): { first: number; last: number } | undefined {
  const match = /^(\d{1,6})(?:\s*-\s*(\d{1,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  return last >= first ? { first, last } : undefined;
}

/**
 * How many processes share the bot when each runs a range this size: the divisor of each
 * process's safe local share of a shared budget when Redis is away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(processCount({ first: 0, last: 1, total: 4 }), 2);
 * assert.equal(processCount(undefined), 1);
 * ```
 */
export function processCount(range: ShardRange | undefined): number {
  if (!range) return 1;
  return Math.ceil(range.total / (range.last - range.first + 1));
}

/**
 * The range's name, such as `0-3/8`: what keys this process's own records in a shared store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(shardLabel({ first: 2, last: 2, total: 4 }), "2-2/4");
 * assert.equal(shardLabel(undefined), "all");
 * ```
 */
export function shardLabel(range: ShardRange | undefined): string {
  return range ? `${range.first}-${range.last}/${range.total}` : "all";
}

/**
 * The shard a guild's events arrive on; DMs (no guild) arrive on shard 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(shardOf("175928847299117063", 2), 0);
 * assert.equal(shardOf(String(1n << 22n), 2), 1);
 * assert.equal(shardOf(undefined, 2), 0);
 * ```
 */
export function shardOf(guildId: string | undefined, total: number): number {
  if (guildId === undefined) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(total));
}
