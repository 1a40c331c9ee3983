/**
 * Metrics: what `/metrics` exposes to Prometheus and what the status page shows.
 *
 * The exposition format comes from `prom-client`, which runs under Deno with the bot's narrow
 * permissions (it needs none for its registry).
 *
 * Two kinds of figure live here. Latencies and per-call figures are recorded as they happen
 * (`firstText`, `replyDone`, `brokerEvent`), into histograms, the hour's latency windows
 * (`lib/ops/latency_summary.ts`) and the day's totals (`lib/ops/day_totals.ts`); running totals that
 * other parts of the bot already keep are read at scrape time (`lib/ops/scraped_metrics.ts`), so
 * there is one source of truth for each.
 *
 * @module
 */
import { Counter, Histogram, Registry } from "prom-client";
import { type BrokerEvent, type BrokerStats, DEFAULT_PRICES, type Prices } from "../broker/mod.ts";
import { addToDay, dayAt, type DayTotals } from "./day_totals.ts";
import type { Usage } from "../gemini/mod.ts";
import {
  hourWindow,
  type LatencySlot,
  latencySlots,
  type LatencySummary,
  latencySummary,
  type LatencyWindow,
} from "./latency_summary.ts";
import type { BrokerFigures, KeyFigures, MetricsSources } from "./metrics_sources.ts";
import type { StoreHealth } from "../store/mod.ts";
import { type MetricsRegistry, registerScrapedMetrics } from "./scraped_metrics.ts";
import type { StatusSnapshot } from "./status_snapshot.ts";
import type { KeyStatus } from "../quota/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerFailure } from "../broker/port.ts";
export type { KeyBudget } from "../quota/token_pool.ts";

/** Re-exported because this module's public types are built on them. */
export type {
  BrokerEvent,
  BrokerFigures,
  BrokerStats,
  DayTotals,
  KeyFigures,
  KeyStatus,
  LatencySlot,
  LatencySummary,
  MetricsRegistry,
  MetricsSources,
  Prices,
  StatusSnapshot,
  StoreHealth,
  Usage,
};

/** Options for {@linkcode BotMetrics}. */
export interface BotMetricsOptions {
  /** For today's cost estimate. @default DEFAULT_PRICES */
  prices?: Prices;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
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
  #firstText = hourWindow();
  #complete = hourWindow();
  #geminiCall = hourWindow();
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
    this.#today = dayAt(undefined, this.startedAt);
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
    registerScrapedMetrics(this.registry, {
      sources: () => this.#sources,
      now: this.#now,
      startedAt: this.startedAt,
    });
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
    addLatency(this.#firstText, ms, this.#now());
  }

  /** The reply is complete (`ok`) or ended in a failure notice, `ms` after the message arrived. */
  replyDone(ms: number, outcome: "ok" | "failed"): void {
    this.#replySeconds.observe({ outcome }, ms / 1000);
    if (outcome === "ok") addLatency(this.#complete, ms, this.#now());
  }

  /** Records what the broker reports. */
  brokerEvent(event: BrokerEvent): void {
    switch (event.type) {
      case "call": {
        this.#geminiSeconds.observe(event.ms / 1000);
        this.#queueSeconds.observe(event.queueMs / 1000);
        const now = this.#now();
        addLatency(this.#geminiCall, event.ms, now);
        this.#today = addToDay(
          dayAt(this.#today, now),
          event.usage,
          this.#prices,
          event.searchQueries,
        );
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
    return latencySummary(this.#firstText, this.#now());
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Today's totals (the Pacific day): calls, tokens, cost, Google searches. */
  today(): DayTotals {
    this.#today = dayAt(this.#today, this.#now());
    return { ...this.#today };
  }

  /** The status page's figures. */
  snapshot(): StatusSnapshot {
    const now = this.#now();
    const sources = this.#sources;
    const stats = sources?.brokerStats();
    this.#today = dayAt(this.#today, now);
    return {
      now,
      startedAt: this.startedAt,
      gatewayConnected: sources?.gatewayConnected() ?? false,
      liveSessions: sources?.liveSessions() ?? 0,
      queueDepth: sources?.queueDepth() ?? 0,
      activeCalls: sources?.activeCalls() ?? 0,
      keys: sources?.keys(now) ?? [],
      firstText: latencySummary(this.#firstText, now),
      complete: latencySummary(this.#complete, now),
      geminiCall: latencySummary(this.#geminiCall, now),
      chart: latencySlots(this.#firstText, now),
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
}

/**
 * Records a latency for the status page. A clock that stepped back gives a negative duration:
 * it counts as 0 rather than throwing at the message path.
 */
function addLatency(window: LatencyWindow, ms: number, now: number): void {
  if (Number.isFinite(ms)) window.add(Math.max(0, ms), now);
}
