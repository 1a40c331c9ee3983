/**
 * Exponential backoff delays for retrying a failed call.
 *
 * @module
 */

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /**
   * Delay before the first retry (attempt 0), in milliseconds.
   * @default {1000}
   */
  baseMs?: number;
  /**
   * Largest delay returned, in milliseconds, before jitter is applied.
   * @default {32000}
   */
  maxMs?: number;
  /**
   * Fraction of the delay that is randomised, from 0 (none) to 1 (full jitter).
   * @default {0.2}
   */
  jitter?: number;
  /**
   * Source of randomness returning a number in [0, 1).
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * Returns how long to wait before retry number `attempt` (0-based): `min(maxMs, baseMs * 2^attempt)`,
 * less a random share of up to `jitter` of it. Jitter only shortens the delay, so the result lies in
 * `[capped * (1 - jitter), capped]` and never exceeds `maxMs`; `jitter: 1` is "full jitter".
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(backoffDelay(0, { jitter: 0 }), 1000);
 * assert.equal(backoffDelay(3, { jitter: 0 }), 8000);
 * assert.equal(backoffDelay(10, { jitter: 0 }), 32000);
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, maxMs = 32000, jitter = 0.2, random = Math.random } = options;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `Cannot compute backoff delay as 'attempt' must be a non-negative integer: current value is ${attempt}`,
    );
  }
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new RangeError(
      `Cannot compute backoff delay as 'baseMs' must be positive: current value is ${baseMs}`,
    );
  }
  if (!(maxMs >= baseMs)) {
    throw new RangeError(
      `Cannot compute backoff delay as 'maxMs' must be at least 'baseMs' (${baseMs}): current value is ${maxMs}`,
    );
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      `Cannot compute backoff delay as 'jitter' must be between 0 and 1: current value is ${jitter}`,
    );
  }
  const capped = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(capped - capped * jitter * random());
}
