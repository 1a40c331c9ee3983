/**
 * What the broker's parts share: its ports, its settings, its running totals and its log of
 * events. Declared once, so that each part (scheduler, attempt, key checks, persona cache) takes
 * the fields it needs from here rather than its own copy of them.
 *
 * @module
 */
import type { BrokerSettings } from "./options.ts";
import type { BrokerEvent, BrokerStats } from "./port.ts";
import type { Clock } from "../clock.ts";
import type { GeminiClient } from "../gemini/mod.ts";
import type { TokenPool } from "../quota/mod.ts";

/** Re-exported: the types the context is built of, so that the parts' documentation is whole. */
export type * from "./port.ts";
export type * from "../clock.ts";
export type * from "../gemini/port.ts";
export type * from "../quota/token_pool.ts";
export type { BrokerSettings };

/** The broker's shared parts; each part takes a `Pick` of it. */
export interface BrokerContext {
  /** Makes the Gemini calls. */
  client: GeminiClient;
  /** The keys and their quotas. */
  pool: TokenPool;
  /** The broker's clock: queueing, deadlines, backoff, key rests and cache lives. */
  clock: Clock;
  /** The Gemini model name. */
  model: string;
  /** The persona, sent as the system instruction or through its cache. */
  systemInstruction: string;
  /** The broker's numbers, defaults filled in. */
  settings: BrokerSettings;
  /** The running totals every part counts into. */
  stats: BrokerStats;
  /** Told of the things worth a log line. */
  onEvent?(event: BrokerEvent): void;
}
