/**
 * The Gemini client: the only module that imports `@google/generative-ai`, so that the SDK
 * (legacy since 2025-08-31; its successor is `@google/genai`) can be swapped in one file.
 *
 * It streams, ends a call the moment its `signal` aborts (the caller owns the deadlines: the SDK's
 * `timeout` leaves a timer running, and aborting a stream mid-body is unreliable on Deno, so the
 * call is raced rather than trusted to stop), and always handles `result.response`, because a
 * failed stream that rejects it unobserved would end the process.
 *
 * @module
 */
import { GoogleGenerativeAI } from "@google/generative-ai";
import { GoogleAICacheManager } from "@google/generative-ai/server";

/**
 * One turn of Gemini `contents`, text only. Ours rather than the SDK's type, so that swapping the
 * SDK changes no caller.
 */
export interface Content {
  /** "user" or "model". */
  role: string;
  /** The turn's text, in one or more parts. */
  parts: { text: string }[];
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
  /** The Gemini model name, such as `gemini-2.5-flash`. */
  model: string;
  /** The conversation to answer, oldest turn first. */
  contents: Content[];
  /** The persona; left out when `cachedContent` already holds it. */
  systemInstruction?: string;
  /** A `cachedContents/...` name holding the system instruction. */
  cachedContent?: string;
  /** 0 turns thinking off where the model allows it; -1 lets the model decide. */
  thinkingBudget?: number;
  /** Caps the answer's length in tokens; left out, the model's own limit applies. */
  maxOutputTokens?: number;
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
  /** What the call cost in tokens. */
  usage: Usage;
  /** Why the model stopped (`STOP`, `MAX_TOKENS`, …), when the stream said. */
  finishReason: string | undefined;
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

/** Fields of a streamed chunk that the SDK's types leave out or make awkward. */
interface RawChunk {
  candidates?: {
    content?: { parts?: { text?: string; thought?: boolean }[] };
    finishReason?: string;
  }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: {
    promptTokenCount?: number;
    cachedContentTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
  };
}

const BLOCKING = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"]);

/**
 * A {@link GeminiClient} over `@google/generative-ai`.
 *
 * @example
 * ```ts
 * const gemini = new SdkGeminiClient({ baseUrl: "https://generativelanguage.googleapis.com" });
 * ```
 */
export class SdkGeminiClient implements GeminiClient {
  #baseUrl: string;
  #clients = new Map<string, GoogleGenerativeAI>();

  /** Creates a client for the API at `baseUrl`; SDK clients are made per key on first use. */
  constructor(options: { baseUrl: string }) {
    this.#baseUrl = options.baseUrl;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const abort = new AbortController();
    const onAbort = () => abort.abort(request.signal?.reason);
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    // Once the call has settled (deadline, abort), late chunks of an abandoned stream must not
    // reach the caller's screen while a retry runs.
    let settled = false;
    const guarded: GenerateRequest = {
      ...request,
      onText: (text) => {
        if (!settled) request.onText?.(text);
      },
    };
    let readToTheEnd = false;
    try {
      const result = await withDeadline(this.#stream(guarded, abort.signal), undefined, abort);
      readToTheEnd = true;
      return result;
    } finally {
      settled = true;
      request.signal?.removeEventListener("abort", onAbort);
      // Only an abandoned stream has a request left to cancel. Aborting a finished one cost two
      // DOMExceptions a call (this controller's and the SDK's own, which listens to it).
      if (!readToTheEnd) abort.abort();
    }
  }

  async countTokens(
    request: { apiKey: string; model: string; systemInstruction: string; deadlineMs: number },
  ): Promise<number> {
    const abort = new AbortController();
    const model = this.#client(request.apiKey).getGenerativeModel(
      { model: request.model },
      { baseUrl: this.#baseUrl },
    );
    try {
      const counted = await withDeadline(
        model.countTokens(
          { contents: [{ role: "user", parts: [{ text: request.systemInstruction }] }] },
          { signal: abort.signal },
        ),
        request.deadlineMs,
        abort,
      );
      return counted.totalTokens;
    } finally {
      abort.abort();
    }
  }

  async #stream(request: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    const generationConfig: Record<string, unknown> = {};
    if (request.thinkingBudget !== undefined) {
      generationConfig.thinkingConfig = { thinkingBudget: request.thinkingBudget };
    }
    if (request.maxOutputTokens !== undefined) {
      generationConfig.maxOutputTokens = request.maxOutputTokens;
    }
    const model = this.#client(request.apiKey).getGenerativeModel(
      {
        model: request.model,
        ...(request.cachedContent ? {} : { systemInstruction: request.systemInstruction }),
        generationConfig,
      },
      { baseUrl: this.#baseUrl },
    );
    const result = await model.generateContentStream(
      {
        contents: request.contents,
        ...(request.cachedContent ? { cachedContent: request.cachedContent } : {}),
      },
      { signal },
    );
    // The aggregated response rejects whenever the stream fails; observe it so it never goes
    // unhandled. Errors surface through the stream loop below.
    result.response.catch(() => {});
    let text = "";
    let finishReason: string | undefined;
    let blockReason: string | undefined;
    let usage: RawChunk["usageMetadata"];
    for await (const chunk of result.stream) {
      const raw = chunk as RawChunk;
      blockReason ??= raw.promptFeedback?.blockReason;
      const candidate = raw.candidates?.[0];
      finishReason = candidate?.finishReason ?? finishReason;
      usage = raw.usageMetadata ?? usage;
      // Thought-summary parts are not part of the answer.
      const delta = (candidate?.content?.parts ?? [])
        .filter((p) => !p.thought && typeof p.text === "string")
        .map((p) => p.text)
        .join("");
      if (delta.length > 0) {
        text += delta;
        request.onText?.(text);
      }
    }
    if (blockReason) throw new GeminiBlockedError(blockReason);
    if (text.length === 0 && finishReason && BLOCKING.has(finishReason)) {
      throw new GeminiBlockedError(finishReason);
    }
    return {
      text,
      finishReason,
      usage: {
        promptTokens: usage?.promptTokenCount ?? 0,
        cachedTokens: usage?.cachedContentTokenCount ?? 0,
        outputTokens: usage?.candidatesTokenCount ?? 0,
        thinkingTokens: usage?.thoughtsTokenCount ?? 0,
      },
    };
  }

  async cacheSystemInstruction(
    request: { apiKey: string; model: string; systemInstruction: string; ttlSeconds: number },
  ): Promise<CachedPrompt> {
    const manager = new GoogleAICacheManager(request.apiKey, { baseUrl: this.#baseUrl });
    const cache = await manager.create({
      model: `models/${request.model}`,
      systemInstruction: request.systemInstruction,
      contents: [],
      ttlSeconds: request.ttlSeconds,
    });
    const tokens = ((cache as { usageMetadata?: unknown }).usageMetadata as
      | { totalTokenCount?: number }
      | undefined)
      ?.totalTokenCount;
    return {
      name: cache.name!,
      expiresAt: cache.expireTime
        ? Date.parse(cache.expireTime)
        : Date.now() + request.ttlSeconds * 1000,
      tokens: tokens ?? 0,
    };
  }

  #client(apiKey: string): GoogleGenerativeAI {
    let client = this.#clients.get(apiKey);
    if (!client) {
      client = new GoogleGenerativeAI(apiKey);
      this.#clients.set(apiKey, client);
    }
    return client;
  }
}

/**
 * Races `work` against `abort` and, unless `ms` is undefined, a timer of `ms` that rejects with
 * {@link GeminiTimeoutError} and aborts `abort`; the timer is always cleared, and `work`'s late
 * rejection is always observed.
 */
async function withDeadline<T>(
  work: Promise<T>,
  ms: number | undefined,
  abort: AbortController,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (ms !== undefined) {
      timer = setTimeout(() => {
        const error = new GeminiTimeoutError(ms);
        reject(error);
        abort.abort(error);
      }, ms);
    }
    // An abort from outside (a deadline of the caller's, the broker stopping) ends the call now.
    onAbort = () => reject(abort.signal.reason ?? new Error("Gemini call aborted"));
    if (abort.signal.aborted) onAbort();
    else abort.signal.addEventListener("abort", onAbort, { once: true });
  });
  work.catch(() => {});
  deadline.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    abort.signal.removeEventListener("abort", onAbort!);
  }
}
