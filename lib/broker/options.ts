/**
 * The Gemini broker's policy: its options, their defaults (one source for each number), and the
 * check that turns them into the settings the broker runs on.
 *
 * @module
 */
import type { BrokerEvent, Prices } from "./port.ts";
import type { Clock } from "../clock.ts";
import { DEFAULT_PRICES } from "./cost.ts";
import {
  type GeminiClient,
  lightestLevel,
  type ModelFacts,
  modelFacts,
  type ThinkingLevel,
} from "../gemini/mod.ts";
import type { TokenPool } from "../quota/mod.ts";

/** Re-exported: the ports and types the options are built on. */
export type * from "./port.ts";
export type * from "../clock.ts";
export type * from "../gemini/port.ts";
export type * from "../quota/token_pool.ts";

/** The broker's policy. */
export interface GeminiBrokerOptions {
  /** Makes the Gemini calls; tests hand in a fake. */
  client: GeminiClient;
  /** The keys and their quotas; every call reserves room here first. */
  pool: TokenPool;
  /** The Gemini model name, such as `gemini-3.5-flash-lite`. */
  model: string;
  /** The persona, sent as the system instruction (or through the context cache). */
  systemInstruction: string;
  /** Most calls in flight at once. @default 10 */
  maxConcurrency?: number;
  /** Most attempts per request, the first included, before it ends "unavailable". @default 5 */
  maxAttempts?: number;
  /**
   * Milliseconds a call may go without sending anything: until its first chunk, and between
   * chunks. It never limits the length of a stream that keeps coming. @default 30000
   */
  timeoutMs?: number;
  /**
   * Milliseconds a request may wait before its answer starts, queue, retries and the first
   * chunk's wait together; past it the request ends "unavailable". Once text streams, only
   * `timeoutMs` applies. @default 60000
   */
  maxWaitMs?: number;
  /**
   * The chat's thinking level; folds and summaries take the lowest the model does. Left out, the
   * model's own default. @default undefined
   */
  thinkingLevel?: ThinkingLevel;
  /** What the broker knows of the model (levels, cache minimum). @default modelFacts(model) */
  modelFacts?: Readonly<ModelFacts>;
  /** Cache the persona through `cachedContents`. @default true */
  contextCache?: boolean;
  /** Seconds the persona cache lives; it is re-created 5 min before it ends. @default 3600 */
  cacheTtlSeconds?: number;
  /** Milliseconds a call must expect to wait before `onWait` tells its caller. @default 5000 */
  countdownThresholdMs?: number;
  /** Prices for the `costUsd` estimate in the stats. @default DEFAULT_PRICES (the default model's) */
  prices?: Prices;
  /** Time for queueing, backoff and key rests; tests pass a fake. @default systemClock */
  clock?: Clock;
  /** A number in [0, 1) for backoff jitter; tests pass a fixed one. @default Math.random */
  random?: () => number;
  /** Told of retries, rate limits, key refusals, cache changes and each call (for logs). */
  onEvent?(event: BrokerEvent): void;
}

/** The broker's numbers with every default filled in (see {@link GeminiBrokerOptions}). */
export interface BrokerSettings {
  /** Most calls in flight at once. */
  maxConcurrency: number;
  /** Most attempts per request, the first included. */
  maxAttempts: number;
  /** Milliseconds a call may go without sending anything. */
  timeoutMs: number;
  /** Milliseconds a request may wait before its answer starts. */
  maxWaitMs: number;
  /** The chat's thinking level; undefined for the model's default. */
  thinkingLevel: ThinkingLevel | undefined;
  /** The level of folds and summaries: the lowest the model takes, when the table knows. */
  lightThinkingLevel: ThinkingLevel | undefined;
  /** The fewest persona tokens the model caches; undefined: no persona cache is tried. */
  cacheMinTokens: number | undefined;
  /** Seconds the persona cache lives. */
  cacheTtlSeconds: number;
  /** Milliseconds a call must expect to wait before `onWait` tells its caller. */
  countdownThresholdMs: number;
  /** Prices for the cost estimate. */
  prices: Prices;
  /** Whether the persona goes through a context cache. */
  contextCache: boolean;
}

/** The defaults of the broker's numbers; the configuration reads them too. */
export const BROKER_DEFAULTS: Readonly<
  Omit<
    BrokerSettings,
    "prices" | "contextCache" | "thinkingLevel" | "lightThinkingLevel" | "cacheMinTokens"
  >
> = Object
  .freeze({
    maxConcurrency: 10,
    maxAttempts: 5,
    timeoutMs: 30_000,
    maxWaitMs: 60_000,
    cacheTtlSeconds: 3600,
    countdownThresholdMs: 5000,
  });

/**
 * Fills in the defaults; throws a RangeError when `maxConcurrency` is not a positive integer or
 * `maxWaitMs` is not positive.
 *
 * @example
 * ```ts
 * import { brokerSettings } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(brokerSettings({ maxWaitMs: 5000 }).maxConcurrency, 10);
 * assert.throws(() => brokerSettings({ maxConcurrency: 0 }), RangeError);
 * ```
 */
export function brokerSettings(
  options: Omit<Partial<GeminiBrokerOptions>, "client" | "pool">,
): BrokerSettings {
  const facts = options.modelFacts ?? modelFacts(options.model ?? "");
  const settings: BrokerSettings = {
    maxConcurrency: options.maxConcurrency ?? BROKER_DEFAULTS.maxConcurrency,
    maxAttempts: options.maxAttempts ?? BROKER_DEFAULTS.maxAttempts,
    timeoutMs: options.timeoutMs ?? BROKER_DEFAULTS.timeoutMs,
    maxWaitMs: options.maxWaitMs ?? BROKER_DEFAULTS.maxWaitMs,
    thinkingLevel: options.thinkingLevel,
    lightThinkingLevel: lightestLevel(facts) ?? options.thinkingLevel,
    cacheMinTokens: facts.cacheMinTokens,
    cacheTtlSeconds: options.cacheTtlSeconds ?? BROKER_DEFAULTS.cacheTtlSeconds,
    countdownThresholdMs: options.countdownThresholdMs ?? BROKER_DEFAULTS.countdownThresholdMs,
    prices: options.prices ?? DEFAULT_PRICES,
    contextCache: options.contextCache !== false,
  };
  const { maxConcurrency, maxWaitMs } = settings;
  if (!(Number.isInteger(maxConcurrency) && maxConcurrency >= 1)) {
    throw new RangeError(
      `Cannot create GeminiBroker as 'maxConcurrency' must be a positive integer: current value is ${maxConcurrency}`,
    );
  }
  if (!(maxWaitMs > 0)) {
    throw new RangeError(
      `Cannot create GeminiBroker as 'maxWaitMs' must be positive: current value is ${maxWaitMs}`,
    );
  }
  return settings;
}
