/**
 * The broker's running totals ({@link BrokerStats}): a fresh set, and how a call's usage and a
 * request's end are counted into them.
 *
 * @module
 */
import type { BrokerResult, BrokerStats, Prices } from "./port.ts";
import { costUsd } from "./cost.ts";
import type { Usage } from "../gemini/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerFailure, BrokerResult, BrokerStats, Prices } from "./port.ts";
export type { Usage } from "../gemini/port.ts";

/**
 * Totals of a broker that has done nothing yet.
 *
 * @example
 * ```ts
 * import { addUsage, emptyBrokerStats } from "./stats.ts";
 * import { DEFAULT_PRICES } from "./cost.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = emptyBrokerStats();
 * const usage = { promptTokens: 1_000_000, cachedTokens: 0, outputTokens: 0, thinkingTokens: 0 };
 * addUsage(stats, usage, DEFAULT_PRICES);
 * assert.equal(stats.costUsd, 0.3);
 * ```
 */
export function emptyBrokerStats(): BrokerStats {
  return {
    requests: 0,
    calls: 0,
    succeeded: 0,
    failed: 0,
    failures: {
      day_quota: 0,
      blocked: 0,
      interrupted: 0,
      unavailable: 0,
      rejected: 0,
      stopped: 0,
      cancelled: 0,
    },
    retries: 0,
    rateLimitedMinute: 0,
    rateLimitedDay: 0,
    timeouts: 0,
    waitLimited: 0,
    keyRejections: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    tokensThinking: 0,
    costUsd: 0,
    personaTokens: undefined,
    cachesLive: 0,
    groundedCalls: 0,
    searchQueries: 0,
    unusualFinishes: {},
  };
}

/** Counts one answered call's tokens and its cost at `prices`. */
export function addUsage(stats: BrokerStats, usage: Usage, prices: Prices): void {
  stats.tokensIn += usage.promptTokens;
  stats.tokensOut += usage.outputTokens;
  stats.tokensCached += usage.cachedTokens;
  stats.tokensThinking += usage.thinkingTokens;
  stats.costUsd += costUsd(usage, prices);
}

/** Counts a request that ended: a failure by its reason (successes are counted with their usage). */
export function countEnd(stats: BrokerStats, result: BrokerResult): void {
  if (result.ok) return;
  stats.failed++;
  stats.failures[result.reason]++;
}
