/**
 * The Gemini port: what the broker asks of Gemini and what it gets back, with no SDK in sight.
 * `lib/gemini/client.ts` implements it over `@google/generative-ai`; tests hand in fakes.
 *
 * @module
 */

import type { ThinkingLevel } from "./model_facts.ts";

/** Re-exported: the thinking level a request may carry. */
export type { ThinkingLevel };

/**
 * One part of a turn: text, bytes sent inline (base64), or a file uploaded through the Files API.
 */
export type Part =
  | { text: string }
  // `text?: never` keeps `part.text` readable on any part, as with the SDK's own types.
  | { text?: never; inlineData: { mimeType: string; data: string } }
  | { text?: never; fileData: { mimeType: string; fileUri: string } }
  | ModelPart;

/** The sources Google Search gave an answer (`groundingMetadata`). */
export interface Grounding {
  /** The web pages the answer rests on, in Gemini's order, without repeats. */
  sources: { title: string; uri: string }[];
  /** The searches Gemini ran (`webSearchQueries`), each billed beyond a free allowance. */
  queries: string[];
}

/**
 * A part of a model turn exactly as Gemini sent it, kept whole so that it goes back as received
 * (Google's contract for 3.x models): text with its `thoughtSignature`, a signature on a part of
 * its own whose text is empty, and whatever else a turn may hold (`toolCall`, `toolResponse`,
 * `functionCall` parts, each with its signature). Only `text` and `thought` are read here.
 */
export interface ModelPart {
  /** The part's text, when it has some; may be empty on a part that only carries a signature. */
  text?: string;
  /** True on a thought-summary part, which is not part of the answer. */
  thought?: boolean;
  /** The opaque signature of the model's thinking, sent back as received. */
  thoughtSignature?: string;
  /** Any other field Gemini sent, kept as it came. */
  [field: string]: unknown;
}

/**
 * One turn of Gemini `contents`. Ours rather than the SDK's type, so that swapping the SDK changes
 * no caller.
 */
export interface Content {
  /** Who spoke: "user", or "model" for the bot's own turns (a string, as the API takes it). */
  role: string;
  /** The turn's text and attachments, in one or more parts. */
  parts: Part[];
}

/** Token counts of one call, as `usageMetadata` reports them. */
export interface Usage {
  /** Prompt tokens, including the cached ones. */
  promptTokens: number;
  /** Prompt tokens served from a cache (`cachedContentTokenCount`). */
  cachedTokens: number;
  /** Answer tokens, thinking left out (`candidatesTokenCount`). */
  outputTokens: number;
  /** Billed as output; `thoughtsTokenCount`, which the SDK leaves untyped. */
  thinkingTokens: number;
}

/** One generation request. */
export interface GenerateRequest {
  /** The API key to call with; never log it. */
  apiKey: string;
  /** The Gemini model name, such as `gemini-3.5-flash-lite`. */
  model: string;
  /** The conversation to answer, oldest turn first. */
  contents: Content[];
  /** The persona; left out when `cachedContent` already holds it. */
  systemInstruction?: string;
  /** A `cachedContents/...` name holding the system instruction. */
  cachedContent?: string;
  /**
   * Sent as `thinkingConfig.thinkingLevel`; left out, the model's own default. Never a budget:
   * 3.x models refuse one beside a level, and 3.5 Flash-Lite refuses `thinkingBudget: 0`.
   */
  thinkingLevel?: ThinkingLevel;
  /** Caps the answer's length in tokens; left out, the model's own limit applies. */
  maxOutputTokens?: number;
  /**
   * Lets the model search Google (`tools: [{googleSearch: {}}]`, its tool calls returned as
   * parts). Never next to `cachedContent`: the API refuses tools beside a cache.
   */
  googleSearch?: boolean;
  /** Called with the whole text so far each time a chunk arrives; never after the call settles. */
  onText?: (textSoFar: string) => void;
  /**
   * Ends the call: it rejects at once with the signal's reason. The caller's deadlines (the
   * broker's idle timeout, the user's wait bound, stopping) all arrive this way.
   */
  signal?: AbortSignal;
}

/** A finished generation. */
export interface GenerateResult {
  /** The whole answer, thought-summary parts left out. */
  text: string;
  /**
   * The model's turn as Gemini sent it, to send back in later requests: the stream's parts in
   * order, signatures included (adjacent plain text chunks joined, as the SDK joins them).
   * Undefined from a client that does not keep them; the turn then goes back as its text.
   */
  parts?: ModelPart[];
  /** What the call cost in tokens. */
  usage: Usage;
  /** Why the model stopped (`STOP`, `MAX_TOKENS`, …), when the stream said. */
  finishReason: string | undefined;
  /** The answer's Google Search sources and queries, when it was grounded. */
  grounding?: Grounding;
}

/** A cache of the system instruction. */
export interface CachedPrompt {
  /** The cache's `cachedContents/...` name, passed as `cachedContent` on later calls. */
  name: string;
  /** Epoch ms when the server drops the cache. */
  expiresAt: number;
  /** The cached instruction's size in tokens; 0 when the server did not say. */
  tokens: number;
}

/** Thrown when a call outlives its deadline: no answer, or no new chunk, within `ms`. */
export class GeminiTimeoutError extends Error {
  /** Creates the error for a deadline of `ms` milliseconds. */
  constructor(ms: number) {
    super(`Gemini sent nothing for ${ms} ms`);
    this.name = "GeminiTimeoutError";
  }
}

/** Thrown when Gemini blocks the prompt or the answer; the message names the reason. */
export class GeminiBlockedError extends Error {
  /** Gemini's reason, such as SAFETY or RECITATION. */
  readonly reason: string;
  /** Creates the error for Gemini's block `reason`. */
  constructor(reason: string) {
    super(`Response was blocked due to ${reason}`);
    this.name = "GeminiBlockedError";
    this.reason = reason;
  }
}

/** What the broker needs from Gemini. Small, so tests and another SDK can stand in. */
export interface GeminiClient {
  /**
   * Streams one answer. Rejects with the SDK's error (it carries `status`), a
   * {@link GeminiBlockedError}, or the reason `signal` aborted with. Keeps no timer: the caller's
   * `signal` ends a call that takes too long.
   */
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Caches a system instruction; rejects with a 400 when it is too small to cache. */
  cacheSystemInstruction(
    request: { apiKey: string; model: string; systemInstruction: string; ttlSeconds: number },
  ): Promise<CachedPrompt>;
  /**
   * Counts the tokens of a system instruction (a cheap call that also proves the key works: a
   * bad key rejects with the SDK's 400/401/403 error).
   */
  countTokens(
    request: { apiKey: string; model: string; systemInstruction: string; deadlineMs: number },
  ): Promise<number>;
}
