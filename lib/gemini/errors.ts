/**
 * Classification of errors thrown by the Gemini SDK into what the caller should do next.
 *
 * Works on the shape of the error, never `instanceof`, so it covers `GoogleGenerativeAIFetchError`
 * (`status`, `statusText`, `message`, `errorDetails`), the cache manager's errors from
 * `@google/generative-ai/server`, `GoogleGenerativeAIResponseError` (safety blocks), abort and
 * network errors, and a raw `{ error: { code, message, details } }` response body.
 *
 * @module
 */
/**
 * Which per-minute quota a 429 names: requests or input tokens. The token pool counts the same
 * two; it is written here so that the Gemini client needs nothing of the pool.
 */
export type QuotaDimension = "requests" | "tokens";

/** What a failed Gemini call means for the caller. */
export type GeminiFailure =
  /**
   * 429: wait `retryAfterMs` (scope "minute"), or until midnight Pacific (scope "day"); `quota`
   * is the per-minute limit the server's `QuotaFailure` names, when it names one, and
   * `dailyLimit` the requests a day its per-day violation's `quotaValue` says the key has.
   */
  | {
    kind: "rate_limit";
    scope: "minute" | "day";
    retryAfterMs?: number;
    quota?: QuotaDimension;
    dailyLimit?: number;
  }
  /** 408, 5xx, network failure, timeout or abort: retry with backoff. */
  | { kind: "transient"; status?: number; retryAfterMs?: number }
  /** Other 4xx: retrying the same request will not help. */
  | {
    kind: "fatal";
    status: number;
    reason: "bad_request" | "unauthorized" | "forbidden" | "not_found" | "file" | "other";
  }
  /** The prompt or the answer was blocked (safety, recitation, ...); `reason` is Gemini's. */
  | { kind: "blocked"; reason: string };

const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";
const QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure";
const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";

/**
 * Gemini's reasons for blocking a prompt or an answer: the finish reasons for which the SDK's
 * `response.text()` throws, and the other block reasons. The one list, for the client (a stream
 * that ends on one with no text is blocked) and for classifying the SDK's errors.
 */
export const BLOCK_REASONS: ReadonlySet<string> = new Set([
  "SAFETY",
  "RECITATION",
  "LANGUAGE",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
]);

/** Finish reasons of an answer that ended as it should, or was only cut for length. */
const PLAIN_FINISHES: ReadonlySet<string> = new Set([
  "STOP",
  "MAX_TOKENS",
  "FINISH_REASON_UNSPECIFIED",
]);

/**
 * Whether a `finishReason` is neither a plain end nor a block: the ones Gemini 3 added
 * (`MALFORMED_RESPONSE`, `MISSING_THOUGHT_SIGNATURE`, `TOO_MANY_TOOL_CALLS`, …), `OTHER`, and any
 * Gemini adds later. Such an answer gets a short notice and is counted by reason; retrying the
 * same request would most likely end the same way.
 *
 * @example
 * ```ts
 * import { isUnusualFinish } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isUnusualFinish("MALFORMED_RESPONSE"), true);
 * assert.equal(isUnusualFinish("STOP"), false);
 * assert.equal(isUnusualFinish("SAFETY"), false); // a block, told as one
 * ```
 */
export function isUnusualFinish(reason: string | undefined): reason is string {
  return reason !== undefined && !PLAIN_FINISHES.has(reason) && !BLOCK_REASONS.has(reason);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function detailsOfType(details: unknown, type: string): Record<string, unknown>[] {
  if (!Array.isArray(details)) return [];
  return details.filter((detail): detail is Record<string, unknown> =>
    isRecord(detail) && detail["@type"] === type
  );
}

/** Parses a protobuf Duration in JSON form ("37s", "1.5s") or object form ({seconds, nanos}). */
function durationMs(value: unknown): number | undefined {
  if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
  }
  if (isRecord(value)) {
    const seconds = Number(value.seconds ?? 0);
    const nanos = Number(value.nanos ?? 0);
    if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return undefined;
    if (value.seconds === undefined && value.nanos === undefined) return undefined;
    return Math.max(0, Math.ceil(seconds * 1000 + nanos / 1e6));
  }
  return undefined;
}

/** Parses "retry in 37.2s" (or "500ms") in a message. */
function messageDelayMs(message: string | undefined): number | undefined {
  const match = /retry in (\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(message ?? "");
  if (!match) return undefined;
  const amount = Number(match[1]);
  return Math.ceil(match[2].toLowerCase() === "ms" ? amount : amount * 1000);
}

/**
 * Returns the delay Gemini asks for, in milliseconds (rounded up): the longer of the
 * `google.rpc.RetryInfo` entry of `error.details` (whole seconds, rounded down by the server) and
 * "Please retry in 37.2s." (or "500ms") in the message, so a retry never comes early; `undefined`
 * if neither says.
 *
 * @example Usage
 * ```ts
 * import { parseRetryDelay } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const details = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" }];
 * assert.equal(parseRetryDelay(details), 37000);
 * assert.equal(parseRetryDelay(details, "Quota exceeded. Please retry in 37.2s."), 37200);
 * ```
 */
export function parseRetryDelay(details: unknown, message?: string): number | undefined {
  const fromDetails = detailsOfType(details, RETRY_INFO)
    .map((info) => durationMs(info.retryDelay))
    .find((ms) => ms !== undefined);
  const fromMessage = messageDelayMs(message);
  if (fromDetails === undefined) return fromMessage;
  return fromMessage === undefined ? fromDetails : Math.max(fromDetails, fromMessage);
}

/**
 * Returns true if `error.details` holds a `google.rpc.QuotaFailure` violation of a daily quota
 * (its `quotaId` contains "PerDay"), which resets at midnight Pacific whatever `retryDelay` says.
 *
 * @example Usage
 * ```ts
 * import { isDailyQuota } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const details = [{
 *   "@type": "type.googleapis.com/google.rpc.QuotaFailure",
 *   violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }],
 * }];
 * assert.equal(isDailyQuota(details), true);
 * ```
 */
export function isDailyQuota(details: unknown): boolean {
  return detailsOfType(details, QUOTA_FAILURE).some((failure) =>
    Array.isArray(failure.violations) &&
    failure.violations.some((violation) =>
      isRecord(violation) && typeof violation.quotaId === "string" &&
      violation.quotaId.includes("PerDay")
    )
  );
}

/**
 * The daily request limit a `google.rpc.QuotaFailure` states: the `quotaValue` (an int64, so a
 * string of digits in JSON) of its first per-day violation; undefined when none states one.
 *
 * @example Usage
 * ```ts
 * import { dailyQuotaValue } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const details = [{
 *   "@type": "type.googleapis.com/google.rpc.QuotaFailure",
 *   violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", quotaValue: "20" }],
 * }];
 * assert.equal(dailyQuotaValue(details), 20);
 * ```
 */
export function dailyQuotaValue(details: unknown): number | undefined {
  for (const failure of detailsOfType(details, QUOTA_FAILURE)) {
    if (!Array.isArray(failure.violations)) continue;
    for (const violation of failure.violations) {
      if (!isRecord(violation) || typeof violation.quotaId !== "string") continue;
      if (!violation.quotaId.includes("PerDay")) continue;
      const value = Number(violation.quotaValue);
      if (Number.isSafeInteger(value) && value >= 1) return value;
    }
  }
  return undefined;
}

/**
 * Which per-minute limit a `google.rpc.QuotaFailure` names: the first violation whose `quotaId`
 * or `quotaMetric` speaks of tokens or requests.
 */
function quotaDimension(details: unknown): QuotaDimension | undefined {
  for (const failure of detailsOfType(details, QUOTA_FAILURE)) {
    if (!Array.isArray(failure.violations)) continue;
    for (const violation of failure.violations) {
      const id = `${violation?.quotaId ?? ""} ${violation?.quotaMetric ?? ""}`;
      if (/token/i.test(id)) return "tokens";
      if (/request/i.test(id)) return "requests";
    }
  }
  return undefined;
}

/** Status, message and details pulled from an SDK error or a raw `{ error: {...} }` body. */
function normalise(error: unknown): { status?: number; message: string; details?: unknown } {
  if (!isRecord(error)) return { message: typeof error === "string" ? error : "" };
  const message = typeof error.message === "string" ? error.message : "";
  if (typeof error.status === "number") {
    return { status: error.status, message, details: error.errorDetails };
  }
  if (isRecord(error.error) && typeof error.error.code === "number") {
    const body = error.error;
    return {
      status: body.code as number,
      message: typeof body.message === "string" ? body.message : "",
      details: body.details,
    };
  }
  return { message };
}

/** The block reason of a `GoogleGenerativeAIResponseError`, from its response or its message. */
function blockReason(error: unknown, message: string): string | undefined {
  if (isRecord(error) && isRecord(error.response)) {
    const { promptFeedback, candidates } = error.response;
    if (isRecord(promptFeedback) && typeof promptFeedback.blockReason === "string") {
      return promptFeedback.blockReason;
    }
    const finishReason = Array.isArray(candidates) && isRecord(candidates[0])
      ? candidates[0].finishReason
      : undefined;
    if (typeof finishReason === "string" && BLOCK_REASONS.has(finishReason)) {
      return finishReason;
    }
  }
  return /\bblocked due to ([A-Z_]+)/.exec(message)?.[1];
}

function isInvalidApiKey(details: unknown): boolean {
  return detailsOfType(details, ERROR_INFO).some((info) => info.reason === "API_KEY_INVALID");
}

/**
 * Classifies an error thrown by a Gemini call: 429 is `rate_limit` (scope "day" for a daily quota,
 * whose short `retryDelay` is then left out: wait for `nextPacificMidnight`; a per-minute one
 * carries its delay and the `quota` it names); 408, 5xx and errors
 * without a status (network, timeout, abort, a broken stream) are `transient`; other 4xx are
 * `fatal` (a 400 for an invalid API key is "unauthorized"); safety blocks are `blocked`.
 *
 * @example Usage
 * ```ts
 * import { classifyGeminiError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = { status: 503, statusText: "Service Unavailable", message: "overloaded" };
 * assert.deepEqual(classifyGeminiError(error), { kind: "transient", status: 503 });
 * ```
 */
export function classifyGeminiError(error: unknown): GeminiFailure {
  const { status, message, details } = normalise(error);
  // The Files API refused one file (`lib/gemini/files.ts`): that file's fault, never the key's.
  if (isRecord(error) && error.fileRefused === true && status !== undefined) {
    return { kind: "fatal", status, reason: "file" };
  }
  if (status === undefined) {
    const reason = blockReason(error, message);
    return reason === undefined ? { kind: "transient" } : { kind: "blocked", reason };
  }
  const retryAfterMs = parseRetryDelay(details, message);
  const delay = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    if (isDailyQuota(details)) {
      const dailyLimit = dailyQuotaValue(details);
      return { kind: "rate_limit", scope: "day", ...(dailyLimit ? { dailyLimit } : {}) };
    }
    const quota = quotaDimension(details);
    return { kind: "rate_limit", scope: "minute", ...delay, ...(quota ? { quota } : {}) };
  }
  if (status === 408 || status >= 500) return { kind: "transient", status, ...delay };
  switch (status) {
    case 400:
      return isInvalidApiKey(details)
        ? { kind: "fatal", status, reason: "unauthorized" }
        : { kind: "fatal", status, reason: "bad_request" };
    case 401:
      return { kind: "fatal", status, reason: "unauthorized" };
    case 403:
      return { kind: "fatal", status, reason: "forbidden" };
    case 404:
      return { kind: "fatal", status, reason: "not_found" };
    default:
      return { kind: "fatal", status, reason: "other" };
  }
}

/**
 * The server's own words from an SDK error, without the SDK's prefix and the details dump, at
 * most 300 characters.
 *
 * @example Usage
 * ```ts
 * import { shortMessage } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new Error("[GoogleGenerativeAI Error]: Error fetching from x: [403 Forbidden] Denied [{}]");
 * assert.equal(shortMessage(error), "Denied");
 * ```
 */
export function shortMessage(error: unknown): string {
  const message = error instanceof Error
    ? error.message
    : String((error as { message?: unknown })?.message ?? error);
  const server = /\[\d{3}[^\]]*\]\s*([\s\S]*?)(?:\s*\[\{[\s\S]*)?$/.exec(message)?.[1];
  return (server ?? message).slice(0, 300);
}

/** {@link shortMessage}, with every occurrence of `key` replaced by "[key]": safe to log. */
export function serverWords(error: unknown, key: string): string {
  const words = shortMessage(error);
  return key.length > 0 ? words.split(key).join("[key]") : words;
}
