/**
 * Metrics: what `/metrics` exposes to Prometheus and what the status page shows.
 *
 * The exposition format comes from `prom-client`, which runs under Deno with the bot's narrow
 * permissions (it needs none for its registry). Its default process metrics are left out: they
 * read `/proc`, which the bot may not read, and would report zeros; the few that matter are
 * taken from `Deno.memoryUsage()` instead.
 *
 * Two kinds of figure live here. Latencies and per-call figures are recorded as they happen
 * (`firstText`, `replyDone`, `brokerEvent`); running totals that other parts of the bot already
 * keep (the broker's stats, the supervisor's counts, the token pool) are read at scrape time
 * through {@link MetricsSources}, so there is one source of truth for each.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BrokerEvent, BrokerStats, Prices } from "./broker_port.ts";
import type { Usage } from "./gemini.ts";
import { pacificDayKey } from "./pacific_day.ts";
import { percentile } from "./percentiles.ts";
import type { StoreHealth } from "./retrying_store.ts";
import type { KeyStatus } from "./token_pool.ts";

/** Re-exported because this module's public types are built on them. */
export type { BrokerEvent, BrokerStats, KeyStatus, Prices, StoreHealth, Usage };

/** The prom-client registry that holds the bot's metrics. */
export type MetricsRegistry = Registry;

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
}

/** Options for {@linkcode BotMetrics}. */
export interface BotMetricsOptions {
  /** For today's cost estimate. @default { input: 0.3, output: 2.5, cached: 0.03 } */
  prices?: Prices;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

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
}

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

const HOUR_MS = 3_600_000;
const SLOT_MS = 5 * 60_000;
const DEFAULT_PRICES: Prices = { input: 0.3, output: 2.5, cached: 0.03 };

/**
 * Estimated USD cost of one call: uncached input at the input price, cached input at the cached
 * price, output and thinking tokens at the output price.
 *
 * @example
 * ```ts
 * import { costUsd } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const usage = { promptTokens: 1_000_000, cachedTokens: 0, outputTokens: 0, thinkingTokens: 0 };
 * assert.equal(costUsd(usage, { input: 0.3, output: 2.5, cached: 0.03 }), 0.3);
 * ```
 */
export function costUsd(usage: Usage, prices: Prices): number {
  return ((usage.promptTokens - usage.cachedTokens) * prices.input +
    usage.cachedTokens * prices.cached +
    (usage.outputTokens + usage.thinkingTokens) * prices.output) / 1e6;
}

/**
 * Timed latency samples over the last hour, for percentiles and the status page's chart.
 *
 * @example
 * ```ts
 * import { LatencySeries } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const series = new LatencySeries();
 * series.add(120, 1_000);
 * assert.equal(series.summary(2_000).p50, 120);
 * ```
 */
export class LatencySeries {
  /** The most samples kept; past it, the oldest are dropped. */
  readonly maxSamples: number;
  #samples: { at: number; ms: number }[] = [];

  /**
   * Makes an empty series.
   *
   * @param maxSamples The most samples kept; the oldest go first.
   */
  constructor(maxSamples = 4096) {
    this.maxSamples = maxSamples;
  }

  /** Records a latency of `ms` milliseconds observed at `at` (epoch ms). */
  add(ms: number, at: number): void {
    this.#samples.push({ at, ms });
    if (this.#samples.length > this.maxSamples) this.#samples.shift();
  }

  /** p50, p90 and p99 of the last hour. */
  summary(now: number): LatencySummary {
    const values = this.#recent(now).map((s) => s.ms);
    return summarize(values);
  }

  /** The last hour in `slotMs` slots, oldest first; empty slots have NaN percentiles. */
  slots(now: number, slotMs = SLOT_MS): LatencySlot[] {
    const count = Math.ceil(HOUR_MS / slotMs);
    const firstStart = Math.floor(now / slotMs) * slotMs - (count - 1) * slotMs;
    const values: number[][] = Array.from({ length: count }, () => []);
    for (const sample of this.#recent(now)) {
      const index = Math.floor((sample.at - firstStart) / slotMs);
      if (index >= 0 && index < count) values[index].push(sample.ms);
    }
    return values.map((v, i) => ({ start: firstStart + i * slotMs, ...summarize(v) }));
  }

  #recent(now: number): { at: number; ms: number }[] {
    while (this.#samples.length > 0 && this.#samples[0].at < now - HOUR_MS) this.#samples.shift();
    return this.#samples;
  }
}

function summarize(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    count: sorted.length,
  };
}

/**
 * The bot's metrics: a Prometheus registry plus the hour of latencies the status page charts.
 *
 * @example
 * ```ts
 * import { BotMetrics } from "./metrics.ts";
 *
 * const metrics = new BotMetrics();
 * metrics.messageReceived();
 * metrics.firstText(850);
 * const text = await metrics.render(); // Prometheus text format
 * ```
 */
export class BotMetrics {
  /** The Prometheus registry; `render()` serialises it. */
  readonly registry: MetricsRegistry = new Registry();
  /** Epoch ms the metrics were created, about when the bot started. */
  readonly startedAt: number;
  #now: () => number;
  #prices: Prices;
  #sources: MetricsSources | undefined;
  #firstText = new LatencySeries();
  #complete = new LatencySeries();
  #geminiCall = new LatencySeries();
  #today: DayTotals;
  #messageCount = 0;
  #messages: Counter<string>;
  #firstTextSeconds: Histogram<string>;
  #replySeconds: Histogram<"outcome">;
  #geminiSeconds: Histogram<string>;
  #queueSeconds: Histogram<string>;
  #retries: Counter<"reason">;
  #events: Counter<"type">;

  /** Makes the metrics and registers them all; scrape-time figures read zero until `watch`. */
  constructor(options: BotMetricsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#prices = options.prices ?? DEFAULT_PRICES;
    this.startedAt = this.#now();
    this.#today = emptyDay(pacificDayKey(this.startedAt));
    const registers = [this.registry];
    this.#messages = new Counter({
      name: "soyebot_messages_total",
      help: "Messages the bot set out to answer (mentions and replies that passed the rate limit).",
      registers,
    });
    const messageBuckets = [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];
    this.#firstTextSeconds = new Histogram({
      name: "soyebot_message_first_text_seconds",
      help: "From MESSAGE_CREATE to the first visible text of the answer.",
      buckets: messageBuckets,
      registers,
    });
    this.#replySeconds = new Histogram({
      name: "soyebot_message_reply_seconds",
      help: "From MESSAGE_CREATE to the complete reply (or the failure notice), by outcome.",
      labelNames: ["outcome"],
      buckets: messageBuckets,
      registers,
    });
    this.#geminiSeconds = new Histogram({
      name: "soyebot_gemini_call_seconds",
      help: "Duration of successful Gemini calls (one attempt, streaming included).",
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
      registers,
    });
    this.#queueSeconds = new Histogram({
      name: "soyebot_gemini_queue_wait_seconds",
      help: "Time a successful Gemini call waited in the broker's queue, retries included.",
      buckets: [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.#retries = new Counter({
      name: "soyebot_gemini_retries_total",
      help: "Gemini calls retried, by reason (429, an HTTP status, or network).",
      labelNames: ["reason"],
      registers,
    });
    this.#events = new Counter({
      name: "soyebot_gemini_events_total",
      help: "Other broker events: keys rejected, persona caches created and cache fallbacks.",
      labelNames: ["type"],
      registers,
    });
    this.#registerScraped();
  }

  /** Connects the scrape-time figures; until then they read as zero. */
  watch(sources: MetricsSources): void {
    this.#sources = sources;
  }

  /** A message the bot will answer arrived. */
  messageReceived(): void {
    this.#messages.inc();
    this.#messageCount++;
  }

  /** The answer's first text became visible `ms` after the message arrived. */
  firstText(ms: number): void {
    this.#firstTextSeconds.observe(ms / 1000);
    this.#firstText.add(ms, this.#now());
  }

  /** The reply is complete (`ok`) or ended in a failure notice, `ms` after the message arrived. */
  replyDone(ms: number, outcome: "ok" | "failed"): void {
    this.#replySeconds.observe({ outcome }, ms / 1000);
    if (outcome === "ok") this.#complete.add(ms, this.#now());
  }

  /** Records what the broker reports. */
  brokerEvent(event: BrokerEvent): void {
    switch (event.type) {
      case "call": {
        this.#geminiSeconds.observe(event.ms / 1000);
        this.#queueSeconds.observe(event.queueMs / 1000);
        this.#geminiCall.add(event.ms, this.#now());
        this.#addToday(event.usage);
        break;
      }
      case "retry":
        this.#retries.inc({ reason: event.why });
        break;
      case "rate_limited":
        break; // counted from the broker's stats, so a scrape never double counts
      default:
        this.#events.inc({ type: event.type });
    }
  }

  /** First visible text over the last hour. */
  firstTextLatency(): LatencySummary {
    return this.#firstText.summary(this.#now());
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The status page's figures. */
  snapshot(): StatusSnapshot {
    const now = this.#now();
    const sources = this.#sources;
    const stats = sources?.brokerStats();
    this.#rollDay(now);
    return {
      now,
      startedAt: this.startedAt,
      gatewayConnected: sources?.gatewayConnected() ?? false,
      liveSessions: sources?.liveSessions() ?? 0,
      queueDepth: sources?.queueDepth() ?? 0,
      activeCalls: sources?.activeCalls() ?? 0,
      keys: sources?.keys(now) ?? [],
      firstText: this.#firstText.summary(now),
      complete: this.#complete.summary(now),
      geminiCall: this.#geminiCall.summary(now),
      chart: this.#firstText.slots(now),
      today: { ...this.#today },
      messages: this.#messageCount,
      retries: stats?.retries ?? 0,
      rateLimitedMinute: stats?.rateLimitedMinute ?? 0,
      rateLimitedDay: stats?.rateLimitedDay ?? 0,
      discordRateLimited: sources?.discordRateLimited() ?? 0,
      sessions: {
        ...(sources?.sessionCounts() ?? { evicted: 0, reaped: 0, restarted: 0, crashed: 0 }),
      },
    };
  }

  #rollDay(now: number): void {
    const day = pacificDayKey(now);
    if (this.#today.day !== day) this.#today = emptyDay(day);
  }

  #addToday(usage: Usage): void {
    this.#rollDay(this.#now());
    const today = this.#today;
    today.calls++;
    today.tokensIn += usage.promptTokens;
    today.tokensOut += usage.outputTokens;
    today.tokensCached += usage.cachedTokens;
    today.tokensThinking += usage.thinkingTokens;
    today.costUsd += costUsd(usage, this.#prices);
  }

  /** Figures read from the rest of the bot when Prometheus scrapes. */
  #registerScraped(): void {
    const registers = [this.registry];
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
    const source = () => this.#sources;
    const stats = () => source()?.brokerStats();
    const counts = () => source()?.sessionCounts();
    const store = () => source()?.storeHealth();
    const keys = () => source()?.keys(this.#now()) ?? [];
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
    }).set(Math.floor(this.startedAt / 1000));
  }
}

/** One sample of a scraped metric: its labels and its value. */
type Sample = [labels: Record<string, string>, value: number];

/** Reads a scraped metric's samples. */
type Read = () => Sample[];

function emptyDay(day: string): DayTotals {
  return {
    day,
    calls: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    tokensThinking: 0,
    costUsd: 0,
  };
}
