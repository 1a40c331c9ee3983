/**
 * The Gemini client: the only module that imports `@google/generative-ai`, so that the SDK
 * (legacy since 2025-08-31; its successor is `@google/genai`) can be swapped in one file.
 *
 * It streams, ends a call the moment its `signal` aborts (the caller owns the deadlines: the SDK's
 * `timeout` leaves a timer running, and aborting a stream mid-body is unreliable on Deno, so the
 * call is raced rather than trusted to stop), and always handles `result.response`, because a
 * failed stream that rejects it unobserved would end the process. It reads each chunk as it came:
 * the SDK's aggregated response drops `thoughtSignature`, which Gemini 3 puts on a last part of its
 * own, and the model's turn must go back with it.
 *
 * @module
 */
import { type Content as SdkContent, GoogleGenerativeAI } from "@google/generative-ai";
import { GoogleAICacheManager } from "@google/generative-ai/server";
import { cancelBodiesOnAbort } from "./fetch_abort.ts";
import { BLOCK_REASONS } from "./errors.ts";
import {
  type CachedPrompt,
  GeminiBlockedError,
  type GeminiClient,
  GeminiTimeoutError,
  type GenerateRequest,
  type GenerateResult,
  type Grounding,
  type ModelPart,
} from "./port.ts";
import { groundingFrom } from "./parts.ts";

/** Re-exported: the port is declared in `lib/gemini/port.ts`, and callers may import it from here. */
export type {
  CachedPrompt,
  Content,
  GeminiClient,
  GenerateRequest,
  GenerateResult,
  Grounding,
  ModelPart,
  Part,
  Usage,
} from "./port.ts";
/** Re-exported: the errors this client rejects with. */
export { GeminiBlockedError, GeminiTimeoutError };

/** Fields of a streamed chunk that the SDK's types leave out or make awkward. */
interface RawChunk {
  candidates?: {
    content?: { parts?: ModelPart[] };
    finishReason?: string;
    groundingMetadata?: unknown;
  }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: {
    promptTokenCount?: number;
    cachedContentTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
  };
}

/** Google Search as a tool, its calls and responses returned as parts of the model's turn. */
const SEARCH_TOOL = {
  tools: [{ googleSearch: {} }],
  toolConfig: { includeServerSideToolInvocations: true },
};

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
    // An abort must close the stream's connection (a stop button, a deadline), which Deno's
    // fetch stops doing once a GC has run (see fetch_abort.ts).
    cancelBodiesOnAbort(options.baseUrl);
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
    if (request.thinkingLevel !== undefined) {
      // Not in 0.24.1's types; the SDK passes generationConfig through as it is.
      generationConfig.thinkingConfig = { thinkingLevel: request.thinkingLevel };
    }
    if (request.maxOutputTokens !== undefined) {
      generationConfig.maxOutputTokens = request.maxOutputTokens;
    }
    const model = this.#client(request.apiKey).getGenerativeModel(
      {
        model: request.model,
        ...(request.cachedContent ? {} : { systemInstruction: request.systemInstruction }),
        generationConfig,
        // The SDK predates `googleSearch` (it types only `googleSearchRetrieval`) but passes
        // tools through; the server-side tool's calls come back as parts, to be sent back whole.
        ...(request.googleSearch ? SEARCH_TOOL as unknown as Record<string, never> : {}),
      },
      { baseUrl: this.#baseUrl },
    );
    const result = await model.generateContentStream(
      {
        // Model turns carry fields the SDK's types lack (thoughtSignature, tool parts); the SDK
        // sends contents as they are.
        contents: request.contents as SdkContent[],
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
    const parts: ModelPart[] = [];
    // Each chunk as it came: the SDK's aggregated `result.response` drops `thoughtSignature`.
    let grounding: Grounding | undefined;
    for await (const chunk of result.stream) {
      const raw = chunk as RawChunk;
      blockReason ??= raw.promptFeedback?.blockReason;
      const candidate = raw.candidates?.[0];
      finishReason = candidate?.finishReason ?? finishReason;
      usage = raw.usageMetadata ?? usage;
      const chunkParts = candidate?.content?.parts ?? [];
      grounding = groundingFrom(candidate?.groundingMetadata) ?? grounding;
      for (const part of chunkParts) appendPart(parts, part);
      // Thought-summary parts are not part of the answer; an empty part carrying the signature
      // adds nothing to it.
      const delta = chunkParts
        .filter((p) => !p.thought && typeof p.text === "string")
        .map((p) => p.text)
        .join("");
      if (delta.length > 0) {
        text += delta;
        request.onText?.(text);
      }
    }
    if (blockReason) throw new GeminiBlockedError(blockReason);
    if (text.length === 0 && finishReason && BLOCK_REASONS.has(finishReason)) {
      throw new GeminiBlockedError(finishReason);
    }
    return {
      text,
      parts,
      finishReason,
      ...(grounding ? { grounding } : {}),
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
 * Adds a streamed part to a model turn: a plain text chunk joins the plain text part before it (as
 * the SDK joins them); any part with more to it (a signature, a thought, a tool call) stays whole.
 *
 * @example
 * ```ts
 * import { appendPart, type ModelPart } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const parts: ModelPart[] = [];
 * for (const part of [{ text: "안" }, { text: "녕" }, { text: "", thoughtSignature: "c2ln" }]) {
 *   appendPart(parts, part);
 * }
 * assert.deepEqual(parts, [{ text: "안녕" }, { text: "", thoughtSignature: "c2ln" }]);
 * ```
 */
export function appendPart(parts: ModelPart[], part: ModelPart): void {
  const previous = parts.at(-1);
  if (previous !== undefined && isPlainText(previous) && isPlainText(part)) {
    previous.text += part.text!;
    return;
  }
  parts.push({ ...part });
}

/** A part with text and nothing else. */
function isPlainText(part: ModelPart): boolean {
  return typeof part.text === "string" && Object.keys(part).length === 1;
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
