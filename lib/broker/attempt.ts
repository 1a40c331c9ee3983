/**
 * One attempt of a broker request: the call under its deadlines (`lib/gemini/call.ts`), with the
 * persona's cache when it has one, then the usage counted and the key told on success, or the
 * failure's next step (`lib/broker/failure_rules.ts`). Resolves with how it ended; never rejects.
 *
 * @module
 */
import type { BrokerContext } from "./context.ts";
import { failureStatus, type FailureStep, nextStep } from "./failure_rules.ts";
import type { BrokerResult } from "./port.ts";
import { endWait, type Job } from "./queue.ts";
import { addUsage } from "./stats.ts";
import {
  callWithSilenceLimit,
  classifyGeminiError,
  GeminiTimeoutError,
  isUnusualFinish,
} from "../gemini/mod.ts";
import type { PersonaCache } from "./persona_cache.ts";
import type { Reservation } from "../quota/mod.ts";

/** Re-exported: the broker's shared types, which this module's API is built on. */
export type * from "./context.ts";
/** Re-exported: the job an attempt is for, the step a failure calls for, the cache it uses. */
export type { FailureStep, Job, PersonaCache };

/** How an attempt ended: answered, or the step its failure calls for. */
export type AttemptEnd =
  | { ok: true; result: Extract<BrokerResult, { ok: true }> }
  | { ok: false; step: FailureStep; streamed: string };

/** What an attempt runs with: the broker's parts, shared by all its attempts. */
export interface AttemptContext extends BrokerContext {
  /** The persona's caches, when context caching is on. */
  cache: PersonaCache | undefined;
  /** Calls running now, for the broker's stop to abort. */
  inflight: Set<AbortController>;
  /** Whether the broker is stopping (read when a call fails). */
  stopped(): boolean;
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
  const { clock, stats, inflight, settings } = context;
  const startedAt = clock.now();
  endWait(job);
  job.attempts++;
  stats.calls++;
  const instruction = job.request.systemInstruction ?? context.systemInstruction;
  // The API refuses a tool next to a cache: a search goes with the persona as an instruction.
  const search = job.request.googleSearch === true;
  const cacheName = instruction === context.systemInstruction && !search
    ? context.cache?.nameFor(reservation.keyId, reservation.key, startedAt)
    : undefined;
  const abort = new AbortController();
  inflight.add(abort);
  // The caller's stop ends the call now; its reason is no fault of the key's or the server's.
  const cancel = job.request.signal;
  const onCancel = () => abort.abort(cancel?.reason ?? new Error("cancelled"));
  if (cancel?.aborted) onCancel();
  else cancel?.addEventListener("abort", onCancel, { once: true });
  const outcome = await callWithSilenceLimit(context.client, {
    apiKey: reservation.key,
    model: context.model,
    contents: job.request.contents,
    // Never both: the API refuses a system instruction next to a cache that holds one.
    ...(cacheName ? { cachedContent: cacheName } : { systemInstruction: instruction }),
    // Folds and summaries think the least the model allows; chat at the configured level.
    thinkingLevel: job.request.priority === "chat"
      ? settings.thinkingLevel
      : settings.lightThinkingLevel,
    maxOutputTokens: job.request.maxOutputTokens,
    ...(search ? { googleSearch: true } : {}),
  }, {
    clock,
    abort,
    // The user waits for the first chunk: no later than the request's deadline.
    firstChunkMs: Math.max(0, Math.min(settings.timeoutMs, job.deadline - startedAt)),
    idleMs: settings.timeoutMs,
    onText: (text) => job.request.onText?.(text),
  });
  inflight.delete(abort);
  cancel?.removeEventListener("abort", onCancel);
  const now = clock.now();
  if (outcome.ok) {
    const { text, usage, finishReason, parts, grounding } = outcome.result;
    context.pool.settle(reservation, usage.promptTokens, now);
    context.pool.report(reservation.keyId, true, now);
    addUsage(stats, usage, settings.prices);
    stats.succeeded++;
    if (grounding) {
      stats.groundedCalls++;
      stats.searchQueries += grounding.queries.length;
    }
    if (isUnusualFinish(finishReason)) {
      // Answered, so not retried: the same request would most likely end the same way.
      stats.unusualFinishes[finishReason] = (stats.unusualFinishes[finishReason] ?? 0) + 1;
      context.onEvent?.({
        type: "unusual_finish",
        keyId: reservation.keyId,
        reason: finishReason,
        textLength: text.length,
      });
    }
    context.onEvent?.({
      type: "call",
      keyId: reservation.keyId,
      ms: now - startedAt,
      usage,
      queueMs: startedAt - job.enqueuedAt,
      ...(grounding ? { searchQueries: grounding.queries.length } : {}),
    });
    return {
      ok: true,
      result: {
        ok: true,
        text,
        usage,
        attempts: job.attempts,
        finishReason,
        ...(parts ? { parts } : {}),
        ...(grounding ? { grounding } : {}),
      },
    };
  }
  const { error, streamed } = outcome;
  if (cancel?.aborted) return { ok: false, step: { step: "cancelled" }, streamed };
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
