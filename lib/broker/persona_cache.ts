/**
 * The persona's context cache, one per key: a small state machine that creates it in the
 * background, serves its name while it lives, refreshes it before it ends, and falls back to
 * plain calls when the server will not cache it.
 *
 * States of a key's cache: none yet; `pending` (being created, the old name serving meanwhile);
 * `ready`; `refused` (too small or unsupported: plain calls for good); `failed` (a passing
 * failure: tried again after {@link CACHE_RETRY_MS}).
 *
 * @module
 */
import type { BrokerContext } from "./context.ts";
import { serverWords } from "../gemini/mod.ts";

/** Re-exported: the broker's shared types, which this module's API is built on. */
export type * from "./context.ts";

/** Refresh the cache this long before it expires. */
export const CACHE_REFRESH_MARGIN_MS = 5 * 60_000;
/** After a cache attempt failed for a passing reason, try again after this long. */
export const CACHE_RETRY_MS = 10 * 60_000;
/** A cache that ends sooner than this is not used for a call (it could end under it). */
const CACHE_MIN_LIFE_MS = 10_000;

type CacheEntry =
  | { state: "ready"; name: string; expiresAt: number }
  | { state: "pending"; name?: string; expiresAt?: number }
  | { state: "refused" }
  | { state: "failed"; until: number };

/** What {@linkcode PersonaCache} uses of the broker: `cachesLive` and `personaTokens` are kept here. */
export type PersonaCacheContext = Pick<
  BrokerContext,
  "client" | "model" | "systemInstruction" | "clock" | "settings" | "stats" | "onEvent"
>;

/**
 * The persona caches of all keys.
 *
 * @example
 * ```ts
 * import { PersonaCache } from "./persona_cache.ts";
 * import { brokerSettings } from "./options.ts";
 * import { emptyBrokerStats } from "./stats.ts";
 * import { ManualClock } from "../clock.ts";
 * import assert from "node:assert/strict";
 *
 * const client = {
 *   generate: () => Promise.reject(new Error("not in this example")),
 *   countTokens: () => Promise.resolve(0),
 *   cacheSystemInstruction: () =>
 *     Promise.resolve({ name: "cachedContents/a", expiresAt: Date.now() + 3_600_000, tokens: 2000 }),
 * };
 * const cache = new PersonaCache({
 *   client,
 *   model: "gemini-3.8-flash",
 *   systemInstruction: "persona",
 *   clock: new ManualClock(0),
 *   settings: brokerSettings({ model: "gemini-3.8-flash" }),
 *   stats: emptyBrokerStats(),
 * });
 * cache.start("key1", "secret", 0);
 * await Promise.resolve();
 * assert.equal(cache.nameFor("key1", "secret", 0), "cachedContents/a");
 * ```
 */
export class PersonaCache {
  #context: PersonaCacheContext;
  #entries = new Map<string, CacheEntry>();
  #fallbackLogged = false;
  #stopped = false;

  /** Makes the caches; none is created until {@link PersonaCache.start}. */
  constructor(context: PersonaCacheContext) {
    this.#context = context;
  }

  /** The cache name for a call with this key at `now`, starting or refreshing it when due. */
  nameFor(keyId: string, key: string, now: number): string | undefined {
    this.start(keyId, key, now);
    const entry = this.#entries.get(keyId);
    if (entry?.state !== "ready" && entry?.state !== "pending") return undefined;
    // The old cache, while it lasts, serves during a refresh.
    return entry.name && entry.expiresAt! > now + CACHE_MIN_LIFE_MS ? entry.name : undefined;
  }

  /**
   * Creates the cache of one key in the background, or re-creates it when it is due for a
   * refresh; does nothing while it is pending, refused, failed lately or fresh, or once stopped.
   */
  start(keyId: string, key: string, now: number): void {
    if (this.#stopped) return;
    const entry = this.#entries.get(keyId);
    if (entry?.state === "pending" || entry?.state === "refused") return;
    if (entry?.state === "failed" && entry.until > now) return;
    if (entry?.state === "ready" && entry.expiresAt - now > CACHE_REFRESH_MARGIN_MS) return;
    const tooSmall = this.#belowModelMinimum();
    if (tooSmall !== undefined) {
      this.#entries.set(keyId, { state: "refused" });
      this.#tellFallback(keyId, tooSmall);
      return;
    }
    const old = entry?.state === "ready" ? entry : undefined;
    this.#entries.set(keyId, { state: "pending", name: old?.name, expiresAt: old?.expiresAt });
    const { client, model, systemInstruction, settings, clock, stats } = this.#context;
    const ttlSeconds = settings.cacheTtlSeconds;
    const requestedAt = Date.now();
    client.cacheSystemInstruction({ apiKey: key, model, systemInstruction, ttlSeconds }).then(
      (cache) => {
        if (!old) stats.cachesLive++;
        // The server's expiry, carried over to the broker's clock (the same as Date.now in use).
        const lifeMs = Math.min(ttlSeconds * 1000, cache.expiresAt - requestedAt);
        this.#entries.set(keyId, {
          state: "ready",
          name: cache.name,
          expiresAt: clock.now() + lifeMs,
        });
        if (cache.tokens > 0) stats.personaTokens ??= cache.tokens;
        this.#context.onEvent?.({ type: "cache_created", keyId, tokens: cache.tokens });
      },
      (error) => {
        if (old) stats.cachesLive--;
        const why = serverWords(error, key);
        const status = (error as { status?: unknown })?.status;
        const tooSmall = /too small|min_total_token_count/i.exec(why);
        const measured = /total_token_count=(\d+)/.exec(why);
        if (measured) stats.personaTokens ??= Number(measured[1]);
        // Too small or unsupported will not change for this persona: plain calls work as well.
        // Anything else (network, 5xx, quota) is worth another try later.
        const final = tooSmall || status === 400 || status === 404;
        this.#entries.set(
          keyId,
          final ? { state: "refused" } : { state: "failed", until: clock.now() + CACHE_RETRY_MS },
        );
        this.#tellFallback(keyId, why);
      },
    );
  }

  /**
   * Why the model will not cache this persona, by the model table, without asking the server:
   * it lists no minimum (Flash-Lite; not to be counted on), or the persona, once measured, is
   * under it (4,096 tokens on 3.5–3.8 Flash). Undefined when a cache is worth trying.
   */
  #belowModelMinimum(): string | undefined {
    const { settings, stats } = this.#context;
    const minimum = settings.cacheMinTokens;
    if (minimum === undefined) return "the model lists no cache minimum: no persona cache";
    const tokens = stats.personaTokens;
    if (tokens !== undefined && tokens < minimum) {
      return `the persona's ${tokens} tokens are under the model's cache minimum of ${minimum}`;
    }
    return undefined;
  }

  /** Tells of the first fallback to plain calls, once. */
  #tellFallback(keyId: string, why: string): void {
    if (this.#fallbackLogged) return;
    this.#fallbackLogged = true;
    this.#context.onEvent?.({ type: "cache_fallback", keyId, why });
  }

  /** The server refused the key's cache on a call: forget it, or refuse it for good. */
  drop(keyId: string, refused: boolean): void {
    const entry = this.#entries.get(keyId);
    if (entry?.state === "ready") this.#context.stats.cachesLive--;
    if (refused) this.#entries.set(keyId, { state: "refused" });
    else this.#entries.delete(keyId);
  }

  /** Creates no more caches. */
  stop(): void {
    this.#stopped = true;
  }
}
