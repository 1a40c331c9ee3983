/**
 * What a failed Gemini call means for the broker: the next step for the request, decided from
 * the classified error and what the call had done. Pure: the broker applies the step.
 *
 * Rules, in the order a failed call meets them:
 * - text already shown → "interrupted" (a retry would print a different answer under it);
 * - the broker is stopping → "stopped";
 * - the persona cache vanished (403/404 with `cachedContent`) → drop it, retry at once, uncharged
 *   (a 400 about it: it does not fit, so it is refused for good);
 * - blocked (safety, recitation) → "blocked";
 * - 401/403/invalid key → the key is out of use until a check passes; the call tries another key,
 *   uncharged; other 400/404 → "rejected" at once; a file the Files API refused (even with 403)
 *   → "rejected" as the file's fault, the key left in use;
 * - 429 on a per-day quota → that key is spent until midnight Pacific; the call moves to another
 *   key, uncharged, or ends "day_quota";
 * - 429 per minute → the key rests for the server's delay, the pool learns the real limit, the
 *   call is retried;
 * - timeouts, 5xx, network → the key's circuit breaker hears of it; retried after backoff.
 *
 * @module
 */
import type { KeyCheck } from "./port.ts";
import { type GeminiFailure, serverWords, shortMessage } from "../gemini/mod.ts";
import type { QuotaDimension } from "../quota/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { KeyCheck } from "./port.ts";
export type { GeminiFailure } from "../gemini/errors.ts";
export type { QuotaDimension } from "../quota/token_pool.ts";

/** What the broker does next with a request whose call failed. */
export type FailureStep =
  /** End "interrupted" with the text shown; the key's breaker hears of it. */
  | { step: "interrupted" }
  /** End "stopped". */
  | { step: "stopped" }
  /** End "cancelled" with the text shown: the caller asked for it. */
  | { step: "cancelled" }
  /** Drop the key's persona cache (refused for good when `refused`) and retry at once, uncharged. */
  | { step: "cache_gone"; refused: boolean }
  /** End "blocked". */
  | { step: "blocked" }
  /** Take the key out of use until a check passes; retry on another key, uncharged. */
  | { step: "key_refused"; status: number }
  /** End "rejected" with the status; `file` when it was a file Gemini refused, not the call. */
  | { step: "rejected"; status: number; file?: true }
  /** The key's day is spent; retry on another key, uncharged. */
  /** `dailyLimit`: the day's quota the 429 named (its `quotaValue`), when it did. */
  | { step: "day_quota"; dailyLimit?: number }
  /** Rest the key for the server's delay (or backoff) and retry. */
  | { step: "minute_quota"; retryAfterMs?: number; quota?: QuotaDimension }
  /** Tell the key's breaker and retry after the server's delay (or backoff). */
  | { step: "transient"; retryAfterMs?: number; why: string };

/** What the broker knows about a failed call besides its classified error. */
export interface FailedCall {
  /** The error the call rejected with. */
  error: unknown;
  /** Whether any text reached the caller's screen. */
  streamed: boolean;
  /** Whether the broker is stopping. */
  stopped: boolean;
  /** Whether the call used the persona cache. */
  usedCache: boolean;
  /** Whether the broker's own silence deadline cut the call. */
  timedOut: boolean;
}

/**
 * The next step for a request whose call failed with `failure`.
 *
 * @example
 * ```ts
 * import { nextStep } from "./failure_rules.ts";
 * import assert from "node:assert/strict";
 *
 * const call = { error: {}, streamed: false, stopped: false, usedCache: false, timedOut: false };
 * assert.deepEqual(nextStep({ kind: "transient", status: 503 }, call), { step: "transient", why: "503" });
 * assert.deepEqual(nextStep({ kind: "transient" }, { ...call, streamed: true }), { step: "interrupted" });
 * ```
 */
export function nextStep(failure: GeminiFailure, call: FailedCall): FailureStep {
  if (call.streamed) return { step: "interrupted" };
  if (call.stopped) return { step: "stopped" };
  if (call.usedCache && failure.kind === "fatal" && isCacheRefusal(failure.status, call.error)) {
    return { step: "cache_gone", refused: failure.status === 400 };
  }
  switch (failure.kind) {
    case "blocked":
      return { step: "blocked" };
    case "fatal":
      if (failure.reason === "file") {
        return { step: "rejected", status: failure.status, file: true };
      }
      return isKeyRefusal(failure)
        ? { step: "key_refused", status: failure.status }
        : { step: "rejected", status: failure.status };
    case "rate_limit":
      if (failure.scope === "day") {
        return failure.dailyLimit === undefined
          ? { step: "day_quota" }
          : { step: "day_quota", dailyLimit: failure.dailyLimit };
      }
      return {
        step: "minute_quota",
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
        ...(failure.quota === undefined ? {} : { quota: failure.quota }),
      };
    case "transient":
      return {
        step: "transient",
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
        why: call.timedOut ? "timeout" : String(failure.status ?? "network"),
      };
  }
}

/** The HTTP status a failure carries, if any. */
export function failureStatus(failure: GeminiFailure): number | undefined {
  return "status" in failure ? failure.status : undefined;
}

/** The server refused the key itself (401, 403, an invalid key), not the call. */
export function isKeyRefusal(
  failure: GeminiFailure,
): failure is GeminiFailure & { kind: "fatal"; reason: "unauthorized" | "forbidden" } {
  return failure.kind === "fatal" &&
    (failure.reason === "unauthorized" || failure.reason === "forbidden");
}

/** A 4xx caused by the cache rather than the call: it vanished, expired, or does not fit. */
export function isCacheRefusal(status: number, error: unknown): boolean {
  return [400, 403, 404].includes(status) && /cached ?content/i.test(shortMessage(error));
}

/**
 * What a failed start-up check of `keyId` says, naming the key by id only: refused (and so out of
 * use), refused for the call (the model?), or not checked (tried on use).
 */
export function failedKeyCheck(
  keyId: string,
  key: string,
  model: string,
  failure: GeminiFailure,
  error: unknown,
): KeyCheck {
  const status = failureStatus(failure);
  const what = isKeyRefusal(failure)
    ? `Gemini refused ${keyId}; it is out of use`
    : failure.kind === "fatal"
    ? `Gemini refused the check with ${keyId} (model "${model}"?)`
    : `Could not check ${keyId} (will be tried on use)`;
  return {
    keyId,
    ok: false,
    ...(status === undefined ? {} : { status }),
    message: `${what}: ${status ?? "no status"} ${serverWords(error, key)}`.trim(),
  };
}
