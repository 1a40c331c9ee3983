/**
 * The models an API key can use (`models.list`), and the one log line that says a configured
 * model is gone: Google retires models, and a `GEMINI_MODEL` that answers 404 is only fixed by
 * an operator who knows which names work instead.
 *
 * The SDK (0.24) has no `models.list`, so this is one plain REST call, with the key in the
 * `x-goog-api-key` header as the SDK sends it.
 *
 * @module
 */

import { CURRENT_MODELS } from "./model_facts.ts";

/** Thrown at start when `GEMINI_MODEL` answers 404 for every key: the start fails with exit 2. */
export class ModelNotFoundError extends Error {
  /** Creates the error; `message` is {@linkcode modelGoneMessage}'s line. */
  constructor(message: string) {
    super(message);
    this.name = "ModelNotFoundError";
  }
}

/** Options for {@linkcode listGenerateModels}. */
export interface ListModelsOptions {
  /** Milliseconds the whole listing may take. @default {10000} */
  deadlineMs?: number;
  /** Makes the requests; tests may hand in another. @default {globalThis.fetch} */
  fetch?: typeof fetch;
}

/** Pages of `models.list` read at most: the API holds a few dozen models, 1,000 a page. */
const MAX_PAGES = 5;

/**
 * The model ids (without `models/`) in a `models.list` page that support `generateContent`,
 * and the next page's token.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const page = {
 *   models: [
 *     { name: "models/gemini-2.5-flash", supportedGenerationMethods: ["generateContent"] },
 *     { name: "models/text-embedding-004", supportedGenerationMethods: ["embedContent"] },
 *   ],
 * };
 * deepStrictEqual(generateModelsIn(page), { models: ["gemini-2.5-flash"], next: undefined });
 * ```
 */
export function generateModelsIn(page: unknown): { models: string[]; next: string | undefined } {
  const body = (page ?? {}) as { models?: unknown; nextPageToken?: unknown };
  const models: string[] = [];
  for (const model of Array.isArray(body.models) ? body.models : []) {
    const { name, supportedGenerationMethods: methods } = (model ?? {}) as {
      name?: unknown;
      supportedGenerationMethods?: unknown;
    };
    if (typeof name !== "string" || !Array.isArray(methods)) continue;
    if (methods.includes("generateContent")) models.push(name.replace(/^models\//, ""));
  }
  const next = typeof body.nextPageToken === "string" && body.nextPageToken !== ""
    ? body.nextPageToken
    : undefined;
  return { models, next };
}

/**
 * Lists the models `apiKey` can call `generateContent` on, from the API at `baseUrl`. Rejects
 * with an error naming the HTTP status (never the key) when the listing is refused.
 */
export async function listGenerateModels(
  baseUrl: string,
  apiKey: string,
  options: ListModelsOptions = {},
): Promise<string[]> {
  const fetcher = options.fetch ?? fetch;
  const signal = AbortSignal.timeout(options.deadlineMs ?? 10_000);
  const models: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL("/v1beta/models", baseUrl);
    url.searchParams.set("pageSize", "1000");
    if (token !== undefined) url.searchParams.set("pageToken", token);
    const response = await fetcher(url, { headers: { "x-goog-api-key": apiKey }, signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`models.list answered ${response.status} ${response.statusText}`.trim());
    }
    const { models: found, next } = generateModelsIn(await response.json());
    models.push(...found);
    if (next === undefined) break;
    token = next;
  }
  return models;
}

/**
 * The ERROR line for a `GEMINI_MODEL` that answered 404, naming the models the key can use (or
 * why they could not be listed).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(
 *   modelGoneMessage("gemini-2.5-flash", ["gemini-3.5-flash-lite"]),
 *   "GEMINI_MODEL=gemini-2.5-flash was not found (404): it is retired or misspelt. " +
 *     "Set GEMINI_MODEL to one of the models this key can use: gemini-3.5-flash-lite",
 * );
 * ```
 */
export function modelGoneMessage(model: string, available: string[] | Error): string {
  const head = `GEMINI_MODEL=${model} was not found (404): it is retired or misspelt.`;
  const current = `Current models: ${CURRENT_MODELS.join(", ")}`;
  if (available instanceof Error) {
    return `${head} The models this key can use could not be listed (${available.message}). ${current}`;
  }
  if (available.length === 0) {
    return `${head} models.list named no model this key can use. ${current}`;
  }
  return `${head} Set GEMINI_MODEL to one of the models this key can use: ${available.join(", ")}`;
}

/**
 * Notices a model retired while the bot runs, once: the first call that ends "rejected" with a
 * 404 calls `onGone`, and later ones stay quiet until a call succeeds again (the model is back,
 * or the operator fixed it), so a busy server logs one line rather than one per message.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * let told = 0;
 * const watch = new ModelWatch(() => told++);
 * watch.observe({ ok: false, reason: "rejected", status: 404 });
 * watch.observe({ ok: false, reason: "rejected", status: 404 });
 * strictEqual(told, 1);
 * ```
 */
export class ModelWatch {
  #gone = false;
  #onGone: () => void;

  /** Calls `onGone` at the first 404 of each spell without a working call. */
  constructor(onGone: () => void) {
    this.#onGone = onGone;
  }

  /** True between a 404 and the next answered call. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Reads how a broker call ended. */
  observe(result: { ok: true } | { ok: false; reason: string; status?: number }): void {
    if (result.ok) {
      this.#gone = false;
      return;
    }
    if (result.reason !== "rejected" || result.status !== 404 || this.#gone) return;
    this.#gone = true;
    this.#onGone();
  }
}
