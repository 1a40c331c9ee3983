/**
 * GeminiBroker: the one actor every Gemini call goes through.
 *
 * Calls wait in a priority queue (chat before summaries, oldest first), take room from the
 * {@link TokenPool} on a key that has it, run at most `maxConcurrency` at a time, and are retried
 * with exponential backoff that honours the server's `RetryInfo`. A caller learns how long it
 * waits through `onWait`, and the answer's text as it streams through `onText`. The broker never
 * throws at a caller: every request resolves with a {@link BrokerResult}.
 *
 * Time is bounded twice, both on the broker's clock: a call that sends nothing for `timeoutMs`
 * (before its first chunk, or between chunks) is cut, however long a healthy stream runs; and a
 * request whose answer has not started within `maxWaitMs` ends "unavailable" (at once, when a
 * wait the broker knows of would pass that bound), so a user is never left with only "typing".
 *
 * Rules, in the order a failed call meets them:
 * - text already shown → "interrupted" (a retry would print a different answer under it);
 * - the persona cache vanished (403/404 with `cachedContent`) → drop it, retry at once, uncharged;
 * - 429 on a per-day quota → that key is spent until midnight Pacific; the call moves to another
 *   key, uncharged, or ends "day_quota";
 * - 429 per minute → the key rests for the server's delay (the longer of `RetryInfo` and "Please
 *   retry in Ns."), the pool learns the real limit, the call is retried;
 * - 401/403/invalid key → the key is out of use until a cheap `countTokens` check passes, tried
 *   after 1, 2, 4 … minutes (at most an hour); the call moves to another key, waits for the check
 *   if it comes within the wait bound, or ends "rejected"; other 400/404 → "rejected" at once;
 * - timeouts, 5xx, network → the key's circuit breaker hears of it; retried after 2^n s (max
 *   32 s, jittered), at most `maxAttempts` attempts in all.
 *
 * @module
 */
import { backoffDelay } from "../lib/backoff.ts";
import { type Clock, systemClock, type TimerId } from "../lib/clock.ts";
import { type Content, type GeminiClient, GeminiTimeoutError, type Usage } from "../lib/gemini.ts";
import { classifyGeminiError, type GeminiFailure } from "../lib/gemini_errors.ts";
import { nextPacificMidnight } from "../lib/pacific_day.ts";
import { KeyChecks } from "../lib/key_checks.ts";
import { LatencyWindow } from "../lib/percentiles.ts";
import type { Reservation, TokenPool } from "../lib/token_pool.ts";
import type {
  BrokerEvent,
  BrokerFailure,
  BrokerRequest,
  BrokerResult,
  BrokerStats,
  KeyCheck,
  Prices,
  Priority,
} from "../lib/broker_port.ts";

/** Re-exported: the broker's contract is declared in lib, where the message flow reads it. */
export type {
  BrokerEvent,
  BrokerFailure,
  BrokerRequest,
  BrokerResult,
  BrokerStats,
  KeyCheck,
  Prices,
  Priority,
};

/** The broker's policy. */
export interface GeminiBrokerOptions {
  /** Makes the Gemini calls; tests hand in a fake. */
  client: GeminiClient;
  /** The keys and their quotas; every call reserves room here first. */
  pool: TokenPool;
  /** The Gemini model name, such as `gemini-2.5-flash`. */
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
  /** Thinking tokens per call: 0 turns thinking off, -1 lets the model decide. @default 0 */
  thinkingBudget?: number;
  /** Cache the persona through `cachedContents`. @default true */
  contextCache?: boolean;
  /** Seconds the persona cache lives; it is re-created 5 min before it ends. @default 3600 */
  cacheTtlSeconds?: number;
  /** Milliseconds a call must expect to wait before `onWait` tells its caller. @default 5000 */
  countdownThresholdMs?: number;
  /**
   * Prices for the `costUsd` estimate in the stats.
   * @default { input: 0.3, output: 2.5, cached: 0.03 } (gemini-2.5-flash, USD)
   */
  prices?: Prices;
  /** Time for queueing, backoff and key rests; tests pass a fake. @default systemClock */
  clock?: Clock;
  /** A number in [0, 1) for backoff jitter; tests pass a fixed one. @default Math.random */
  random?: () => number;
  /** Told of retries, rate limits, key refusals, cache changes and each call (for logs). */
  onEvent?(event: BrokerEvent): void;
}

interface Job {
  request: BrokerRequest;
  /** Input tokens to reserve, estimated once: the request does not change while it waits. */
  estimate: number;
  seq: number;
  rank: number;
  enqueuedAt: number;
  /** When the answer must have started: `enqueuedAt + maxWaitMs`. */
  deadline: number;
  notBefore: number;
  attempts: number;
  announced: number | undefined;
  lastStatus: number | undefined;
  resolve(result: BrokerResult): void;
}

type CacheEntry =
  | { state: "ready"; name: string; expiresAt: number }
  | { state: "pending"; name?: string; expiresAt?: number }
  /** Refused for a reason that will not change (too small, unsupported): plain calls for good. */
  | { state: "refused" }
  /** Failed for a passing reason: try again after `until`. */
  | { state: "failed"; until: number };

/** Refresh the cache this long before it expires. */
const CACHE_REFRESH_MARGIN_MS = 5 * 60_000;
/** After a cache attempt failed for a passing reason, try again after this long. */
const CACHE_RETRY_MS = 10 * 60_000;
/** How long `stop()` lets running calls finish before aborting them. */
const STOP_GRACE_MS = 5000;

/**
 * Estimates input tokens before the call, for the reservation: about 4 characters a token for
 * ASCII and 1.5 for other scripts (Korean runs near that); `usageMetadata` corrects it afterwards.
 *
 * @example
 * ```ts
 * import { estimateTokens } from "./gemini_broker.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(estimateTokens([{ role: "user", parts: [{ text: "hello world!" }] }]), 7);
 * ```
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
 * ```ts ignore
 * const broker = new GeminiBroker({ client, pool, model: "gemini-2.5-flash", systemInstruction });
 * for (const check of await broker.verifyKeys()) if (!check.ok) console.error(check.message);
 * const result = await broker.generate({ priority: "chat", contents });
 * ```
 */
export class GeminiBroker {
  #options: GeminiBrokerOptions;
  #clock: Clock;
  /** Waiting jobs, kept sorted: chat before summary, then oldest first. */
  #queue: Job[] = [];
  #active = 0;
  #seq = 0;
  #timer: TimerId | undefined;
  #timerAt = Infinity;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  #inflight = new Set<AbortController>();
  #cache = new Map<string, CacheEntry>();
  #cacheFallbackLogged = false;
  #queueWait = new LatencyWindow();
  /** Keys out of use after a refusal, until a check passes. */
  #keyChecks: KeyChecks;
  #stats: BrokerStats = {
    requests: 0,
    calls: 0,
    succeeded: 0,
    failed: 0,
    failures: {
      day_quota: 0,
      blocked: 0,
      interrupted: 0,
      unavailable: 0,
      rejected: 0,
      stopped: 0,
    },
    retries: 0,
    rateLimitedMinute: 0,
    rateLimitedDay: 0,
    timeouts: 0,
    waitLimited: 0,
    keyRejections: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    tokensThinking: 0,
    costUsd: 0,
    personaTokens: undefined,
    cachesLive: 0,
  };

  /**
   * Makes a broker; throws a RangeError when `maxConcurrency` is not a positive integer or
   * `maxWaitMs` is not positive.
   */
  constructor(options: GeminiBrokerOptions) {
    const concurrency = options.maxConcurrency ?? 10;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new RangeError(
        `Cannot create GeminiBroker as 'maxConcurrency' must be a positive integer: current value is ${concurrency}`,
      );
    }
    const maxWaitMs = options.maxWaitMs ?? 60_000;
    if (!(maxWaitMs > 0)) {
      throw new RangeError(
        `Cannot create GeminiBroker as 'maxWaitMs' must be positive: current value is ${maxWaitMs}`,
      );
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#keyChecks = new KeyChecks({
      pool: options.pool,
      clock: this.#clock,
      // The same cheap call as the start-up check: the persona's size, which proves the key.
      check: async (apiKey) => {
        this.#stats.personaTokens ??= await options.client.countTokens({
          apiKey,
          model: options.model,
          systemInstruction: options.systemInstruction,
          deadlineMs: options.timeoutMs ?? 30_000,
        });
      },
      onChecked: (keyId, outcome) => {
        if (outcome.ok) this.#options.onEvent?.({ type: "key_check", keyId, ok: true });
        else {
          const failure = classifyGeminiError(outcome.error);
          const status = "status" in failure ? failure.status : undefined;
          this.#options.onEvent?.({
            type: "key_check",
            keyId,
            ok: false,
            ...(status === undefined ? {} : { status }),
            retryInMs: outcome.retryInMs,
          });
        }
        // Requests waiting for this key learn now whether it is back or when it is tried next.
        this.#pump();
      },
    });
  }

  /** Calls waiting for their turn. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Calls running now. */
  get active(): number {
    return this.#active;
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
  async verifyKeys(): Promise<KeyCheck[]> {
    const { client, pool, model, systemInstruction } = this.#options;
    return await Promise.all(
      pool.keys().map(async ({ keyId, key }): Promise<KeyCheck> => {
        try {
          const tokens = await client.countTokens({
            apiKey: key,
            model,
            systemInstruction,
            deadlineMs: this.#options.timeoutMs ?? 30_000,
          });
          this.#stats.personaTokens ??= tokens;
          this.#startCache(keyId, key, this.#clock.now());
          return { keyId, ok: true, message: `${keyId} works; the persona is ${tokens} tokens` };
        } catch (error) {
          const failure = classifyGeminiError(error);
          const status = "status" in failure ? failure.status : undefined;
          const why = redact(shortMessage(error), key);
          const keyRefused = isKeyRefusal(failure);
          if (keyRefused) this.#rejectKey(keyId, failure.status);
          const what = keyRefused
            ? `Gemini refused ${keyId}; it is out of use`
            : failure.kind === "fatal"
            ? `Gemini refused the check with ${keyId} (model "${model}"?)`
            : `Could not check ${keyId} (will be tried on use)`;
          return {
            keyId,
            ok: false,
            ...(status === undefined ? {} : { status }),
            message: `${what}: ${status ?? "no status"} ${why}`.trim(),
          };
        }
      }),
    );
  }

  /** Queues a call; resolves when it is answered or has failed for good. */
  generate(request: BrokerRequest): Promise<BrokerResult> {
    if (this.#stopped) return Promise.resolve({ ok: false, reason: "stopped" });
    this.#stats.requests++;
    const { promise, resolve } = Promise.withResolvers<BrokerResult>();
    const now = this.#clock.now();
    this.#enqueue({
      request,
      estimate: estimateTokens(request.contents, this.#instructionFor(request)),
      seq: this.#seq++,
      rank: request.priority === "chat" ? 0 : 1,
      enqueuedAt: now,
      deadline: now + (this.#options.maxWaitMs ?? 60_000),
      notBefore: now,
      attempts: 0,
      announced: undefined,
      lastStatus: undefined,
      resolve,
    });
    this.#pump();
    return promise;
  }

  /**
   * Fails queued calls, lets running ones finish for up to `graceMs`, then aborts them, and
   * resolves when none is left.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const keyChecks = this.#keyChecks.stop();
    for (const job of this.#queue.splice(0)) this.#finish(job, { ok: false, reason: "stopped" });
    if (this.#active > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      const grace = setTimeout(() => {
        for (const abort of this.#inflight) abort.abort(new Error("GeminiBroker stopped"));
      }, graceMs);
      try {
        await promise;
      } finally {
        clearTimeout(grace);
      }
    }
    // A key check is one countTokens under its own deadline: let it end, so nothing is left open.
    await keyChecks;
  }

  #enqueue(job: Job): void {
    if (this.#stopped) return this.#finish(job, { ok: false, reason: "stopped" });
    // Binary search for the place that keeps (rank, seq) order; a retry returns to its place.
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.#queue[mid];
      if (other.rank < job.rank || (other.rank === job.rank && other.seq < job.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, job);
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    let poolReadyAt = now;
    /** Why a request that cannot start in time ends: the pool's state decides the notice. */
    let poolFailure: PoolFailure = "unavailable";
    while (this.#active < (this.#options.maxConcurrency ?? 10)) {
      const index = this.#queue.findIndex((job) => job.notBefore <= now);
      if (index < 0) break;
      const job = this.#queue[index];
      const room = this.#options.pool.reserve(job.estimate, now);
      if (!room.ok) {
        // Every key refused, or every day spent, ends the requests that cannot wait that long
        // (below); a key's check or midnight within the bound is waited for like any quota.
        poolFailure = room.allDisabled
          ? "rejected"
          : room.dayExhausted
          ? "day_quota"
          : "unavailable";
        poolReadyAt = now + room.waitMs;
        this.#wakeAt(poolReadyAt);
        break;
      }
      this.#queue.splice(index, 1);
      this.#active++;
      void this.#run(job, room.reservation);
    }
    if (this.#queue.length === 0) return;
    this.#settleWaits(now, poolReadyAt, poolFailure);
    let soonest = Infinity;
    for (const job of this.#queue) {
      if (job.notBefore > now) soonest = Math.min(soonest, job.notBefore);
      soonest = Math.min(soonest, job.deadline);
    }
    if (soonest < Infinity) this.#wakeAt(soonest);
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

  /**
   * Ends the waiting requests that cannot start before their deadline (`failure` says why), and
   * tells the others when they expect to start, once that is `countdownThresholdMs` or more away,
   * and again when the estimate moves by a second or more. The estimate is the queue position's
   * slot in the pool's forecast (which knows rests and open circuits), the pool's own wait, or a
   * retry's delay, whichever is latest.
   */
  #settleWaits(now: number, poolReadyAt: number, failure: PoolFailure): void {
    const threshold = this.#options.countdownThresholdMs ?? 5000;
    const slots = this.#options.pool.forecast?.(this.#queue.length, now) ?? [];
    const late: Job[] = [];
    for (let i = 0; i < this.#queue.length; i++) {
      const job = this.#queue[i];
      const slot = slots[i] ?? poolReadyAt;
      const startsAt = Math.max(job.notBefore, slot, poolReadyAt);
      if (startsAt >= job.deadline) {
        late.push(job);
        continue;
      }
      if (!job.request.onWait) continue;
      if (job.announced === undefined && startsAt - now < threshold) continue;
      if (job.announced !== undefined && Math.abs(job.announced - startsAt) < 1000) continue;
      job.announced = startsAt;
      job.request.onWait(startsAt);
    }
    if (late.length === 0) return;
    this.#queue = this.#queue.filter((job) => !late.includes(job));
    for (const job of late) {
      if (failure === "day_quota") {
        this.#finish(job, { ok: false, reason: "day_quota", retryAt: nextPacificMidnight(now) });
      } else if (failure === "rejected") {
        this.#finish(job, { ok: false, reason: "rejected", status: job.lastStatus });
      } else {
        this.#outOfTime(job);
      }
    }
  }

  /** Ends a request whose answer cannot start within `maxWaitMs`. */
  #outOfTime(job: Job): void {
    this.#stats.waitLimited++;
    this.#finish(job, { ok: false, reason: "unavailable", status: job.lastStatus });
  }

  async #run(job: Job, reservation: Reservation): Promise<void> {
    const startedAt = this.#clock.now();
    if (job.attempts === 0) this.#queueWait.add(startedAt - job.enqueuedAt, startedAt);
    this.#endWait(job);
    job.attempts++;
    this.#stats.calls++;
    let streamed = "";
    const instruction = this.#instructionFor(job.request);
    const cacheName = instruction === this.#options.systemInstruction
      ? this.#cachedPrompt(reservation, startedAt)
      : undefined;
    const abort = new AbortController();
    this.#inflight.add(abort);
    const silence = this.#silenceTimer(job, abort, startedAt);
    try {
      const result = await this.#options.client.generate({
        apiKey: reservation.key,
        model: this.#options.model,
        contents: job.request.contents,
        // Never both: the API refuses a system instruction next to a cache that holds one.
        ...(cacheName ? { cachedContent: cacheName } : { systemInstruction: instruction }),
        thinkingBudget: this.#options.thinkingBudget ?? 0,
        maxOutputTokens: job.request.maxOutputTokens,
        signal: abort.signal,
        onText: (text) => {
          // A call the broker has given up on shows nothing more, whatever its client does.
          if (abort.signal.aborted) return;
          streamed = text;
          silence.heard();
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
        finishReason: result.finishReason,
      });
    } catch (error) {
      this.#failed(job, reservation, error, streamed, cacheName);
    } finally {
      silence.stop();
      this.#inflight.delete(abort);
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
    cacheName: string | undefined,
  ): void {
    const now = this.#clock.now();
    const { keyId } = reservation;
    const pool = this.#options.pool;
    const timedOut = error instanceof GeminiTimeoutError;
    if (timedOut) this.#stats.timeouts++;
    const failure = classifyGeminiError(error);
    if ("status" in failure && failure.status !== undefined) job.lastStatus = failure.status;
    if (streamed.length > 0) {
      // Text is already on screen: a retry would show a different answer under it.
      pool.report(keyId, false, now);
      return this.#finish(job, { ok: false, reason: "interrupted", partialText: streamed });
    }
    if (this.#stopped) return this.#finish(job, { ok: false, reason: "stopped" });
    if (cacheName && failure.kind === "fatal" && isCacheRefusal(failure.status, error)) {
      // The cache expired, vanished or does not fit this call: drop it, retry at once, uncharged.
      this.#dropCache(keyId, failure.status === 400 ? "refused" : undefined);
      job.attempts--;
      return this.#enqueue(job);
    }
    switch (failure.kind) {
      case "blocked":
        return this.#finish(job, { ok: false, reason: "blocked" });
      case "fatal":
        if (isKeyRefusal(failure)) {
          // A bad key: keep it out of use and let the call try another key (the pump fails
          // the call "rejected" when no key is left).
          this.#rejectKey(keyId, failure.status);
          job.attempts--;
          return this.#enqueue(job);
        }
        return this.#finish(job, { ok: false, reason: "rejected", status: failure.status });
      case "rate_limit": {
        if (failure.scope === "day") {
          this.#stats.rateLimitedDay++;
          this.#options.onEvent?.({ type: "rate_limited", keyId, scope: "day" });
          pool.exhaustDay(keyId, now, failure.dailyLimit);
          job.attempts--; // not this call's fault: move it to another key, or report the day spent
          return this.#enqueue(job);
        }
        this.#stats.rateLimitedMinute++;
        this.#options.onEvent?.({ type: "rate_limited", keyId, scope: "minute" });
        const delayMs = failure.retryAfterMs ?? this.#backoff(job);
        pool.throttled(reservation, now + delayMs, failure.quota, now);
        return this.#retry(job, keyId, delayMs, "429", now);
      }
      case "transient": {
        pool.report(keyId, false, now);
        const delayMs = failure.retryAfterMs ?? this.#backoff(job);
        const why = timedOut ? "timeout" : String(failure.status ?? "network");
        return this.#retry(job, keyId, delayMs, why, now);
      }
    }
  }

  /**
   * Cuts a call that sends nothing for `timeoutMs`: the timer runs from the start to the first
   * chunk (and no later than the request's deadline: the user waits for that first chunk), then
   * restarts at each chunk, so a stream that keeps coming is never cut.
   */
  #silenceTimer(
    job: Job,
    abort: AbortController,
    startedAt: number,
  ): { heard(): void; stop(): void } {
    const idleMs = this.#options.timeoutMs ?? 30_000;
    let timer: TimerId | undefined;
    const arm = (ms: number) => {
      this.#clock.clearTimeout(timer);
      timer = this.#clock.setTimeout(() => abort.abort(new GeminiTimeoutError(ms)), ms);
    };
    arm(Math.max(0, Math.min(idleMs, job.deadline - startedAt)));
    return {
      heard: () => arm(idleMs),
      stop: () => this.#clock.clearTimeout(timer),
    };
  }

  #backoff(job: Job): number {
    return backoffDelay(Math.max(0, job.attempts - 1), { random: this.#options.random });
  }

  #retry(job: Job, keyId: string, delayMs: number, why: string, now: number): void {
    if (job.attempts >= this.#maxAttempts()) {
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
    if (!result.ok) {
      this.#stats.failed++;
      this.#stats.failures[result.reason]++;
    }
    this.#endWait(job);
    job.resolve(result);
  }

  /** Tells a caller that was given a start time that it no longer waits. */
  #endWait(job: Job): void {
    if (job.announced === undefined) return;
    job.announced = undefined;
    job.request.onWait?.(undefined);
  }

  /** A key the server refused: out of use until a check passes (see {@link KeyChecks}). */
  #rejectKey(keyId: string, status: number): void {
    this.#stats.keyRejections++;
    this.#options.onEvent?.({ type: "key_rejected", keyId, status });
    this.#keyChecks.refused(keyId);
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
    this.#stats.costUsd += costUsd(usage, prices);
  }

  /** The cache name to use for this key now, starting or refreshing the cache when due. */
  #cachedPrompt(reservation: Reservation, now: number): string | undefined {
    this.#startCache(reservation.keyId, reservation.key, now);
    const entry = this.#cache.get(reservation.keyId);
    if (entry?.state !== "ready" && entry?.state !== "pending") return undefined;
    // The old cache, while it lasts, serves during a refresh.
    return entry.name && entry.expiresAt! > now + 10_000 ? entry.name : undefined;
  }

  /**
   * Creates the persona cache of one key in the background, or re-creates it when it is due for a
   * refresh; does nothing while it is pending, refused, failed lately or fresh.
   */
  #startCache(keyId: string, key: string, now: number): void {
    if (this.#options.contextCache === false || this.#stopped) return;
    const entry = this.#cache.get(keyId);
    if (entry?.state === "pending" || entry?.state === "refused") return;
    if (entry?.state === "failed" && entry.until > now) return;
    if (entry?.state === "ready" && entry.expiresAt - now > CACHE_REFRESH_MARGIN_MS) return;
    const old = entry?.state === "ready" ? entry : undefined;
    this.#cache.set(keyId, { state: "pending", name: old?.name, expiresAt: old?.expiresAt });
    const ttlSeconds = this.#options.cacheTtlSeconds ?? 3600;
    const requestedAt = Date.now();
    this.#options.client.cacheSystemInstruction({
      apiKey: key,
      model: this.#options.model,
      systemInstruction: this.#options.systemInstruction,
      ttlSeconds,
    }).then((cache) => {
      if (!old) this.#stats.cachesLive++;
      // The server's expiry, carried over to this broker's clock (the same as Date.now in use).
      const lifeMs = Math.min(ttlSeconds * 1000, cache.expiresAt - requestedAt);
      this.#cache.set(keyId, {
        state: "ready",
        name: cache.name,
        expiresAt: this.#clock.now() + lifeMs,
      });
      if (cache.tokens > 0) this.#stats.personaTokens ??= cache.tokens;
      this.#options.onEvent?.({ type: "cache_created", keyId, tokens: cache.tokens });
    }, (error) => {
      if (old) this.#stats.cachesLive--;
      const why = redact(shortMessage(error), key);
      const status = (error as { status?: unknown })?.status;
      const tooSmall = /too small|min_total_token_count/i.exec(why);
      const measured = /total_token_count=(\d+)/.exec(why);
      if (measured) this.#stats.personaTokens ??= Number(measured[1]);
      // Too small or unsupported will not change for this persona: plain calls work as well.
      // Anything else (network, 5xx, quota) is worth another try later.
      const final = tooSmall || status === 400 || status === 404;
      this.#cache.set(
        keyId,
        final
          ? { state: "refused" }
          : { state: "failed", until: this.#clock.now() + CACHE_RETRY_MS },
      );
      if (!this.#cacheFallbackLogged) {
        this.#cacheFallbackLogged = true;
        this.#options.onEvent?.({ type: "cache_fallback", keyId, why });
      }
    });
  }

  #dropCache(keyId: string, next: "refused" | undefined): void {
    const entry = this.#cache.get(keyId);
    if (entry?.state === "ready") this.#stats.cachesLive--;
    if (next) this.#cache.set(keyId, { state: next });
    else this.#cache.delete(keyId);
  }
}

/**
 * Estimated cost in USD of one call's usage: uncached prompt tokens at the input price, cached
 * ones at the cached price, answer and thinking tokens at the output price.
 *
 * @example
 * ```ts
 * import { costUsd } from "./gemini_broker.ts";
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

/** How a request that cannot start before its deadline ends, by what the pool said. */
type PoolFailure = "unavailable" | "rejected" | "day_quota";

type KeyRefusal = { kind: "fatal"; reason: "unauthorized" | "forbidden" };

/** The server refused the key itself (401, 403, an invalid key), not the call. */
function isKeyRefusal(failure: GeminiFailure): failure is GeminiFailure & KeyRefusal {
  return failure.kind === "fatal" &&
    (failure.reason === "unauthorized" || failure.reason === "forbidden");
}

/** A 4xx caused by the cache rather than the call: it vanished, expired, or does not fit. */
function isCacheRefusal(status: number, error: unknown): boolean {
  return [400, 403, 404].includes(status) && /cached ?content/i.test(shortMessage(error));
}

/** The server's own words from an SDK error, without the SDK's prefix and the details dump. */
function shortMessage(error: unknown): string {
  const message = error instanceof Error
    ? error.message
    : String((error as { message?: unknown })?.message ?? error);
  const server = /\[\d{3}[^\]]*\]\s*([\s\S]*?)(?:\s*\[\{[\s\S]*)?$/.exec(message)?.[1];
  return (server ?? message).slice(0, 300);
}

function redact(text: string, key: string): string {
  return key.length > 0 ? text.split(key).join("[key]") : text;
}
