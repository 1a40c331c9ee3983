/**
 * GeminiBroker: the one actor every Gemini call goes through. It never throws at a caller: every
 * request resolves with a {@link BrokerResult}.
 *
 * It composes the broker's parts and holds the state they share: the scheduler
 * (`lib/broker/scheduler.ts`: priority queue, concurrency cap, the pool's room, wait notices, the
 * `maxWaitMs` bound), one attempt (`lib/broker/attempt.ts`: the call cut after `timeoutMs` of
 * silence, usage and cost), the failure rules (`lib/broker/failure_rules.ts`: retry with backoff
 * that honours `RetryInfo`, rest or spend a key, drop the cache, or give up), the key checks
 * (`lib/broker/keys.ts`) and the persona's context cache (`lib/broker/persona_cache.ts`).
 *
 * @module
 */
import { backoffDelay } from "../lib/backoff.ts";
import { type AttemptContext, type AttemptEnd, runAttempt } from "../lib/broker/attempt.ts";
import type { BrokerContext } from "../lib/broker/context.ts";
import { BrokerKeys } from "../lib/broker/keys.ts";
import { type BrokerSettings, brokerSettings, GeminiBrokerOptions } from "../lib/broker/options.ts";
import { endWait, type Job, newJob } from "../lib/broker/queue.ts";
import { BrokerScheduler, type LateReason } from "../lib/broker/scheduler.ts";
import { countEnd, emptyBrokerStats } from "../lib/broker/stats.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { nextPacificMidnight } from "../lib/pacific_day.ts";
import { LatencyWindow } from "../lib/percentiles.ts";
import { PersonaCache } from "../lib/broker/persona_cache.ts";
import { estimateTokens } from "../lib/broker/token_estimate.ts";
import type { Reservation } from "../lib/quota/token_pool.ts";
import type { BrokerRequest, BrokerResult, BrokerStats, KeyCheck } from "../lib/broker/port.ts";

/** Re-exported: the broker's contract is declared in lib, where the message flow reads it. */
export type * from "../lib/broker/port.ts";
/** Re-exported: the broker's options are declared beside their defaults. */
export type * from "../lib/broker/options.ts";
/** Re-exported: the window `queueWait` returns. */
export type { LatencyWindow };

/** How long `stop()` lets running calls finish before aborting them. */
const STOP_GRACE_MS = 5000;

/**
 * The shared Gemini broker.
 *
 * @example
 * ```ts ignore
 * const broker = new GeminiBroker({ client, pool, model: "gemini-2.5-flash", systemInstruction });
 * for (const check of await broker.verifyKeys()) if (!check.ok) console.error(check.message);
 * const result = await broker.generate({ priority: "chat", contents });
 * ```
 */
export class GeminiBroker {
  #options: GeminiBrokerOptions;
  #settings: BrokerSettings;
  #clock: Clock;
  #scheduler: BrokerScheduler;
  #keys: BrokerKeys;
  #cache: PersonaCache | undefined;
  #attempt: AttemptContext;
  #seq = 0;
  #stopped = false;
  #inflight = new Set<AbortController>();
  #queueWait = new LatencyWindow();
  #stats: BrokerStats = emptyBrokerStats();

  /**
   * Makes a broker; throws a RangeError when `maxConcurrency` is not a positive integer or
   * `maxWaitMs` is not positive.
   */
  constructor(options: GeminiBrokerOptions) {
    const settings = this.#settings = brokerSettings(options);
    this.#options = options;
    const clock = this.#clock = options.clock ?? systemClock;
    const { client, pool, model, systemInstruction, onEvent } = options;
    const context: BrokerContext = {
      client,
      pool,
      clock,
      model,
      systemInstruction,
      settings,
      stats: this.#stats,
      onEvent,
    };
    this.#scheduler = new BrokerScheduler(context, {
      start: (job, reservation) => void this.#run(job, reservation),
      late: (job, reason, now) => this.#late(job, reason, now),
    });
    // Requests waiting for a key learn, after each check, whether it is back or when it is next.
    this.#keys = new BrokerKeys(context, () => this.#scheduler.pump());
    this.#cache = settings.contextCache ? new PersonaCache(context) : undefined;
    this.#attempt = {
      ...context,
      cache: this.#cache,
      inflight: this.#inflight,
      stopped: () => this.#stopped,
    };
  }

  /** Calls waiting for their turn. */
  get queueLength(): number {
    return this.#scheduler.length;
  }

  /** Calls running now. */
  get active(): number {
    return this.#scheduler.active;
  }

  /** Running totals (see {@link BrokerStats} for each field). */
  get stats(): Readonly<BrokerStats> {
    return this.#stats;
  }

  /**
   * Milliseconds each request waited in the queue before its first attempt started, over the
   * last hour (the latest 2,048): `queueWait.percentiles(Date.now(), [50, 99])`.
   */
  get queueWait(): LatencyWindow {
    return this.#queueWait;
  }

  /**
   * Checks every key with a cheap `countTokens` of the persona, which also measures the
   * persona's size (`stats.personaTokens`). Keys the server refuses are taken out of use; the
   * caller should log each failed check, which names the key by id only. Starts the persona
   * cache on the keys that work.
   */
  verifyKeys(): Promise<KeyCheck[]> {
    return this.#keys.verify((keyId, key) => this.#cache?.start(keyId, key, this.#clock.now()));
  }

  /** Queues a call; resolves when it is answered or has failed for good. */
  generate(request: BrokerRequest): Promise<BrokerResult> {
    if (this.#stopped) return Promise.resolve({ ok: false, reason: "stopped" });
    this.#stats.requests++;
    const { promise, resolve } = Promise.withResolvers<BrokerResult>();
    const now = this.#clock.now();
    const instruction = request.systemInstruction ?? this.#options.systemInstruction;
    const job = newJob(request, {
      seq: this.#seq++,
      now,
      maxWaitMs: this.#settings.maxWaitMs,
      estimate: estimateTokens(request.contents, instruction),
      resolve,
    });
    this.#enqueue(job);
    // A cancelled request that is still waiting leaves the queue now; a running one is aborted
    // by its attempt (`runAttempt`), which ends it "cancelled".
    const onCancel = () => {
      if (this.#scheduler.remove(job)) this.#finish(job, { ok: false, reason: "cancelled" });
    };
    if (request.signal?.aborted) onCancel();
    else request.signal?.addEventListener("abort", onCancel, { once: true });
    this.#scheduler.pump();
    return request.signal
      ? promise.finally(() => request.signal?.removeEventListener("abort", onCancel))
      : promise;
  }

  /**
   * Fails queued calls, lets running ones finish for up to `graceMs`, then aborts them, and
   * resolves when none is left.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    this.#cache?.stop();
    const waiting = this.#scheduler.stop();
    const keyChecks = this.#keys.stop();
    for (const job of waiting) this.#finish(job, { ok: false, reason: "stopped" });
    if (this.#scheduler.active > 0) {
      const idle = this.#scheduler.idle();
      const grace = setTimeout(() => {
        for (const abort of this.#inflight) abort.abort(new Error("GeminiBroker stopped"));
      }, graceMs);
      try {
        await idle;
      } finally {
        clearTimeout(grace);
      }
    }
    // A key check is one countTokens under its own deadline: let it end, so nothing is left open.
    await keyChecks;
  }

  /** Puts a job back in the queue, or ends it "stopped" when the broker is stopping. */
  #enqueue(job: Job): void {
    if (this.#stopped) return this.#finish(job, { ok: false, reason: "stopped" });
    this.#scheduler.enqueue(job);
  }

  /** Ends a job that cannot start before its deadline, with the notice the pool's state gives. */
  #late(job: Job, reason: LateReason, now: number): void {
    if (reason === "day_quota") {
      this.#finish(job, { ok: false, reason: "day_quota", retryAt: nextPacificMidnight(now) });
    } else if (reason === "rejected") {
      this.#finish(job, { ok: false, reason: "rejected", status: job.lastStatus });
    } else this.#outOfTime(job);
  }

  /** Ends a request whose answer cannot start within `maxWaitMs`. */
  #outOfTime(job: Job): void {
    this.#stats.waitLimited++;
    this.#finish(job, { ok: false, reason: "unavailable", status: job.lastStatus });
  }

  /** One attempt, then what its end calls for (see `lib/broker/failure_rules.ts`). */
  async #run(job: Job, reservation: Reservation): Promise<void> {
    const startedAt = this.#clock.now();
    if (job.attempts === 0) this.#queueWait.add(startedAt - job.enqueuedAt, startedAt);
    const end = await runAttempt(job, reservation, this.#attempt);
    if (end.ok) this.#finish(job, end.result);
    else this.#failed(job, reservation, end);
    this.#scheduler.done();
  }

  #failed(job: Job, reservation: Reservation, end: Extract<AttemptEnd, { ok: false }>): void {
    const now = this.#clock.now();
    const { keyId } = reservation;
    const { pool, onEvent } = this.#options;
    const { step } = end;
    switch (step.step) {
      case "interrupted":
        pool.report(keyId, false, now);
        return this.#finish(job, { ok: false, reason: "interrupted", partialText: end.streamed });
      case "cancelled":
        return this.#finish(job, { ok: false, reason: "cancelled", partialText: end.streamed });
      case "stopped":
      case "blocked":
        return this.#finish(job, { ok: false, reason: step.step });
      case "rejected":
        return this.#finish(job, {
          ok: false,
          reason: "rejected",
          status: step.status,
          ...(step.file ? { file: true } : {}),
        });
      case "cache_gone":
        this.#cache?.drop(keyId, step.refused);
        return this.#retryAtOnce(job);
      case "key_refused":
        // Keep the key out of use; the scheduler ends the call "rejected" when no key is left.
        this.#keys.refused(keyId, step.status);
        return this.#retryAtOnce(job);
      case "day_quota":
        this.#stats.rateLimitedDay++;
        onEvent?.({ type: "rate_limited", keyId, scope: "day" });
        pool.exhaustDay(keyId, now, step.dailyLimit);
        return this.#retryAtOnce(job); // on another key, or the day spent is reported
      case "minute_quota": {
        this.#stats.rateLimitedMinute++;
        onEvent?.({ type: "rate_limited", keyId, scope: "minute" });
        const delayMs = step.retryAfterMs ?? this.#backoff(job);
        pool.throttled(reservation, now + delayMs, step.quota, now);
        return this.#retry(job, keyId, delayMs, "429", now);
      }
      case "transient":
        pool.report(keyId, false, now);
        return this.#retry(job, keyId, step.retryAfterMs ?? this.#backoff(job), step.why, now);
    }
  }

  #backoff(job: Job): number {
    return backoffDelay(Math.max(0, job.attempts - 1), { random: this.#options.random });
  }

  /** Not this call's fault (the cache, the key, the day): again at once, the attempt uncharged. */
  #retryAtOnce(job: Job): void {
    job.attempts--;
    this.#enqueue(job);
  }

  #retry(job: Job, keyId: string, delayMs: number, why: string, now: number): void {
    if (job.attempts >= this.#settings.maxAttempts) {
      return this.#finish(job, { ok: false, reason: "unavailable", status: job.lastStatus });
    }
    // A retry that could only start after the deadline: say so now rather than then.
    if (now + delayMs >= job.deadline) return this.#outOfTime(job);
    this.#stats.retries++;
    this.#options.onEvent?.({ type: "retry", keyId, attempt: job.attempts, delayMs, why });
    job.notBefore = now + delayMs;
    this.#enqueue(job);
  }

  #finish(job: Job, result: BrokerResult): void {
    countEnd(this.#stats, result);
    endWait(job);
    job.resolve(result);
  }
}
