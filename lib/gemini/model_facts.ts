/**
 * What the bot knows of each Gemini model family, in one table: its free-tier limits, its prices,
 * the thinking levels it takes and the smallest prompt prefix it caches. Configuration takes its
 * defaults from here (`GEMINI_RPM`, `GEMINI_PRICE_*` and the rest still override them), the
 * broker its thinking levels and cache minimum, the fake Gemini its refusals.
 *
 * Sources (December 2026, see the README): Google no longer publishes free-tier limits, so they
 * are users' reports of AI Studio; prices are third-party copies of the pricing page; thinking
 * levels and cache minimums are Google's docs and recorded 400s. A model the table does not know
 * gets {@linkcode UNKNOWN_MODEL}: the lowest limits and highest prices of the table, no thinking
 * levels assumed (a refusal is learned while running, `lib/gemini/thinking.ts`) and no cache.
 *
 * @module
 */

/** A `thinkingConfig.thinkingLevel`, lowest first in {@linkcode THINKING_LEVELS}. */
export type ThinkingLevel = "minimal" | "low" | "medium" | "high";

/** Every thinking level the API names, lowest first. */
export const THINKING_LEVELS: readonly ThinkingLevel[] = ["minimal", "low", "medium", "high"];

/** What the bot knows of one model family. */
export interface ModelFacts {
  /** The family's name for people, such as "3.5 Flash-Lite"; "unknown" off the table. */
  family: string;
  /** Whether the model is in the table; false for {@linkcode UNKNOWN_MODEL}. */
  known: boolean;
  /** Requests per minute on the free tier, per project. */
  rpm: number;
  /** Input tokens per minute on the free tier, per project. */
  tpm: number;
  /** Requests per day on the free tier, per project (reset at midnight Pacific). */
  rpd: number;
  /** USD per million tokens: input, output (thinking included) and cached input. */
  prices: { input: number; output: number; cached: number };
  /**
   * The thinking levels the model takes, lowest first; undefined when unknown (then a configured
   * level is sent, and a refusal is learned once).
   */
  thinkingLevels: readonly ThinkingLevel[] | undefined;
  /**
   * The fewest tokens of a prompt prefix the model caches (implicitly, and for an explicit
   * cache); undefined where none is listed, so caching is not counted on.
   */
  cacheMinTokens: number | undefined;
}

/** One row of the table: the models it covers, and their facts. */
interface ModelRow {
  /** Matches the model names of the family. */
  pattern: RegExp;
  /** The facts of the family. */
  facts: ModelFacts;
}

const FLASH_FREE_TIER = { rpm: 5, tpm: 250_000, rpd: 20 };
const FLASH_LITE_FREE_TIER = { rpm: 15, tpm: 250_000, rpd: 500 };
const ALL_LEVELS = THINKING_LEVELS;

/** The table, by family. Since 2026-10-08 3.5 Flash answers as 3.6 and 3.7 Flash as 3.8. */
const MODEL_TABLE: readonly ModelRow[] = [
  {
    pattern: /^gemini-3\.5-flash-lite(-|$)/,
    facts: {
      family: "3.5 Flash-Lite",
      known: true,
      ...FLASH_LITE_FREE_TIER,
      prices: { input: 0.30, output: 2.50, cached: 0.03 },
      thinkingLevels: ALL_LEVELS,
      cacheMinTokens: undefined,
    },
  },
  {
    pattern: /^gemini-3\.1-flash-lite(-|$)/,
    facts: {
      family: "3.1 Flash-Lite",
      known: true,
      ...FLASH_LITE_FREE_TIER,
      prices: { input: 0.25, output: 1.50, cached: 0.025 },
      thinkingLevels: ALL_LEVELS,
      cacheMinTokens: undefined,
    },
  },
  {
    pattern: /^gemini-3\.[78]-flash(-|$)/,
    facts: {
      family: "3.7–3.8 Flash",
      known: true,
      ...FLASH_FREE_TIER,
      // Launch prices, until 2026-12-31; 1.50 / 7.50 after.
      prices: { input: 0.75, output: 3.75, cached: 0.075 },
      // 400 "Thinking level MINIMAL is not supported for this model."
      thinkingLevels: ["low", "medium", "high"],
      cacheMinTokens: 4096,
    },
  },
  {
    pattern: /^gemini-3\.[56]-flash(-|$)/,
    facts: {
      family: "3.5–3.6 Flash",
      known: true,
      ...FLASH_FREE_TIER,
      // Cached input at 10% of input, as implicit caching's "90% off" says.
      prices: { input: 1.50, output: 7.50, cached: 0.15 },
      thinkingLevels: ALL_LEVELS,
      cacheMinTokens: 4096,
    },
  },
];

/** The model the bot uses unless `GEMINI_MODEL` says otherwise: Google's replacement for 2.5 Flash. */
export const DEFAULT_MODEL = "gemini-3.5-flash-lite";

/** The current stable models, for messages that must name some (a retired model's 404). */
export const CURRENT_MODELS: readonly string[] = [
  DEFAULT_MODEL,
  "gemini-3.8-flash",
  "gemini-3.6-flash",
  "gemini-3.1-flash-lite",
];

/** The facts assumed for a model off the table: the most cautious of each column. */
export const UNKNOWN_MODEL: Readonly<ModelFacts> = Object.freeze({
  family: "unknown",
  known: false,
  rpm: Math.min(...MODEL_TABLE.map((row) => row.facts.rpm)),
  tpm: Math.min(...MODEL_TABLE.map((row) => row.facts.tpm)),
  rpd: Math.min(...MODEL_TABLE.map((row) => row.facts.rpd)),
  prices: {
    input: Math.max(...MODEL_TABLE.map((row) => row.facts.prices.input)),
    output: Math.max(...MODEL_TABLE.map((row) => row.facts.prices.output)),
    cached: Math.max(...MODEL_TABLE.map((row) => row.facts.prices.cached)),
  },
  thinkingLevels: undefined,
  cacheMinTokens: undefined,
});

/**
 * The facts of `model`: its family's row, or {@linkcode UNKNOWN_MODEL}.
 *
 * @example
 * ```ts
 * import { modelFacts } from "./model_facts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(modelFacts("gemini-3.8-flash").thinkingLevels, ["low", "medium", "high"]);
 * assert.equal(modelFacts("gemini-9-ultra").known, false);
 * ```
 */
export function modelFacts(model: string): Readonly<ModelFacts> {
  return MODEL_TABLE.find((row) => row.pattern.test(model))?.facts ?? UNKNOWN_MODEL;
}

/**
 * The level folds and summaries use: the lowest the model takes; undefined (the model's own
 * default) when the table does not know its levels.
 */
export function lightestLevel(
  facts: Pick<ModelFacts, "thinkingLevels">,
): ThinkingLevel | undefined {
  return facts.thinkingLevels?.[0];
}
