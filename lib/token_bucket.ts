/**
 * A token bucket for pacing work against a budget that refills over time (requests or tokens per
 * minute). Time is passed in as `now` (ms), so it needs no clock and no timers.
 *
 * @module
 */

/** Options for {@linkcode TokenBucket}: a capacity and either a refill rate or a refill period. */
export type TokenBucketOptions =
  | {
    /** Most tokens the bucket holds; it starts full. */
    capacity: number;
    /** Tokens added per millisecond. */
    refillPerMs: number;
  }
  | {
    /** Most tokens the bucket holds; it starts full. */
    capacity: number;
    /** Milliseconds to refill from empty to full, e.g. 60 per 60000 for 60 RPM. */
    perMs: number;
  };

/** Slack for floating-point refill arithmetic, far below one token. */
const EPSILON = 1e-9;

/**
 * A token bucket that starts full, refills continuously up to `capacity`, and may run into debt
 * when a reservation turns out too small.
 *
 * @example Usage
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * import assert from "node:assert/strict";
 *
 * const bucket = new TokenBucket({ capacity: 60, perMs: 60_000 }, 0);
 * assert.equal(bucket.tryTake(60, 0), true);
 * assert.equal(bucket.tryTake(1, 0), false);
 * assert.equal(bucket.waitMs(1, 0), 1000);
 * assert.equal(bucket.tryTake(1, 1000), true);
 * ```
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMs: number;
  #tokens: number;
  #updatedAt: number;

  /** Creates a full bucket at time `now` (ms). */
  constructor(options: TokenBucketOptions, now: number) {
    const { capacity } = options;
    if (!Number.isFinite(capacity) || capacity <= 0) {
      throw new RangeError(
        `Cannot create TokenBucket as 'capacity' must be positive: current value is ${capacity}`,
      );
    }
    let refillPerMs: number;
    if ("perMs" in options) {
      if (!Number.isFinite(options.perMs) || options.perMs <= 0) {
        throw new RangeError(
          `Cannot create TokenBucket as 'perMs' must be positive: current value is ${options.perMs}`,
        );
      }
      refillPerMs = capacity / options.perMs;
    } else {
      refillPerMs = options.refillPerMs;
      if (!Number.isFinite(refillPerMs) || refillPerMs <= 0) {
        throw new RangeError(
          `Cannot create TokenBucket as 'refillPerMs' must be positive: current value is ${refillPerMs}`,
        );
      }
    }
    checkNow("create TokenBucket", now);
    this.capacity = capacity;
    this.refillPerMs = refillPerMs;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Tokens available at `now`; negative while the bucket is in debt. */
  available(now: number): number {
    checkNow("read TokenBucket", now);
    this.#refill(now);
    return this.#tokens;
  }

  /** Takes `n` tokens and returns true if they are all available at `now`; else takes none. */
  tryTake(n: number, now: number): boolean {
    checkAmount("take from TokenBucket", n);
    checkNow("take from TokenBucket", now);
    this.#refill(now);
    if (this.#tokens + EPSILON < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens unconditionally, possibly into debt: use it to charge the excess when actual
   * usage exceeded what was reserved with `tryTake`.
   */
  take(n: number, now: number): void {
    checkAmount("take from TokenBucket", n);
    this.give(-n, now);
  }

  /**
   * Returns `n` tokens (an unused reservation), capped at `capacity`; a negative `n` corrects a
   * reservation that was too small and may leave the bucket in debt (below 0).
   */
  give(n: number, now: number): void {
    if (!Number.isFinite(n)) {
      throw new RangeError(
        `Cannot give to TokenBucket as 'n' must be a finite number: current value is ${n}`,
      );
    }
    checkNow("give to TokenBucket", now);
    this.#refill(now);
    this.#tokens = Math.min(this.capacity, this.#tokens + n);
  }

  /** Milliseconds until `n` tokens are available: 0 if now, Infinity if `n` exceeds `capacity`. */
  waitMs(n: number, now: number): number {
    checkAmount("wait on TokenBucket", n);
    checkNow("wait on TokenBucket", now);
    if (n > this.capacity) return Infinity;
    this.#refill(now);
    const missing = n - this.#tokens;
    if (missing <= EPSILON) return 0;
    return Math.ceil(missing / this.refillPerMs - EPSILON);
  }

  #refill(now: number): void {
    if (now <= this.#updatedAt) return; // a clock that goes backwards adds nothing
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + (now - this.#updatedAt) * this.refillPerMs,
    );
    this.#updatedAt = now;
  }
}

function checkAmount(action: string, n: number): void {
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(
      `Cannot ${action} as 'n' must be a non-negative finite number: current value is ${n}`,
    );
  }
}

function checkNow(action: string, now: number): void {
  if (!Number.isFinite(now)) {
    throw new RangeError(
      `Cannot ${action} as 'now' must be a finite number of ms: current value is ${now}`,
    );
  }
}
