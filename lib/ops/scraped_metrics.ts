/**
 * The metrics Prometheus reads at scrape time: totals and states that other parts of the bot
 * keep (the broker's stats, the supervisor's counts, the token pool, the store), read through
 * {@link MetricsSources} when `/metrics` is asked for, never copied.
 *
 * Its default process metrics are left out of prom-client: they read `/proc`, which the bot may
 * not read, and would report zeros; the few that matter are taken from `Deno.memoryUsage()`.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { MetricsSources } from "./metrics_sources.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerFailure, BrokerStats } from "../broker/port.ts";
export type { BrokerFigures, KeyFigures } from "./metrics_sources.ts";
export type { StoreHealth } from "../store/retrying.ts";
export type { KeyBudget, KeyStatus } from "../quota/token_pool.ts";

/** The prom-client registry that holds the bot's metrics. */
export type MetricsRegistry = Registry;

/** Re-exported: the shape the scraped figures are read through. */
export type { MetricsSources };

/** Options for {@linkcode registerScrapedMetrics}. */
export interface ScrapedMetricsOptions {
  /** The sources, or undefined until they are connected (every figure then reads zero). */
  sources(): MetricsSources | undefined;
  /** The clock, in epoch milliseconds, for the keys' state. */
  now(): number;
  /** Epoch ms the process started, for `process_start_time_seconds`. */
  startedAt: number;
}

/**
 * Registers in `registry` the figures read from the rest of the bot when Prometheus scrapes:
 * each is read from `sources()` at that moment, and reads zero while it returns undefined.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { registerScrapedMetrics } from "./scraped_metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * registerScrapedMetrics(registry, { sources: () => undefined, now: Date.now, startedAt: 0 });
 * assert.ok((await registry.metrics()).includes("soyebot_sessions_live 0\n"));
 * ```
 */
export function registerScrapedMetrics(
  registry: MetricsRegistry,
  options: ScrapedMetricsOptions,
): void {
  const registers = [registry];
  const counterFrom = (name: string, help: string, labelNames: string[], read: Read) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        // Totals kept elsewhere only grow, so resetting and re-adding is a faithful counter.
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  const gaugeFrom = (name: string, help: string, labelNames: string[], read: Read) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  const source = options.sources;
  const stats = () => source()?.brokerStats();
  const counts = () => source()?.sessionCounts();
  const store = () => source()?.storeHealth();
  const keys = () => source()?.keys(options.now()) ?? [];
  /** One unlabelled sample; zero until the sources are connected. */
  const only = (value: number | undefined): Sample[] => [[{}, value ?? 0]];

  counterFrom(
    "soyebot_gemini_requests_total",
    "Requests to the broker that ended, by outcome: ok, or why they got no answer.",
    ["outcome"],
    () => [
      [{ outcome: "ok" }, stats()?.succeeded ?? 0],
      ...Object.entries(stats()?.failures ?? {}).map(([outcome, n]): Sample => [{ outcome }, n]),
    ],
  );
  // [name, help, read] of the unlabelled figures.
  const unlabelledCounters: [string, string, () => number | undefined][] = [
    [
      "soyebot_gemini_calls_total",
      "Gemini generate calls made; each attempt counts once.",
      () => stats()?.calls,
    ],
    [
      "soyebot_gemini_timeouts_total",
      "Gemini calls that outlived GEMINI_TIMEOUT_SECONDS.",
      () => stats()?.timeouts,
    ],
    [
      "soyebot_gemini_key_rejections_total",
      "Times Gemini refused a key (401, 403, invalid key).",
      () => stats()?.keyRejections,
    ],
    [
      "soyebot_gemini_cost_usd_total",
      "Estimated Gemini cost in USD, from the token counts and GEMINI_PRICE_* (an estimate only).",
      () => stats()?.costUsd,
    ],
    [
      "soyebot_gemini_grounded_calls_total",
      "Answers grounded in Google Search (GEMINI_SEARCH, /settings search).",
      () => stats()?.groundedCalls,
    ],
    [
      "soyebot_gemini_search_queries_total",
      "Google searches grounded answers ran; each is billed past the free allowance.",
      () => stats()?.searchQueries,
    ],
    [
      "soyebot_discord_rate_limited_total",
      "Discord REST answers with status 429 (each was waited out and retried).",
      () => source()?.discordRateLimited(),
    ],
    [
      "soyebot_sessions_evicted_total",
      "Session actors evicted because the live cap (SESSION_MAX) was reached.",
      () => counts()?.evicted,
    ],
    [
      "soyebot_sessions_reaped_total",
      "Session actors reaped after SESSION_IDLE_MINUTES without messages.",
      () => counts()?.reaped,
    ],
    [
      "soyebot_sessions_crashed_total",
      "Session actors that crashed on a message and were restarted from the store.",
      () => counts()?.crashed,
    ],
    [
      "soyebot_session_host_restarts_total",
      "Session host workers that died and were restarted by the supervisor.",
      () => counts()?.restarted,
    ],
    [
      "soyebot_store_write_failures_total",
      "Writes to the session store that SQLite refused (disk full, read-only), retries included.",
      () => store()?.writeFailures,
    ],
    [
      "soyebot_store_writes_dropped_total",
      "Refused writes given up for good: the held queue was full, or the bot or a host stopped.",
      () => store()?.writesDropped,
    ],
  ];
  for (const [name, help, read] of unlabelledCounters) {
    counterFrom(name, help, [], () => only(read()));
  }
  const unlabelledGauges: [string, string, () => number | undefined][] = [
    [
      "soyebot_discord_budget_local",
      "1 while Redis is away or slow and this process keeps to its local share of Discord's " +
      "budget; 0 while it leases the shared budget from Redis (or has none to share).",
      () => source()?.discordBudgetDegraded?.() ? 1 : 0,
    ],
    [
      "soyebot_gemini_caches_live",
      "Keys whose persona context cache is live now.",
      () => stats()?.cachesLive,
    ],
    ["soyebot_sessions_live", "Session actors in memory now.", () => source()?.liveSessions()],
    [
      "soyebot_gemini_queue_depth",
      "Gemini calls waiting in the broker's queue now.",
      () => source()?.queueDepth(),
    ],
    ["soyebot_gemini_active_calls", "Gemini calls running now.", () => source()?.activeCalls()],
    [
      "soyebot_store_writable",
      "1 while the session store takes every write; 0 while refused writes are held to retry.",
      () => store()?.writable ? 1 : 0,
    ],
    [
      "soyebot_store_pending_writes",
      "Writes the session store refused, held in memory until the disk takes them.",
      () => store()?.pendingWrites,
    ],
    [
      "soyebot_discord_gateway_connected",
      "1 while the Discord gateway session is up.",
      () => source()?.gatewayConnected() ? 1 : 0,
    ],
    [
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      () => Deno.memoryUsage().rss,
    ],
    [
      "soyebot_heap_used_bytes",
      "V8 heap in use on the main thread, in bytes.",
      () => Deno.memoryUsage().heapUsed,
    ],
  ];
  for (const [name, help, read] of unlabelledGauges) {
    gaugeFrom(name, help, [], () => only(read()));
  }

  counterFrom(
    "soyebot_gemini_rate_limited_total",
    "Gemini 429 answers, by the quota that was hit (minute or day).",
    ["scope"],
    () => [
      [{ scope: "minute" }, stats()?.rateLimitedMinute ?? 0],
      [{ scope: "day" }, stats()?.rateLimitedDay ?? 0],
    ],
  );
  counterFrom(
    "soyebot_gemini_unusual_finishes_total",
    "Gemini answers that ended with a finish reason neither plain nor a block, by reason " +
      "(MALFORMED_RESPONSE, MISSING_THOUGHT_SIGNATURE, …).",
    ["reason"],
    () => Object.entries(stats()?.unusualFinishes ?? {}).map(([reason, n]) => [{ reason }, n]),
  );
  counterFrom(
    "soyebot_gemini_tokens_total",
    "Gemini tokens, by kind: input (cached included), output, cached and thinking.",
    ["kind"],
    () => [
      [{ kind: "input" }, stats()?.tokensIn ?? 0],
      [{ kind: "output" }, stats()?.tokensOut ?? 0],
      [{ kind: "cached" }, stats()?.tokensCached ?? 0],
      [{ kind: "thinking" }, stats()?.tokensThinking ?? 0],
    ],
  );
  gaugeFrom(
    "soyebot_gemini_key_requests",
    "Requests on each key in the current window (minute: sliding 60 s; day: Pacific day).",
    ["key_id", "window"],
    () =>
      keys().flatMap((k): Sample[] => [
        [{ key_id: k.keyId, window: "minute" }, k.requestsLastMinute],
        [{ key_id: k.keyId, window: "day" }, k.requestsToday],
      ]),
  );
  gaugeFrom(
    "soyebot_gemini_key_budget_requests",
    "Each key's request budget per window (GEMINI_RPM, GEMINI_RPD).",
    ["key_id", "window"],
    () =>
      keys().flatMap((k): Sample[] => [
        [{ key_id: k.keyId, window: "minute" }, k.budget.rpm],
        [{ key_id: k.keyId, window: "day" }, k.budget.rpd],
      ]),
  );
  gaugeFrom(
    "soyebot_gemini_key_input_tokens_last_minute",
    "Input tokens reserved on each key over the last 60 s (budget: GEMINI_TPM).",
    ["key_id"],
    () => keys().map((k): Sample => [{ key_id: k.keyId }, k.tokensLastMinute]),
  );
  gaugeFrom(
    "soyebot_gemini_key_effective_limit",
    "Each key's limits in force now: the budget, or lower after the server's 429s (rpd from " +
      "a per-day 429's quotaValue).",
    ["key_id", "limit"],
    () =>
      keys().flatMap((k): Sample[] => [
        [{ key_id: k.keyId, limit: "rpm" }, k.effective?.rpm ?? k.budget.rpm],
        [{ key_id: k.keyId, limit: "tpm" }, k.effective?.tpm ?? k.budget.tpm],
        [{ key_id: k.keyId, limit: "rpd" }, k.effective?.rpd ?? k.budget.rpd],
      ]),
  );
  gaugeFrom(
    "soyebot_gemini_key_available",
    "1 when a key is neither parked (after a 429 or rejection) nor behind an open breaker.",
    ["key_id"],
    () =>
      keys().map((k): Sample => {
        const available = k.parkedUntil === undefined && k.disabledUntil === undefined &&
          k.breaker !== "open";
        return [{ key_id: k.keyId }, available ? 1 : 0];
      }),
  );
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
  }).set(Math.floor(options.startedAt / 1000));
}

/** One sample of a scraped metric: its labels and its value. */
type Sample = [labels: Record<string, string>, value: number];

/** Reads a scraped metric's samples. */
type Read = () => Sample[];
