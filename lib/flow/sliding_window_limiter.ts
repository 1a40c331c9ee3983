/**
 * Per-key rate limiting over a sliding window ("5 messages in 30 s" per user). Time is passed in
 * as `now` (ms).
 *
 * @module
 */

/** Options for {@linkcode SlidingWindowLimiter}. */
export interface SlidingWindowLimiterOptions {
  /** Hits allowed per key within any window of `windowMs`. */
  limit: number;
  /** Length of the window, in milliseconds. */
  windowMs: number;
}

/** The outcome of {@linkcode SlidingWindowLimiter.hit}. */
export type LimitResult =
  | { allowed: true }
  | {
    allowed: false;
    /** Milliseconds until this key's next hit would be allowed. */
    retryAfterMs: number;
    /** True only for the first rejection of a limited streak, so the notice is sent once. */
    firstRejection: boolean;
  };

interface KeyState {
  /** Times of allowed hits still in the window, oldest first; at most `limit` of them. */
  hits: number[];
  /** Whether the key has been rejected since its last allowed hit. */
  limited: boolean;
}

/**
 * Allows each key at most `limit` hits in any `windowMs` (a sliding log, exact at the edges).
 * Rejected hits are not counted, so a key that keeps trying is let through as soon as its oldest
 * allowed hit leaves the window.
 *
 * @example Usage
 * ```ts
 * import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
 * import assert from "node:assert/strict";
 *
 * const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 30_000 });
 * assert.deepEqual(limiter.hit("alice", 0), { allowed: true });
 * assert.deepEqual(limiter.hit("alice", 1000), { allowed: true });
 * assert.deepEqual(limiter.hit("alice", 2000), {
 *   allowed: false,
 *   retryAfterMs: 28_000,
 *   firstRejection: true,
 * });
 * assert.deepEqual(limiter.hit("bob", 2000), { allowed: true });
 * ```
 */
export class SlidingWindowLimiter {
  /** Hits allowed per key within any window of `windowMs`. */
  readonly limit: number;
  /** Milliseconds of the sliding window. */
  readonly windowMs: number;
  #keys = new Map<string, KeyState>();

  /** Creates a limiter with no keys. */
  constructor(options: SlidingWindowLimiterOptions) {
    const { limit, windowMs } = options;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create SlidingWindowLimiter as 'limit' must be a positive integer: current value is ${limit}`,
      );
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(
        `Cannot create SlidingWindowLimiter as 'windowMs' must be positive: current value is ${windowMs}`,
      );
    }
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#keys.size;
  }

  /** Records a hit for `key` at `now` if allowed; else says how long to wait. */
  hit(key: string, now: number): LimitResult {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { hits: [], limited: false };
      this.#keys.set(key, state);
    }
    const { hits } = state;
    while (hits.length > 0 && hits[0] <= now - this.windowMs) hits.shift();
    if (hits.length < this.limit) {
      hits.push(now);
      state.limited = false;
      return { allowed: true };
    }
    const firstRejection = !state.limited;
    state.limited = true;
    return {
      allowed: false,
      retryAfterMs: Math.max(1, hits[0] + this.windowMs - now),
      firstRejection,
    };
  }

  /** Forgets keys with no hit left in the window at `now`, to bound memory; call it now and then. */
  sweep(now: number): void {
    for (const [key, { hits }] of this.#keys) {
      if (hits.length === 0 || hits[hits.length - 1] <= now - this.windowMs) this.#keys.delete(key);
    }
  }
}
