/**
 * What the status page shows of a latency: p50, p90 and p99 over the last hour, and the hour in
 * slots for its chart. Both are read from a {@link LatencyWindow}, the one windowed latency store.
 *
 * @module
 */
import { LatencyWindow, percentile } from "../percentiles.ts";

/** Re-exported: the store these figures are read from. */
export { LatencyWindow };

/** The span the summaries and the chart cover: the last hour. */
export const LATENCY_HOUR_MS = 3_600_000;
/** The chart's slot: five minutes, twelve to the hour. */
export const LATENCY_SLOT_MS = 5 * 60_000;

/** Percentiles of one latency over the last hour, in milliseconds (NaN without samples). */
export interface LatencySummary {
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Samples the percentiles were taken from. */
  count: number;
}

/** One slot of the last hour's chart. */
export interface LatencySlot {
  /** Epoch ms of the slot's start. */
  start: number;
  /** Median of the slot, in milliseconds (NaN without samples). */
  p50: number;
  /** 90th percentile of the slot, in milliseconds. */
  p90: number;
  /** 99th percentile of the slot, in milliseconds. */
  p99: number;
  /** Samples in the slot. */
  count: number;
}

/**
 * A window for the status page: the last hour, at most `maxSamples` samples.
 *
 * @example
 * ```ts
 * import { hourWindow, latencySummary } from "./latency_summary.ts";
 * import assert from "node:assert/strict";
 *
 * const window = hourWindow();
 * window.add(120, 1_000);
 * assert.equal(latencySummary(window, 2_000).p50, 120);
 * ```
 */
export function hourWindow(maxSamples = 4096): LatencyWindow {
  return new LatencyWindow({ maxSamples, maxAgeMs: LATENCY_HOUR_MS });
}

/** p50, p90 and p99 of the samples `window` holds at `now`. */
export function latencySummary(window: LatencyWindow, now: number): LatencySummary {
  const { p50, p90, p99 } = window.percentiles(now, [50, 90, 99]);
  return { p50, p90, p99, count: window.count(now) };
}

/** The last hour in `slotMs` slots, oldest first; empty slots have NaN percentiles. */
export function latencySlots(
  window: LatencyWindow,
  now: number,
  slotMs: number = LATENCY_SLOT_MS,
): LatencySlot[] {
  const count = Math.ceil(LATENCY_HOUR_MS / slotMs);
  const firstStart = Math.floor(now / slotMs) * slotMs - (count - 1) * slotMs;
  const values: number[][] = Array.from({ length: count }, () => []);
  window.forEach(now, (ms, at) => {
    const index = Math.floor((at - firstStart) / slotMs);
    if (index >= 0 && index < count) values[index].push(ms);
  });
  return values.map((v, i) => {
    const sorted = v.sort((a, b) => a - b);
    return {
      start: firstStart + i * slotMs,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      count: sorted.length,
    };
  });
}
