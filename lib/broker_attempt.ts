/**
 * One attempt of a broker request: the call under its deadlines (`gemini_call.ts`), with the
 * persona's cache when it has one, then the usage counted and the key told on success, or the
 * failure's next step (`broker_failure_rules.ts`). Resolves with how it ended; never rejects.
 *
 * @module
 */
import type { BrokerEvent, BrokerResult, BrokerStats, Prices } from "./broker_port.ts";
import { failureStatus, type FailureStep, nextStep } from "./broker_failure_rules.ts";
import { endWait, type Job } from "./broker_queue.ts";
import { addUsage } from "./broker_stats.ts";
import type { Clock } from "./clock.ts";
import { callWithSilenceLimit } from "./gemini_call.ts";
import { classifyGeminiError } from "./gemini_errors.ts";
import { type GeminiClient, GeminiTimeoutError } from "./gemini_port.ts";
import type { PersonaCache } from "./persona_cache.ts";
import type { Reservation, TokenPool } from "./token_pool.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { FailureStep } from "./broker_failure_rules.ts";
export type {
  BrokerEvent,
  BrokerFailure,
  BrokerRequest,
  BrokerResult,
  BrokerStats,
  Prices,
  Priority,
} from "./broker_port.ts";
export type { Job } from "./broker_queue.ts";
export type { Clock, TimerId } from "./clock.ts";
export type {
  CachedPrompt,
  Content,
  GeminiClient,
  GenerateRequest,
  GenerateResult,
  Usage,
} from "./gemini_port.ts";
export type { PersonaCache } from "./persona_cache.ts";
export type {
  KeyBudget,
  KeyStatus,
  QuotaDimension,
  Reservation,
  ReserveResult,
  TokenPool,
} from "./token_pool.ts";

/** How an attempt ended: answered, or the step its failure calls for. */
export type AttemptEnd =
  | { ok: true; result: Extract<BrokerResult, { ok: true }> }
  | { ok: false; step: FailureStep; streamed: string };

/** What an attempt runs with: the broker's parts, shared by all its attempts. */
export interface AttemptContext {
  /** Makes the call. */
  client: Pick<GeminiClient, "generate">;
  /** Settles the reservation and hears of the key's success. */
  pool: Pick<TokenPool, "settle" | "report">;
  /** The broker's clock. */
  clock: Clock;
  /** The Gemini model name. */
  model: string;
  /** The persona: a request without its own instruction uses it, through the cache if any. */
  persona: string;
  /** The persona's caches, when context caching is on. */
  cache: PersonaCache | undefined;
  /** Milliseconds a call may go without sending anything. */
  timeoutMs: number;
  /** Thinking tokens per call. */
  thinkingBudget: number;
  /** Prices of the cost estimate. */
  prices: Prices;
  /** Where calls, successes, timeouts, tokens and cost are counted. */
  stats: BrokerStats;
  /** Calls running now, for the broker's stop to abort. */
  inflight: Set<AbortController>;
  /** Whether the broker is stopping (read when a call fails). */
  stopped(): boolean;
  /** Told of each answered call. */
  onEvent?(event: BrokerEvent): void;
}

/**
 * Runs one attempt of `job` on the key `reservation` holds room on.
 *
 * @example
 * ```ts ignore
 * const end = await runAttempt(job, reservation, context);
 * if (!end.ok && end.step.step === "transient") scheduleRetry(job);
 * ```
 */
export async function runAttempt(
  job: Job,
  reservation: Reservation,
  context: AttemptContext,
): Promise<AttemptEnd> {
  const { clock, stats, inflight } = context;
  const startedAt = clock.now();
  endWait(job);
  job.attempts++;
  stats.calls++;
  const instruction = job.request.systemInstruction ?? context.persona;
  const cacheName = instruction === context.persona
    ? context.cache?.nameFor(reservation.keyId, reservation.key, startedAt)
    : undefined;
  const abort = new AbortController();
  inflight.add(abort);
  const outcome = await callWithSilenceLimit(context.client, {
    apiKey: reservation.key,
    model: context.model,
    contents: job.request.contents,
    // Never both: the API refuses a system instruction next to a cache that holds one.
    ...(cacheName ? { cachedContent: cacheName } : { systemInstruction: instruction }),
    thinkingBudget: context.thinkingBudget,
    maxOutputTokens: job.request.maxOutputTokens,
  }, {
    clock,
    abort,
    // The user waits for the first chunk: no later than the request's deadline.
    firstChunkMs: Math.max(0, Math.min(context.timeoutMs, job.deadline - startedAt)),
    idleMs: context.timeoutMs,
    onText: (text) => job.request.onText?.(text),
  });
  inflight.delete(abort);
  const now = clock.now();
  if (outcome.ok) {
    const { text, usage, finishReason } = outcome.result;
    context.pool.settle(reservation, usage.promptTokens, now);
    context.pool.report(reservation.keyId, true, now);
    addUsage(stats, usage, context.prices);
    stats.succeeded++;
    context.onEvent?.({
      type: "call",
      keyId: reservation.keyId,
      ms: now - startedAt,
      usage,
      queueMs: startedAt - job.enqueuedAt,
    });
    return { ok: true, result: { ok: true, text, usage, attempts: job.attempts, finishReason } };
  }
  const { error, streamed } = outcome;
  const timedOut = error instanceof GeminiTimeoutError;
  if (timedOut) stats.timeouts++;
  const failure = classifyGeminiError(error);
  job.lastStatus = failureStatus(failure) ?? job.lastStatus;
  const step = nextStep(failure, {
    error,
    streamed: streamed.length > 0,
    stopped: context.stopped(),
    usedCache: Boolean(cacheName),
    timedOut,
  });
  return { ok: false, step, streamed };
}
