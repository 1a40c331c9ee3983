/**
 * GeminiBroker: the one actor every Gemini call goes through.
 *
 * Calls wait in a priority queue (chat before summaries, oldest first), take room from the
 * {@link TokenPool} on a key that has it, run at most `maxConcurrency` at a time, and are retried
 * with exponential backoff that honours the server's `RetryInfo`. A caller learns how long it
 * waits through `onWait`, and the answer's text as it streams through `onText`. The broker never
 * throws at a caller: every request resolves with a {@link BrokerResult}.
 *
 * @module
 */
import { backoffDelay } from "../lib/backoff.ts";
import { type Clock, systemClock, type TimerId } from "../lib/clock.ts";
import { type Content, type GeminiClient, GeminiTimeoutError, type Usage } from "../lib/gemini.ts";
import { classifyGeminiError } from "../lib/gemini_errors.ts";
import { nextPacificMidnight } from "../lib/pacific_day.ts";
import type { Reservation, TokenPool } from "../lib/token_pool.ts";

/** Chat is answered before summaries. */
export type Priority = "chat" | "summary";

/** One call for the broker to make. */
export interface BrokerRequest {
  priority: Priority;
  contents: Content[];
  /** Overrides the persona (summaries use their own instruction). */
  systemInstruction?: string;
  maxOutputTokens?: number;
  /** The whole answer so far, each time a chunk arrives. */
  onText?(textSoFar: string): void;
  /**
   * When the call must wait at least `countdownThresholdMs` before it can start: the epoch ms at
   * which it expects to start. Called again when that estimate moves, and with `undefined` when
   * the call starts.
   */
  onWait?(startsAt: number | undefined): void;
}

/** Why a call got no answer. */
export type BrokerFailure =
  /** Every key's daily quota is spent; `retryAt` is the next reset. */
  | "day_quota"
  /** Gemini refused the prompt or the answer (safety, recitation). */
  | "blocked"
  /** The stream broke after text was shown; `partialText` is what was shown. */
  | "interrupted"
  /** Retries ran out (rate limits, 5xx, timeouts). */
  | "unavailable"
  /** The request or the key was refused (400, 401, 403, 404): retrying would not help. */
  | "rejected"
  /** The broker is stopping. */
  | "stopped";

/** How a call ended. */
export type BrokerResult =
  | { ok: true; text: string; usage: Usage; attempts: number }
  | { ok: false; reason: BrokerFailure; partialText?: string; retryAt?: number; status?: number };

/** A thing worth a log line. Keys appear only as their ids. */
export type BrokerEvent =
  | { type: "retry"; keyId: string; attempt: number; delayMs: number; why: string }
  | { type: "rate_limited"; keyId: string; scope: "minute" | "day" }
  | { type: "key_rejected"; keyId: string; status: number }
  | { type: "cache_created"; keyId: string; tokens: number }
  | { type: "cache_fallback"; keyId: string; why: string }
  | { type: "call"; keyId: string; ms: number; usage: Usage; queueMs: number };

/** Running totals, read by metrics and `/status`. */
export interface BrokerStats {
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  rateLimitedMinute: number;
  rateLimitedDay: number;
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
  tokensThinking: number;
  costUsd: number;
}

/** Prices in USD per million tokens, for the cost estimate. */
export interface Prices {
  input: number;
  output: number;
  cached: number;
}

/** The broker's policy. */
export interface GeminiBrokerOptions {
  client: GeminiClient;
  pool: TokenPool;
  model: string;
  /** The persona, sent as the system instruction (or through the context cache). */
  systemInstruction: string;
  /** @default 10 */
  maxConcurrency?: number;
  /** @default 5 */
  maxAttempts?: number;
  /** Each call's deadline. @default 30000 */
  timeoutMs?: number;
  /** @default 0 */
  thinkingBudget?: number;
  /** Cache the persona through `cachedContents`. @default true */
  contextCache?: boolean;
  /** @default 3600 */
  cacheTtlSeconds?: number;
  /** @default 5000 */
  countdownThresholdMs?: number;
  /** @default { input: 0.3, output: 2.5, cached: 0.03 } (gemini-2.5-flash, USD) */
  prices?: Prices;
  clock?: Clock;
  random?: () => number;
  onEvent?(event: BrokerEvent): void;
}

interface Job {
  request: BrokerRequest;
  seq: number;
  enqueuedAt: number;
  notBefore: number;
  attempts: number;
  announced: number | undefined;
  resolve(result: BrokerResult): void;
}

type CacheEntry =
  | { state: "ready"; name: string; expiresAt: number }
  | { state: "pending" }
  | { state: "unsupported"; until: number };

const CACHE_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Estimates input tokens before the call, for the reservation: about 4 characters a token for
 * ASCII and 1.5 for other scripts (Korean runs near that); `usageMetadata` corrects it afterwards.
 */
export function estimateTokens(contents: readonly Content[], systemInstruction = ""): number {
  let ascii = 0;
  let other = 0;
  const count = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) < 128) ascii++;
      else other++;
    }
  };
  count(systemInstruction);
  for (const content of contents) {
    for (const part of content.parts) if ("text" in part && part.text) count(part.text);
  }
  return Math.ceil(ascii / 4 + other / 1.5) + 4 * contents.length;
}

/**
 * The shared Gemini broker.
 *
 * @example
 * ```ts
 * const broker = new GeminiBroker({ client, pool, model: "gemini-2.5-flash", systemInstruction });
 * const result = await broker.generate({ priority: "chat", contents });
 * ```
 */
export class GeminiBroker {
  #options: GeminiBrokerOptions;
  #clock: Clock;
  #queue: Job[] = [];
  #active = 0;
  #seq = 0;
  #timer: TimerId | undefined;
  #timerAt = Infinity;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  #cache = new Map<string, CacheEntry>();
  #stats: BrokerStats = {
    calls: 0,
    succeeded: 0,
    failed: 0,
    retries: 0,
    rateLimitedMinute: 0,
    rateLimitedDay: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    tokensThinking: 0,
    costUsd: 0,
  };

  constructor(options: GeminiBrokerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Calls waiting for their turn. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Calls running now. */
  get active(): number {
    return this.#active;
  }

  /** Running totals. */
  get stats(): Readonly<BrokerStats> {
    return this.#stats;
  }

  /** Queues a call; resolves when it is answered or has failed for good. */
  generate(request: BrokerRequest): Promise<BrokerResult> {
    if (this.#stopped) return Promise.resolve({ ok: false, reason: "stopped" });
    const { promise, resolve } = Promise.withResolvers<BrokerResult>();
    const now = this.#clock.now();
    this.#queue.push({
      request,
      seq: this.#seq++,
      enqueuedAt: now,
      notBefore: now,
      attempts: 0,
      announced: undefined,
      resolve,
    });
    this.#pump();
    return promise;
  }

  /** Fails queued calls and waits for running ones. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    for (const job of this.#queue.splice(0)) job.resolve({ ok: false, reason: "stopped" });
    if (this.#active > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      await promise;
    }
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    while (this.#active < (this.#options.maxConcurrency ?? 10)) {
      const job = this.#nextReady(now);
      if (!job) break;
      const estimate = estimateTokens(job.request.contents, this.#instructionFor(job.request));
      const room = this.#options.pool.reserve(estimate, now);
      if (!room.ok) {
        if (room.dayExhausted) {
          this.#remove(job);
          this.#finish(job, { ok: false, reason: "day_quota", retryAt: nextPacificMidnight(now) });
          continue;
        }
        this.#announceWaits(now, now + room.waitMs);
        this.#wakeAt(now + room.waitMs);
        return;
      }
      this.#remove(job);
      this.#active++;
      void this.#run(job, room.reservation);
    }
    this.#announceWaits(now, now);
    const soonest = Math.min(...this.#queue.map((j) => j.notBefore));
    if (this.#queue.length > 0 && soonest > now) this.#wakeAt(soonest);
  }

  /** The highest-priority, oldest job that may start now. */
  #nextReady(now: number): Job | undefined {
    let best: Job | undefined;
    for (const job of this.#queue) {
      if (job.notBefore > now) continue;
      if (!best || rank(job) < rank(best) || (rank(job) === rank(best) && job.seq < best.seq)) {
        best = job;
      }
    }
    return best;
  }

  #remove(job: Job): void {
    this.#queue.splice(this.#queue.indexOf(job), 1);
  }

  #wakeAt(at: number): void {
    if (at >= this.#timerAt) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timerAt = Infinity;
      this.#timer = undefined;
      this.#pump();
    }, Math.max(0, at - this.#clock.now()));
  }

  /** Tells waiting callers when they expect to start, if that is far enough off to mention. */
  #announceWaits(now: number, poolReadyAt: number): void {
    const threshold = this.#options.countdownThresholdMs ?? 5000;
    for (const job of this.#queue) {
      const startsAt = Math.max(job.notBefore, poolReadyAt);
      if (startsAt - now < threshold) continue;
      // Only a real change is worth an edit: the caller counts down on its own between them.
      if (job.announced !== undefined && Math.abs(job.announced - startsAt) < 1000) continue;
      job.announced = startsAt;
      job.request.onWait?.(startsAt);
    }
  }

  async #run(job: Job, reservation: Reservation): Promise<void> {
    const startedAt = this.#clock.now();
    if (job.announced !== undefined) {
      job.announced = undefined;
      job.request.onWait?.(undefined);
    }
    job.attempts++;
    this.#stats.calls++;
    let streamed = "";
    const instruction = this.#instructionFor(job.request);
    const cacheName = instruction === this.#options.systemInstruction
      ? this.#cachedPrompt(reservation, startedAt)
      : undefined;
    try {
      const result = await this.#options.client.generate({
        apiKey: reservation.key,
        model: this.#options.model,
        contents: job.request.contents,
        systemInstruction: instruction,
        cachedContent: cacheName,
        thinkingBudget: this.#options.thinkingBudget ?? 0,
        maxOutputTokens: job.request.maxOutputTokens,
        deadlineMs: this.#options.timeoutMs ?? 30_000,
        onText: (text) => {
          streamed = text;
          job.request.onText?.(text);
        },
      });
      const now = this.#clock.now();
      this.#options.pool.settle(reservation, result.usage.promptTokens, now);
      this.#options.pool.report(reservation.keyId, true, now);
      this.#account(result.usage);
      this.#stats.succeeded++;
      this.#options.onEvent?.({
        type: "call",
        keyId: reservation.keyId,
        ms: now - startedAt,
        usage: result.usage,
        queueMs: startedAt - job.enqueuedAt,
      });
      this.#finish(job, {
        ok: true,
        text: result.text,
        usage: result.usage,
        attempts: job.attempts,
      });
    } catch (error) {
      this.#failed(job, reservation, error, streamed, cacheName);
    } finally {
      this.#active--;
      if (this.#active === 0) { for (const wake of this.#idleWaiters.splice(0)) wake(); }
      this.#pump();
    }
  }

  #failed(
    job: Job,
    reservation: Reservation,
    error: unknown,
    streamed: string,
    cacheName?: string,
  ) {
    const now = this.#clock.now();
    const keyId = reservation.keyId;
    const failure = error instanceof GeminiTimeoutError
      ? { kind: "transient" as const }
      : classifyGeminiError(error);
    if (streamed.length > 0) {
      // Text is already on screen: a retry would show a different answer under it.
      this.#options.pool.report(keyId, false, now);
      return this.#finish(job, { ok: false, reason: "interrupted", partialText: streamed });
    }
    if (
      cacheName && failure.kind === "fatal" &&
      (failure.status === 403 || failure.status === 404)
    ) {
      // The cache expired or vanished: drop it and try again at once, uncharged.
      this.#cache.delete(keyId);
      job.attempts--;
      return this.#requeue(job, now);
    }
    switch (failure.kind) {
      case "blocked":
        return this.#finish(job, { ok: false, reason: "blocked" });
      case "fatal":
        if (failure.reason === "unauthorized" || failure.reason === "forbidden") {
          // A bad key: keep it out of use for an hour and let the call try another key.
          this.#options.onEvent?.({ type: "key_rejected", keyId, status: failure.status });
          this.#options.pool.park(keyId, now + 3_600_000);
          if (job.attempts < this.#maxAttempts()) return this.#requeue(job, now);
        }
        return this.#finish(job, { ok: false, reason: "rejected", status: failure.status });
      case "rate_limit":
        if (failure.scope === "day") {
          this.#stats.rateLimitedDay++;
          this.#options.onEvent?.({ type: "rate_limited", keyId, scope: "day" });
          this.#options.pool.exhaustDay(keyId, now);
          job.attempts--; // not this call's fault: move it to another key, or report the day spent
          return this.#requeue(job, now);
        }
        this.#stats.rateLimitedMinute++;
        this.#options.onEvent?.({ type: "rate_limited", keyId, scope: "minute" });
        return this.#retry(job, keyId, failure.retryAfterMs, "429", now, true);
      case "transient":
        this.#options.pool.report(keyId, false, now);
        return this.#retry(
          job,
          keyId,
          failure.retryAfterMs,
          String(failure.status ?? "network"),
          now,
          false,
        );
    }
  }

  #retry(
    job: Job,
    keyId: string,
    retryAfterMs: number | undefined,
    why: string,
    now: number,
    park: boolean,
  ) {
    if (job.attempts >= this.#maxAttempts()) {
      return this.#finish(job, { ok: false, reason: "unavailable" });
    }
    const backoff = backoffDelay(job.attempts - 1, { random: this.#options.random });
    // The server's RetryInfo knows best; backoff is the fallback.
    const delayMs = retryAfterMs ?? backoff;
    if (park) this.#options.pool.park(keyId, now + delayMs);
    this.#stats.retries++;
    this.#options.onEvent?.({ type: "retry", keyId, attempt: job.attempts, delayMs, why });
    job.notBefore = now + delayMs;
    this.#requeue(job, now);
  }

  #requeue(job: Job, _now: number): void {
    this.#queue.push(job);
  }

  #finish(job: Job, result: BrokerResult): void {
    if (!result.ok) this.#stats.failed++;
    if (job.announced !== undefined) job.request.onWait?.(undefined);
    job.resolve(result);
  }

  #maxAttempts(): number {
    return this.#options.maxAttempts ?? 5;
  }

  #instructionFor(request: BrokerRequest): string {
    return request.systemInstruction ?? this.#options.systemInstruction;
  }

  #account(usage: Usage): void {
    const prices = this.#options.prices ?? { input: 0.3, output: 2.5, cached: 0.03 };
    this.#stats.tokensIn += usage.promptTokens;
    this.#stats.tokensOut += usage.outputTokens;
    this.#stats.tokensCached += usage.cachedTokens;
    this.#stats.tokensThinking += usage.thinkingTokens;
    this.#stats.costUsd += ((usage.promptTokens - usage.cachedTokens) * prices.input +
      usage.cachedTokens * prices.cached +
      (usage.outputTokens + usage.thinkingTokens) * prices.output) / 1e6;
  }

  /** The cache name to use for this key now, starting or refreshing the cache in the background. */
  #cachedPrompt(reservation: Reservation, now: number): string | undefined {
    if (this.#options.contextCache === false) return undefined;
    const entry = this.#cache.get(reservation.keyId);
    if (entry?.state === "ready" && entry.expiresAt - now > CACHE_REFRESH_MARGIN_MS) {
      return entry.name;
    }
    if (entry?.state === "pending") return undefined;
    if (entry?.state === "unsupported" && entry.until > now) return undefined;
    const usable = entry?.state === "ready" && entry.expiresAt > now + 10_000
      ? entry.name
      : undefined;
    this.#cache.set(reservation.keyId, { state: "pending" });
    const ttlSeconds = this.#options.cacheTtlSeconds ?? 3600;
    this.#options.client.cacheSystemInstruction({
      apiKey: reservation.key,
      model: this.#options.model,
      systemInstruction: this.#options.systemInstruction,
      ttlSeconds,
    }).then((cache) => {
      this.#cache.set(reservation.keyId, {
        state: "ready",
        name: cache.name,
        expiresAt: cache.expiresAt,
      });
      this.#options.onEvent?.({
        type: "cache_created",
        keyId: reservation.keyId,
        tokens: cache.tokens,
      });
    }, (error) => {
      const hadOne = entry !== undefined;
      // Too small or unsupported: plain calls work as well, so fall back quietly; ask again later.
      this.#cache.set(reservation.keyId, {
        state: "unsupported",
        until: this.#clock.now() + ttlSeconds * 1000,
      });
      if (!hadOne) {
        const why = error instanceof Error ? error.message.slice(0, 200) : String(error);
        this.#options.onEvent?.({ type: "cache_fallback", keyId: reservation.keyId, why });
      }
    });
    return usable;
  }
}

function rank(job: Job): number {
  return job.request.priority === "chat" ? 0 : 1;
}
