/**
 * Summary cache: the same `!요약` or `/summarize` range asked again within a few minutes is
 * answered from here, without a Gemini call (the seed's Phase 3). "The same range" is the same
 * channel, the same request and the same messages in it (the newest message and the count), so
 * a channel that moved on gets a fresh summary.
 *
 * In memory for one process ({@link MemorySummaryCache}), or in Redis for all of them
 * ({@link RedisSummaryCache}, beside the channel's other keys). A cache that fails is a miss:
 * the summary is made as if there were no cache.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { KEY_PREFIX, type RedisConnection } from "../redis_client.ts";
import type { SummaryRequest } from "./request.ts";

/** How long a summary is answered from the cache. */
export const SUMMARY_CACHE_MS = 5 * 60_000;

/** A summary as it was made. */
export interface CachedSummary {
  /** The text that was posted. */
  text: string;
  /** Epoch ms it was made. */
  at: number;
}

/** Where summaries are kept for {@link SUMMARY_CACHE_MS}. */
export interface SummaryCache {
  /** The summary kept under `key`, if it is still fresh. */
  get(channelId: string, key: string, now: number): Promise<CachedSummary | undefined>;
  /** Keeps `summary` under `key`. */
  set(channelId: string, key: string, summary: CachedSummary): Promise<void>;
}

/**
 * The key of a summary: the request and the messages it covered, with the newest edit among
 * them (epoch ms), so that a summary made before an edit is not served after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const key = summaryCacheKey({ kind: "recent", minutes: 30 }, "1300000000000000009", 4);
 * assert.equal(key, "recent:30|1300000000000000009|4");
 * assert.notEqual(summaryCacheKey({ kind: "recent", minutes: 30 }, "1300000000000000009", 4, 5), key);
 * ```
 */
export function summaryCacheKey(
  request: SummaryRequest,
  newestId: string,
  count: number,
  newestEditAt?: number,
): string {
  const range = request.kind === "recent"
    ? `recent:${request.minutes}`
    : `${request.kind}:${request.messageId}:${request.minutes ?? ""}`;
  const edited = newestEditAt === undefined ? "" : `|edited:${newestEditAt}`;
  return `${range}|${newestId}|${count}${edited}`;
}

/**
 * Summaries kept in this process, at most `maxEntries`, oldest dropped first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cache = new MemorySummaryCache();
 * await cache.set("1", "k", { text: "요약", at: 0 });
 * assert.equal((await cache.get("1", "k", 1000))?.text, "요약");
 * ```
 */
export class MemorySummaryCache implements SummaryCache {
  #entries = new Map<string, CachedSummary>();
  #maxEntries: number;

  /** An empty cache of at most `maxEntries` summaries. */
  constructor(maxEntries = 500) {
    this.#maxEntries = maxEntries;
  }

  get(channelId: string, key: string, now: number): Promise<CachedSummary | undefined> {
    const found = this.#entries.get(`${channelId}|${key}`);
    return Promise.resolve(found && now - found.at < SUMMARY_CACHE_MS ? found : undefined);
  }

  set(channelId: string, key: string, summary: CachedSummary): Promise<void> {
    this.#entries.delete(`${channelId}|${key}`);
    this.#entries.set(`${channelId}|${key}`, summary);
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return Promise.resolve();
  }
}

/**
 * Summaries kept in Redis for every process: `soyebot:{<channel>}:summary:<digest of the key>`,
 * expiring after {@link SUMMARY_CACHE_MS}.
 */
export class RedisSummaryCache implements SummaryCache {
  #redis: RedisConnection;

  /** A cache on `redis` (the process's shared connection). */
  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async get(channelId: string, key: string, now: number): Promise<CachedSummary | undefined> {
    try {
      const stored = await this.#redis.get(redisKey(channelId, key));
      const found = stored === null ? undefined : JSON.parse(stored) as CachedSummary;
      return found && typeof found.text === "string" && now - found.at < SUMMARY_CACHE_MS
        ? found
        : undefined;
    } catch {
      return undefined; // Redis away: a miss, and the summary is made afresh
    }
  }

  async set(channelId: string, key: string, summary: CachedSummary): Promise<void> {
    try {
      await this.#redis.set(
        redisKey(channelId, key),
        JSON.stringify(summary),
        "PX",
        SUMMARY_CACHE_MS,
      );
    } catch {
      // Redis away: the next ask makes the summary again.
    }
  }
}

function redisKey(channelId: string, key: string): string {
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 24);
  return `${KEY_PREFIX}:{${channelId}}:summary:${digest}`;
}
