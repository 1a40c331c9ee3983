/**
 * What the metrics read from the rest of the bot at scrape time: running totals that the broker,
 * the supervisor, the token pool and the store already keep, so there is one source of truth
 * for each.
 *
 * @module
 */
import type { BrokerStats } from "../broker/mod.ts";
import type { StoreHealth } from "../store/mod.ts";
import type { KeyStatus } from "../quota/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerFailure } from "../broker/port.ts";
export type { KeyBudget } from "../quota/token_pool.ts";

/** Re-exported because this module's types are built on them. */
export type { BrokerStats, KeyStatus, StoreHealth };

/** The broker totals the metrics read. */
export type BrokerFigures = Pick<
  BrokerStats,
  | "requests"
  | "calls"
  | "succeeded"
  | "failures"
  | "retries"
  | "rateLimitedMinute"
  | "rateLimitedDay"
  | "timeouts"
  | "keyRejections"
  | "tokensIn"
  | "tokensOut"
  | "tokensCached"
  | "tokensThinking"
  | "costUsd"
  | "cachesLive"
  | "groundedCalls"
  | "searchQueries"
  | "unusualFinishes"
>;

/** A key's state as the metrics and the page read it (never the key itself). */
export type KeyFigures =
  & Pick<
    KeyStatus,
    "keyId" | "requestsLastMinute" | "tokensLastMinute" | "requestsToday" | "budget" | "breaker"
  >
  & Partial<Pick<KeyStatus, "effective" | "parkedUntil" | "disabledUntil">>;

/** Where the scrape-time figures come from; each is read when `/metrics` or `/` is asked for. */
export interface MetricsSources {
  /** The broker's running totals since start. */
  brokerStats(): Readonly<BrokerFigures>;
  /** Gemini calls waiting in the broker's queue now. */
  queueDepth(): number;
  /** Gemini calls running now. */
  activeCalls(): number;
  /** Session actors in memory now. */
  liveSessions(): number;
  /** The supervisor's totals since start: sessions evicted, reaped, crashed and hosts restarted. */
  sessionCounts(): Readonly<
    { evicted: number; reaped: number; restarted: number; crashed: number }
  >;
  /** Each key's state at `now` (epoch ms). */
  keys(now: number): KeyFigures[];
  /** Whether the Discord gateway session is up. */
  gatewayConnected(): boolean;
  /** Discord REST answers with status 429 since start. */
  discordRateLimited(): number;
  /** The session store over all hosts: writable, writes held, refused and dropped. */
  storeHealth(): StoreHealth;
  /**
   * Why the Discord budget shared in Redis is kept to this process's local share now (Redis
   * away or slow), or undefined while it is leased from Redis (or there is none to share).
   */
  discordBudgetDegraded?(): "away" | "slow" | undefined;
}
