/**
 * The cost estimate of Gemini calls: the default prices and what one call's usage costs at them.
 * One place for both, so that the broker's totals, the day's figures on the status page and the
 * token bench agree.
 *
 * @module
 */
import type { Prices } from "./port.ts";
import { DEFAULT_MODEL, modelFacts, type Usage } from "../gemini/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { Prices } from "./port.ts";
export type { Usage } from "../gemini/port.ts";

/**
 * The default model's paid-tier prices in USD per million tokens, from the model table: what the
 * cost estimate uses when no model's prices are given (the configuration reads the configured
 * model's, `GEMINI_PRICE_*` overriding them).
 */
export const DEFAULT_PRICES: Readonly<Prices> = Object.freeze({
  ...modelFacts(DEFAULT_MODEL).prices,
});

/**
 * USD per 1,000 Google searches a grounded answer runs, past the free allowance (Gemini 3
 * models: 5,000 searches a month, shared by a project's keys), as Google priced grounding for
 * Gemini 3 in late 2025. A search is billed per query Gemini runs, not per answer.
 */
export const SEARCH_USD_PER_1000_QUERIES = 14;
/** Google searches a month a project gets free on Gemini 3 models (late 2025). */
export const SEARCH_FREE_QUERIES_PER_MONTH = 5_000;

/**
 * Estimated cost in USD of one call's usage: uncached prompt tokens at the input price, cached
 * ones at the cached price, answer and thinking tokens at the output price.
 *
 * @example
 * ```ts
 * import { costUsd, DEFAULT_PRICES } from "./cost.ts";
 * import assert from "node:assert/strict";
 *
 * const usage = { promptTokens: 1_000_000, cachedTokens: 0, outputTokens: 0, thinkingTokens: 0 };
 * assert.equal(costUsd(usage, DEFAULT_PRICES), 0.3);
 * ```
 */
export function costUsd(usage: Usage, prices: Prices): number {
  return ((usage.promptTokens - usage.cachedTokens) * prices.input +
    usage.cachedTokens * prices.cached +
    (usage.outputTokens + usage.thinkingTokens) * prices.output) / 1e6;
}
