/**
 * The status page's figures, read at one instant: what `BotMetrics.snapshot()` returns and
 * `renderStatusPage` shows.
 *
 * @module
 */
import type { DayTotals } from "./day_totals.ts";
import type { LatencySlot, LatencySummary } from "./latency_summary.ts";
import type { KeyFigures } from "./metrics_sources.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { KeyBudget, KeyStatus } from "../quota/token_pool.ts";

/** Re-exported because the snapshot is built of them. */
export type { DayTotals, KeyFigures, LatencySlot, LatencySummary };

/** Everything the status page shows, read at one instant. */
export interface StatusSnapshot {
  /** Epoch ms the snapshot was taken. */
  now: number;
  /** Epoch ms the metrics were created, about when the bot started. */
  startedAt: number;
  /** Whether the Discord gateway session is up. */
  gatewayConnected: boolean;
  /** Session actors in memory. */
  liveSessions: number;
  /** Gemini calls waiting in the broker's queue. */
  queueDepth: number;
  /** Gemini calls running. */
  activeCalls: number;
  /** Each key's state (never the key itself). */
  keys: KeyFigures[];
  /** From a message's arrival to the answer's first visible text, over the last hour. */
  firstText: LatencySummary;
  /** From a message's arrival to its complete reply, over the last hour. */
  complete: LatencySummary;
  /** Successful Gemini calls, over the last hour. */
  geminiCall: LatencySummary;
  /** First visible text, in 5-minute slots over the last hour, oldest first. */
  chart: LatencySlot[];
  /** Tokens and cost of the current Pacific day. */
  today: DayTotals;
  /** Messages the bot set out to answer since start. */
  messages: number;
  /** Gemini attempts retried since start. */
  retries: number;
  /** Gemini 429s for a per-minute quota since start. */
  rateLimitedMinute: number;
  /** Gemini 429s for a per-day quota since start. */
  rateLimitedDay: number;
  /** Discord REST 429s since start. */
  discordRateLimited: number;
  /** The supervisor's session totals since start. */
  sessions: { evicted: number; reaped: number; restarted: number; crashed: number };
}
