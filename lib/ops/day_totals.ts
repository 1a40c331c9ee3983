/**
 * Token and cost totals of one Pacific day (Gemini's quota day), started again at Pacific
 * midnight. Pure: the caller passes the time.
 *
 * @module
 */
import { costUsd, type Prices } from "../broker/mod.ts";
import type { Usage } from "../gemini/mod.ts";
import { pacificDayKey } from "../pacific_day.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { Prices } from "../broker/port.ts";
export type { Usage } from "../gemini/port.ts";

/** Token and cost figures of one Pacific day (Gemini's quota day). */
export interface DayTotals {
  /** The Pacific date, as `pacificDayKey` writes it. */
  day: string;
  /** Successful Gemini calls. */
  calls: number;
  /** Prompt tokens billed, cached ones included. */
  tokensIn: number;
  /** Answer tokens. */
  tokensOut: number;
  /** Prompt tokens served from a cache. */
  tokensCached: number;
  /** Thinking tokens, billed as output. */
  tokensThinking: number;
  /** Estimated cost in USD at the configured prices. */
  costUsd: number;
  /** Answers grounded in Google Search. */
  groundedCalls: number;
  /** Google searches they ran, each billed past the free allowance. */
  searchQueries: number;
}

/**
 * The totals to count into at `now`: `totals` while it is still their day, else a fresh day.
 *
 * @example
 * ```ts
 * import { addToDay, dayAt } from "./day_totals.ts";
 * import assert from "node:assert/strict";
 *
 * const usage = { promptTokens: 10, cachedTokens: 0, outputTokens: 5, thinkingTokens: 0 };
 * const today = addToDay(dayAt(undefined, 0), usage, { input: 1, output: 1, cached: 1 });
 * assert.equal(today.tokensIn, 10);
 * assert.equal(dayAt(today, 86_400_000).tokensIn, 0);
 * ```
 */
export function dayAt(totals: DayTotals | undefined, now: number): DayTotals {
  const day = pacificDayKey(now);
  if (totals?.day === day) return totals;
  return {
    day,
    calls: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    tokensThinking: 0,
    costUsd: 0,
    groundedCalls: 0,
    searchQueries: 0,
  };
}

/**
 * Counts one successful call's `usage` into `totals` (which it changes and returns), with the
 * Google searches it ran when it was grounded.
 */
export function addToDay(
  totals: DayTotals,
  usage: Usage,
  prices: Prices,
  searchQueries?: number,
): DayTotals {
  totals.calls++;
  if (searchQueries !== undefined) {
    totals.groundedCalls++;
    totals.searchQueries += searchQueries;
  }
  totals.tokensIn += usage.promptTokens;
  totals.tokensOut += usage.outputTokens;
  totals.tokensCached += usage.cachedTokens;
  totals.tokensThinking += usage.thinkingTokens;
  totals.costUsd += costUsd(usage, prices);
  return totals;
}
