/**
 * Restart intensity, as in Erlang/OTP supervisors (`add_restart` in `supervisor.erl`): a child may
 * restart at most `maxRestarts` times within any `periodMs`; one more means give up.
 *
 * @module
 */

/** Options for {@linkcode RestartIntensity}. */
export interface RestartIntensityOptions {
  /**
   * Restarts allowed within `periodMs`; 0 allows none.
   * @default {5}
   */
  maxRestarts?: number;
  /**
   * Length of the sliding window, in milliseconds.
   * @default {60000}
   */
  periodMs?: number;
}

/**
 * Counts restarts in a sliding window of `periodMs` and says when there are too many.
 * A restart stays in the window while `now - restartTime <= periodMs`.
 *
 * @example Usage
 * ```ts
 * import { RestartIntensity } from "./restart_intensity.ts";
 * import assert from "node:assert/strict";
 *
 * const intensity = new RestartIntensity({ maxRestarts: 2, periodMs: 1000 });
 * assert.equal(intensity.record(0), true);
 * assert.equal(intensity.record(100), true);
 * assert.equal(intensity.record(200), false); // a third restart within 1 s
 * assert.equal(intensity.record(1150), true); // the restarts at 0 and 100 have left the window
 * ```
 */
export class RestartIntensity {
  /** Restarts allowed within `periodMs`; one more means give up. */
  readonly maxRestarts: number;
  /** Milliseconds of the sliding window in which restarts are counted. */
  readonly periodMs: number;
  /** Restart times, oldest first; never more than `maxRestarts + 1`. */
  #restarts: number[] = [];

  /** Creates a counter with no restarts recorded. */
  constructor(options: RestartIntensityOptions = {}) {
    const { maxRestarts = 5, periodMs = 60_000 } = options;
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
      throw new RangeError(
        `Cannot create RestartIntensity as 'maxRestarts' must be a non-negative integer: current value is ${maxRestarts}`,
      );
    }
    if (!Number.isFinite(periodMs) || periodMs <= 0) {
      throw new RangeError(
        `Cannot create RestartIntensity as 'periodMs' must be positive: current value is ${periodMs}`,
      );
    }
    this.maxRestarts = maxRestarts;
    this.periodMs = periodMs;
  }

  /** Records a restart at `now`; returns true if still within intensity, false if it exceeds it. */
  record(now: number): boolean {
    this.#prune(now);
    this.#restarts.push(now);
    // Older entries cannot change the answer once there are more than maxRestarts newer ones.
    if (this.#restarts.length > this.maxRestarts + 1) this.#restarts.shift();
    return this.#restarts.length <= this.maxRestarts;
  }

  /** Restarts within the window ending at `now`; saturates at `maxRestarts + 1`. */
  count(now: number): number {
    this.#prune(now);
    return this.#restarts.length;
  }

  #prune(now: number): void {
    const threshold = now - this.periodMs;
    let expired = 0;
    while (expired < this.#restarts.length && this.#restarts[expired] < threshold) expired++;
    if (expired > 0) this.#restarts.splice(0, expired);
  }
}
