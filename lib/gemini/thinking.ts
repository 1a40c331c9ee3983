/**
 * Thinking levels a model refuses, learned while running. The model table
 * (`lib/gemini/model_facts.ts`) knows the levels of the models it lists, and the start refuses a
 * configured level those refuse; a model off the table is only found out by its first 400
 * ("Thinking level MINIMAL is not supported for this model."). That answer is learned once, logged
 * by the caller, and the call made again at the model's own default, so it never becomes a
 * turn-by-turn failure and no probe call spends quota at start.
 *
 * @module
 */
import type {
  CachedPrompt,
  GeminiClient,
  GenerateRequest,
  GenerateResult,
  ThinkingLevel,
} from "./port.ts";

/** Re-exported: the port this decorator implements. */
export type * from "./port.ts";

/**
 * Whether `error` is Gemini's 400 refusing a thinking setting: a level the model does not take,
 * or a budget beside a level.
 *
 * @example
 * ```ts
 * import { isThinkingRefusal } from "./thinking.ts";
 * import assert from "node:assert/strict";
 *
 * const refusal = Object.assign(
 *   new Error("[400 Bad Request] Thinking level MINIMAL is not supported for this model."),
 *   { status: 400 },
 * );
 * assert.equal(isThinkingRefusal(refusal), true);
 * assert.equal(isThinkingRefusal(Object.assign(new Error("quota"), { status: 429 })), false);
 * ```
 */
export function isThinkingRefusal(error: unknown): boolean {
  if ((error as { status?: unknown } | undefined)?.status !== 400) return false;
  const message = error instanceof Error ? error.message : String(error);
  return /thinking (level|budget)/i.test(message);
}

/** Options for {@linkcode ThinkingFallback}. */
export interface ThinkingFallbackOptions {
  /** Told once per model and level, when a refusal is learned (for a WARN line). */
  onLearned?(model: string, level: ThinkingLevel, why: string): void;
}

/**
 * A {@link GeminiClient} that sends each call's thinking level until the model refuses it, then
 * makes that call again without it, and leaves the level out of that model's later calls.
 *
 * @example
 * ```ts ignore
 * const client = new ThinkingFallback(new SdkGeminiClient({ baseUrl }), {
 *   onLearned: (model, level) => log.warn(`${model} refuses thinking level ${level}`),
 * });
 * ```
 */
export class ThinkingFallback implements GeminiClient {
  #inner: GeminiClient;
  #options: ThinkingFallbackOptions;
  #refused = new Set<string>();

  /** Wraps `inner`. */
  constructor(inner: GeminiClient, options: ThinkingFallbackOptions = {}) {
    this.#inner = inner;
    this.#options = options;
  }

  /** Whether `model` was found to refuse `level`. */
  refuses(model: string, level: ThinkingLevel): boolean {
    return this.#refused.has(`${model}\n${level}`);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const level = request.thinkingLevel;
    if (level === undefined) return this.#inner.generate(request);
    const withoutLevel = { ...request, thinkingLevel: undefined };
    if (this.refuses(request.model, level)) return this.#inner.generate(withoutLevel);
    try {
      return await this.#inner.generate(request);
    } catch (error) {
      if (!isThinkingRefusal(error) || request.signal?.aborted) throw error;
      this.#refused.add(`${request.model}\n${level}`);
      const why = error instanceof Error ? error.message : String(error);
      this.#options.onLearned?.(request.model, level, why);
      return this.#inner.generate(withoutLevel);
    }
  }

  cacheSystemInstruction(
    request: { apiKey: string; model: string; systemInstruction: string; ttlSeconds: number },
  ): Promise<CachedPrompt> {
    return this.#inner.cacheSystemInstruction(request);
  }

  countTokens(
    request: { apiKey: string; model: string; systemInstruction: string; deadlineMs: number },
  ): Promise<number> {
    return this.#inner.countTokens(request);
  }
}
