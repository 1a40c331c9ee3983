/**
 * Percentiles of latency samples, over all values or over a recent time window.
 *
 * @module
 */

function checkP(p: number): void {
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(
      `Cannot compute percentile as 'p' must be between 0 and 100: current value is ${p}`,
    );
  }
}

function isSorted(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i - 1] > values[i]) return false;
  return true;
}

/** Nearest rank in an ascending array that is already known to be non-empty. */
function nearestRank(sorted: ArrayLike<number>, p: number): number {
  // The small tolerance keeps float error from bumping an exact rank up (0.999 * 1000 > 999).
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.max(rank, 1) - 1];
}

/**
 * Returns the `p`th percentile (0 to 100) of `values` by the nearest-rank method: the smallest
 * value with at least p% of the values at or below it, so the result is always a real sample
 * (p0 is the minimum, p100 the maximum). Returns NaN for no values. `values` is not modified.
 *
 * @example Usage
 * ```ts
 * import { percentile } from "./percentiles.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(percentile([40, 10, 30, 20], 50), 20);
 * assert.equal(percentile([40, 10, 30, 20], 99), 40);
 * ```
 */
export function percentile(sortedOrUnsorted: readonly number[], p: number): number {
  checkP(p);
  if (sortedOrUnsorted.length === 0) return NaN;
  const sorted = isSorted(sortedOrUnsorted)
    ? sortedOrUnsorted
    : [...sortedOrUnsorted].sort((a, b) => a - b);
  return nearestRank(sorted, p);
}

/** Options for {@linkcode LatencyWindow}. */
export interface LatencyWindowOptions {
  /**
   * Most samples kept; the oldest is dropped to make room.
   * @default {2048}
   */
  maxSamples?: number;
  /**
   * Samples older than this many milliseconds are left out.
   * @default {3600000}
   */
  maxAgeMs?: number;
}

/**
 * Keeps the latest latency samples (at most `maxSamples`, none older than `maxAgeMs`) in a fixed
 * ring buffer and reports nearest-rank percentiles over them.
 *
 * @example Usage
 * ```ts
 * import { LatencyWindow } from "./percentiles.ts";
 * import assert from "node:assert/strict";
 *
 * const window = new LatencyWindow();
 * for (let ms = 1; ms <= 100; ms++) window.add(ms, 0);
 * assert.deepEqual(window.percentiles(1000, [50, 99]), { p50: 50, p99: 99 });
 * ```
 */
export class LatencyWindow {
  /** Most samples kept; the oldest is dropped to make room. */
  readonly maxSamples: number;
  /** Milliseconds after which a sample is left out of the percentiles. */
  readonly maxAgeMs: number;
  #values: Float64Array;
  #times: Float64Array;
  /** Index of the oldest sample. */
  #start = 0;
  #size = 0;

  /** Creates an empty window. */
  constructor(options: LatencyWindowOptions = {}) {
    const { maxSamples = 2048, maxAgeMs = 3_600_000 } = options;
    if (!Number.isInteger(maxSamples) || maxSamples < 1) {
      throw new RangeError(
        `Cannot create LatencyWindow as 'maxSamples' must be a positive integer: current value is ${maxSamples}`,
      );
    }
    if (!(maxAgeMs > 0)) {
      throw new RangeError(
        `Cannot create LatencyWindow as 'maxAgeMs' must be positive: current value is ${maxAgeMs}`,
      );
    }
    this.maxSamples = maxSamples;
    this.maxAgeMs = maxAgeMs;
    this.#values = new Float64Array(maxSamples);
    this.#times = new Float64Array(maxSamples);
  }

  /** Adds a sample of `ms` milliseconds taken at `now`, dropping the oldest if full. */
  add(ms: number, now: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(
        `Cannot add to LatencyWindow as 'ms' must be a non-negative finite number: current value is ${ms}`,
      );
    }
    const end = (this.#start + this.#size) % this.maxSamples;
    this.#values[end] = ms;
    this.#times[end] = now;
    if (this.#size < this.maxSamples) this.#size++;
    else this.#start = (this.#start + 1) % this.maxSamples;
  }

  /** Number of samples within `maxAgeMs` of `now`. */
  count(now: number): number {
    this.#expire(now);
    return this.#size;
  }

  /**
   * Returns the nearest-rank percentiles `ps` (0 to 100) of the samples within `maxAgeMs` of `now`,
   * keyed "p50", "p99", "p99.9"; each is NaN if there are no samples.
   */
  percentiles(now: number, ps: readonly number[]): Record<string, number> {
    ps.forEach(checkP);
    this.#expire(now);
    const sorted = new Float64Array(this.#size);
    for (let i = 0; i < this.#size; i++) {
      sorted[i] = this.#values[(this.#start + i) % this.maxSamples];
    }
    sorted.sort();
    const result: Record<string, number> = {};
    for (const p of ps) result[`p${p}`] = this.#size === 0 ? NaN : nearestRank(sorted, p);
    return result;
  }

  /** Calls `visit` with each sample within `maxAgeMs` of `now` and the time it was taken, oldest first. */
  forEach(now: number, visit: (ms: number, at: number) => void): void {
    this.#expire(now);
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#start + i) % this.maxSamples;
      visit(this.#values[index], this.#times[index]);
    }
  }

  /** Drops samples older than `maxAgeMs`; samples arrive in time order, so they are at the start. */
  #expire(now: number): void {
    const oldestKept = now - this.maxAgeMs;
    while (this.#size > 0 && this.#times[this.#start] < oldestKept) {
      this.#start = (this.#start + 1) % this.maxSamples;
      this.#size--;
    }
  }
}
