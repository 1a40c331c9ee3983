/**
 * The broker's contract: what the message flow asks of the one Gemini broker and what it gets
 * back. Declared here, in the leaf layer, so the flow depends on this port and the broker
 * (`actors/gemini_broker.ts`) conforms to it.
 *
 * @module
 */
import type { Content, Grounding, ModelPart, Usage } from "../gemini/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { Content, Grounding, ModelPart, Usage } from "../gemini/port.ts";

/** Chat is answered before summaries. */
export type Priority = "chat" | "summary";

/** One call for the broker to make. */
export interface BrokerRequest {
  /** Which queue rank the call takes: chat is answered first. */
  priority: Priority;
  /** The conversation to answer, oldest turn first. */
  contents: Content[];
  /** Overrides the persona (summaries use their own instruction). */
  systemInstruction?: string;
  /** Caps the answer's length in tokens; left out, the model's own limit applies. */
  maxOutputTokens?: number;
  /**
   * Lets the model search Google for this answer; the persona then goes as a system instruction,
   * never by its cache, which the API refuses beside a tool. @default false
   */
  googleSearch?: boolean;
  /** The whole answer so far, each time a chunk arrives. */
  onText?(textSoFar: string): void;
  /**
   * Cancels the request: a queued one leaves the queue, a running call is aborted at once, and
   * the request ends "cancelled" with the text that had streamed. Never retried.
   */
  signal?: AbortSignal;
  /**
   * When the call must wait at least `countdownThresholdMs` before it can start (for quota, a
   * key's rest or open circuit, a retry's backoff or the server's `RetryInfo`, a key's check): the
   * epoch ms at which it expects to start. Called again when that estimate moves by a second or
   * more, and with `undefined` when the call starts (or ends without starting).
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
  /** Retries ran out (rate limits, 5xx, timeouts), or the answer could not start in `maxWaitMs`. */
  | "unavailable"
  /** The request or the key was refused (400, 401, 403, 404): retrying would not help. */
  | "rejected"
  /** The broker is stopping. */
  | "stopped"
  /** The caller's `signal` ended it (a stop button); `partialText` is what had streamed. */
  | "cancelled";

/** How a call ended. */
export type BrokerResult =
  | {
    ok: true;
    text: string;
    usage: Usage;
    attempts: number;
    finishReason?: string;
    /** The model turn's parts as received, when they hold more than text (see GenerateResult). */
    parts?: ModelPart[];
    /** The answer's Google Search sources and queries, when it was grounded. */
    grounding?: Grounding;
  }
  | {
    ok: false;
    reason: BrokerFailure;
    partialText?: string;
    retryAt?: number;
    status?: number;
    /** Set when a "rejected" was a file Gemini would not take, not the request or the key. */
    file?: boolean;
  };

/** A thing worth a log line. Keys appear only as their ids. */
export type BrokerEvent =
  | { type: "retry"; keyId: string; attempt: number; delayMs: number; why: string }
  | { type: "rate_limited"; keyId: string; scope: "minute" | "day" }
  | { type: "key_rejected"; keyId: string; status: number }
  /** A disabled key's check: passed (back in use), or failed and is tried again in `retryInMs`. */
  | { type: "key_check"; keyId: string; ok: boolean; status?: number; retryInMs?: number }
  | { type: "cache_created"; keyId: string; tokens: number }
  | { type: "cache_fallback"; keyId: string; why: string }
  | {
    type: "call";
    keyId: string;
    ms: number;
    usage: Usage;
    queueMs: number;
    /** Google searches the answer ran, when it was grounded (each billed past a free allowance). */
    searchQueries?: number;
  }
  /** An answer ended with a finish reason that is neither a plain end nor a block. */
  | { type: "unusual_finish"; keyId: string; reason: string; textLength: number };

/**
 * Running totals, read by metrics and `/status`. Field names are stable: metrics are built on
 * them. Counters only grow; `personaTokens` is set once known.
 */
export interface BrokerStats {
  /** `generate()` requests accepted. */
  requests: number;
  /** Gemini generate calls made (each attempt counts once). */
  calls: number;
  /** Requests answered. */
  succeeded: number;
  /** Requests that ended without an answer (any reason; see `failures`). */
  failed: number;
  /** Failed requests by reason. */
  failures: Record<BrokerFailure, number>;
  /** Attempts scheduled again after a failure. */
  retries: number;
  /** 429s for a per-minute quota (requests or tokens). */
  rateLimitedMinute: number;
  /** 429s for a per-day quota. */
  rateLimitedDay: number;
  /** Calls cut for sending nothing in `timeoutMs`, or for running into `maxWaitMs` unanswered. */
  timeouts: number;
  /** Requests ended "unavailable" because their answer could not start within `maxWaitMs`. */
  waitLimited: number;
  /** Times a key was refused by the server (401, 403, invalid key). */
  keyRejections: number;
  /** Prompt tokens billed, cached ones included (`promptTokenCount`). */
  tokensIn: number;
  /** Answer tokens (`candidatesTokenCount`). */
  tokensOut: number;
  /** Prompt tokens served from a cache, explicit or implicit (`cachedContentTokenCount`). */
  tokensCached: number;
  /** Thinking tokens, billed as output (`thoughtsTokenCount`). */
  tokensThinking: number;
  /** Estimated cost in USD at the configured prices. */
  costUsd: number;
  /** The persona's size in tokens, from `countTokens` at start-up or the cache attempt. */
  personaTokens: number | undefined;
  /** Keys whose persona cache is live now. */
  cachesLive: number;
  /** Answers grounded in Google Search (they came back with sources or queries). */
  groundedCalls: number;
  /** Google searches those answers ran (`webSearchQueries`), billed past a free allowance. */
  searchQueries: number;
  /**
   * Answers that ended with a finish reason neither plain nor a block (`MALFORMED_RESPONSE`,
   * `MISSING_THOUGHT_SIGNATURE`, …), by reason.
   */
  unusualFinishes: Record<string, number>;
}

/** Prices in USD per million tokens, for the cost estimate. */
export interface Prices {
  /** USD per million prompt tokens not served from a cache. */
  input: number;
  /** USD per million answer tokens, thinking included. */
  output: number;
  /** USD per million prompt tokens served from a cache. */
  cached: number;
}

/** What {@link GeminiBroker.verifyKeys} found about one key. */
export interface KeyCheck {
  /** The key's id, safe to log (never the key itself). */
  keyId: string;
  /** True when the key answered a `countTokens` call. */
  ok: boolean;
  /** The HTTP status of the refusal, when there was one. */
  status?: number;
  /** What happened, without the key. */
  message: string;
}

/** The broker, as the message flow sees it. */
export interface BrokerPort {
  /** Queues a call; resolves when it is answered or given up. Never rejects. */
  generate(request: BrokerRequest): Promise<BrokerResult>;
  /** Requests waiting for a turn. */
  readonly queueLength: number;
}
