/**
 * A fake Gemini Developer API (REST v1beta, SSE streaming, context caches) on loopback, for tests
 * that drive the real `@google/generative-ai` SDK through its `baseUrl` request option.
 *
 * @example
 * ```ts ignore
 * const fake = await FakeGemini.start();
 * fake.reply("안녕!").fail429({ kind: "minute" });
 * const model = new GoogleGenerativeAI("test-key").getGenerativeModel(
 *   { model: "gemini-2.5-flash" },
 *   { baseUrl: fake.url },
 * );
 * await fake.close();
 * ```
 * @module
 */

import { ImplicitCache, type PromptPart } from "./implicit_cache.ts";

const RECORDINGS = new URL("../fixtures/gemini-recordings/", import.meta.url);
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// The free tier's daily quota resets at midnight Pacific; a fixed UTC-8 ignores daylight saving,
// which is close enough for a fake whose clock is injected anyway.
const PACIFIC_OFFSET_MS = 8 * 3_600_000;
const DEFAULT_CACHE_TTL_MS = 3_600_000;
const FILE_TTL_MS = 48 * 3_600_000;
// An image costs a fixed 258 tokens on Gemini 2.x when it fits one tile.
const INLINE_DATA_TOKENS = 258;
// Explicit caches: first match wins, so "flash-lite" must precede "flash". 2.5's minimums are
// kept for the tests that replay that era; 3.x Flash caches from 4,096 tokens (docs of
// 2026-10-13), and Flash-Lite lists none, so it gets the strictest value.
const CACHE_MIN_TOKENS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^gemini-2\.5-flash-lite/, 2048],
  [/^gemini-2\.5-flash/, 1024],
];
const DEFAULT_CACHE_MIN_TOKENS = 4096;
/**
 * Implicit caching: 3.5–3.8 Flash from 4,096 tokens; none on Flash-Lite (one report saw no hit on
 * 3.5 Flash-Lite even with a 15.9K-token prefix), so it never reports cached tokens there.
 */
function implicitCacheMinTokens(model: string): number | undefined {
  if (/flash-lite/.test(model) && !model.startsWith("gemini-2.")) return undefined;
  return cacheMinTokens(model);
}
/** What `models.list` answers when no `models` option narrows it: December 2026's stable models. */
export const DEFAULT_MODELS: readonly string[] = [
  "gemini-3.5-flash-lite",
  "gemini-3.8-flash",
  "gemini-3.7-flash",
  "gemini-3.6-flash",
  "gemini-3.5-flash",
  "gemini-3.1-flash-lite",
];
/** Retired: a new project's key gets 404 for these, whatever `models` says. */
const RETIRED_MODEL = /^gemini-(1\.|2\.)/;
/** The models that refuse a thinking level (recorded: 3.7 Flash and 3.1 Pro refuse MINIMAL). */
const REFUSED_LEVELS: ReadonlyArray<readonly [RegExp, readonly string[]]> = [
  [/^gemini-3\.[78]-flash(?!-lite)/, ["minimal"]],
  [/^gemini-3(\.\d)?-pro/, ["minimal"]],
];
/** The thinking tokens a level spends, as a share of `thoughtsTokens`; minimal spends none. */
const LEVEL_THOUGHTS: Readonly<Record<string, number>> = {
  minimal: 0,
  low: 0.25,
  medium: 1,
  high: 2,
};

/** A `Content` as the REST API carries it. */
export interface Content {
  role?: string;
  parts?: Part[];
}

/** A `Part`; only `text` is interpreted, other kinds are counted roughly. */
export interface Part {
  text?: string;
  thought?: boolean;
  [field: string]: unknown;
}

/** A generate or stream request as the fake's responder sees it. */
export interface GenerateRequest {
  /** Model id without the `models/` prefix, e.g. `gemini-2.5-flash`. */
  model: string;
  stream: boolean;
  apiKey: string;
  contents: Content[];
  systemInstruction?: Content;
  generationConfig?: {
    thinkingConfig?: { thinkingBudget?: number; thinkingLevel?: string };
    [k: string]: unknown;
  };
  cachedContent?: string;
  /** Text of the last `user` turn, joined over its parts. */
  lastUserText: string;
  /**
   * The files in the last `user` turn, in order: inline bytes decoded, uploaded files looked up,
   * so a responder can answer what it was shown.
   */
  attachments: FakeAttachment[];
  /** The raw JSON body. */
  body: Record<string, unknown>;
}

/** A file the model was shown, as the responder sees it. */
export interface FakeAttachment {
  mimeType: string;
  bytes: Uint8Array;
  /** `inline` for an `inlineData` part, `file` for a `fileData` part naming an upload. */
  via: "inline" | "file";
}

/** A file uploaded through the Files API, as the fake keeps it. */
export interface UploadedFile {
  /** `files/...`. */
  name: string;
  uri: string;
  mimeType: string;
  displayName?: string;
  bytes: Uint8Array;
  /** The key it was uploaded with: only that key (its project) may read it. */
  apiKey: string;
  createTime: number;
  /** Files expire 48 hours after upload. */
  expirationTime: number;
  /** Set by `DELETE /v1beta/files/{id}`. */
  deleted: boolean;
}

/** Per-key limits; each is enforced only when set. */
export interface QuotaLimits {
  /** Generate requests per sliding minute. */
  rpm?: number;
  /** Prompt tokens (cached tokens included) per sliding minute. */
  tpm?: number;
  /** Generate requests per Pacific day. */
  rpd?: number;
}

/** Options for {@linkcode FakeGemini.start}. */
export interface FakeGeminiOptions {
  /** Accepted API keys. @default {["test-key"]} */
  apiKeys?: string[];
  /** Quota enforced per key; none when absent. */
  quota?: QuotaLimits;
  /** Clock for quotas, cache expiry and recordings. @default {Date.now} */
  now?: () => number;
  /** Reply text when the script queue is empty. @default {a Korean echo of the last user text} */
  responder?: (req: GenerateRequest) => string;
  /**
   * `thoughtsTokenCount` at the `medium` level (`low` a quarter, `high` double, `minimal` none:
   * then the field is absent, as on the real API). Flash-Lite thinks `minimal` unless told, other
   * models `medium`. @default {200}
   */
  thoughtsTokens?: number;
  /**
   * Thinking levels refused with the recorded 400, by model, over the built-in ones (3.7/3.8
   * Flash and 3.x Pro refuse `minimal`); for tests of a model the bot does not know.
   */
  refusedLevels?: Record<string, string[]>;
  /** How many SSE events a streamed text is split into. @default {4} */
  chunks?: number;
  /**
   * When set, any other model answers 404 NOT_FOUND like the real API (generate and
   * countTokens), and `models.list` lists these. @default {every model answers; the list holds
   * {@linkcode DEFAULT_MODELS}}
   */
  models?: string[];
  /**
   * Implicit caching as Google documents it: leading tokens that repeat a recent request's, at
   * least the model's minimum (4,096 on 3.5–3.8 Flash; 2.5's for replayed 2.5 tests; none on 3.x
   * Flash-Lite, which never reports a hit), are reported as `cachedContentTokenCount`.
   * @default {true}
   */
  implicitCache?: boolean;
  /** How long a request's prefix stays reusable by the implicit cache, in ms. @default {300000} */
  implicitCacheTtlMs?: number;
}

/** One scripted outcome, consumed by the next generate or stream call. */
export interface ScriptStep {
  /** Reply text; the responder's when neither this nor another source is set. */
  text?: string;
  /** A recording under `gemini-recordings/`, e.g. `googleai/streaming-success-basic-reply-short.txt`. */
  replay?: string;
  /** An HTTP error with this status and JSON body. */
  error?: { status: number; body: unknown };
  /** Reply with the recorded prompt-blocked-for-SAFETY response. */
  safetyBlock?: boolean;
  /** Delay before the response headers. */
  delayFirstMs?: number;
  /** Delay between SSE events. */
  chunkDelayMs?: number;
  /** SSE events for `text`. */
  chunks?: number;
  /** The last event's `finishReason`, such as `MAX_TOKENS` for an answer cut short. @default {"STOP"} */
  finishReason?: string;
  /** Send this many SSE events (unary: half the body when 0 or more) and then abort the connection. */
  breakAfter?: number;
}

/** Which operation a recorded request was. */
export type FakeGeminiAction =
  | "generateContent"
  | "streamGenerateContent"
  | "countTokens"
  | "cachedContents.create"
  | "cachedContents.list"
  | "cachedContents.get"
  | "cachedContents.update"
  | "cachedContents.delete"
  | "files.upload"
  | "files.list"
  | "files.get"
  | "files.delete"
  | "models.list"
  | "unknown";

/** A request the fake answered, with the status it chose. */
export interface RecordedRequest {
  method: string;
  path: string;
  model?: string;
  action: FakeGeminiAction;
  apiKey: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  at: number;
  status: number;
  /**
   * How a response body ended, and when (the fake's clock): read to its end, or cancelled by
   * the client (a call it aborted); absent while it is still being read.
   */
  bodyEnd?: { how: "complete" | "cancelled"; at: number };
}

/** Counters kept since start. */
export interface FakeGeminiStats {
  requests: number;
  rejected429: number;
  byKey: Record<string, { requests: number; rejected429: number }>;
}

/**
 * Rough token count: ASCII characters / 4 plus other characters / 1.5, rounded up. It
 * approximates Gemini's tokenizer, which spends about 4 English characters a token but only 1–2
 * Korean characters a token.
 *
 * @example
 * ```ts ignore
 * estimateTokens("hello world!"); // 3
 * estimateTokens("안녕하세요"); // 4
 * ```
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.codePointAt(0)! < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4 + other / 1.5);
}

interface CacheEntry {
  name: string;
  model: string;
  displayName?: string;
  tokens: number;
  createTime: number;
  updateTime: number;
  expireTime: number;
}

interface Waiter {
  n: number;
  resolve: (r: RecordedRequest[]) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface KeyQuotaState {
  minute: { at: number; tokens: number }[];
  day: number;
  dayCount: number;
}

type Json = Record<string, unknown>;

/** A loopback Gemini API that the real SDK can be pointed at. */
export class FakeGemini {
  /** `http://127.0.0.1:PORT`, to pass as the SDK's `baseUrl`. */
  readonly url: string;
  /** Every request answered, oldest first. */
  readonly requests: RecordedRequest[] = [];
  /** Counters of requests and 429 rejections. */
  readonly stats: FakeGeminiStats = { requests: 0, rejected429: 0, byKey: {} };

  #server!: Deno.HttpServer<Deno.NetAddr>;
  #opts:
    & Required<Omit<FakeGeminiOptions, "quota" | "models" | "implicitCacheTtlMs" | "refusedLevels">>
    & FakeGeminiOptions;
  #implicit: ImplicitCache;
  #queue: ScriptStep[] = [];
  #caches = new Map<string, CacheEntry>();
  #cacheSeq = 0;
  #files = new Map<string, UploadedFile>();
  #uploadRefusals: number[] = [];
  #fileSeq = 0;
  #quota = new Map<string, KeyQuotaState>();
  #waiters = new Set<Waiter>();
  // Aborted by close(), so every pending delay and open stream ends and shutdown() can finish.
  #closing = new AbortController();
  #closed = false;

  private constructor(opts: FakeGeminiOptions) {
    this.#opts = {
      apiKeys: ["test-key"],
      now: Date.now,
      responder: (req) => `응, "${req.lastUserText}" 말이지.`,
      thoughtsTokens: 200,
      chunks: 4,
      implicitCache: true,
      ...opts,
    };
    this.#implicit = new ImplicitCache(estimateTokens, { ttlMs: opts.implicitCacheTtlMs });
    this.url = "";
  }

  /** Starts the server on a free loopback port. */
  static start(opts: FakeGeminiOptions = {}): Promise<FakeGemini> {
    const fake = new FakeGemini(opts);
    fake.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
      onError: (err) => fake.#json(500, apiError(500, `fake-gemini crashed: ${err}`)),
    }, (req) => fake.#handle(req));
    (fake as { url: string }).url = `http://127.0.0.1:${fake.#server.addr.port}`;
    return Promise.resolve(fake);
  }

  /** Stops the server, ending delayed replies and open streams, and rejects pending waits. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("FakeGemini closed while waiting for requests"));
    }
    this.#waiters.clear();
    await this.#server.shutdown();
  }

  /** Queues a scripted outcome for the next generate or stream call. */
  script(step: ScriptStep): this {
    this.#queue.push(step);
    return this;
  }

  /** Queues a reply with this text. */
  reply(text: string): this {
    return this.script({ text });
  }

  /** Queues a recorded response from `gemini-recordings/` (`.txt` SSE or `.json` body). */
  replay(file: string): this {
    return this.script({ replay: file });
  }

  /** Queues a 429 RESOURCE_EXHAUSTED shaped like the real free-tier quota error. */
  fail429(
    opts: { kind: "minute" | "day" | "tokens"; retryDelaySeconds?: number; quotaValue?: number },
  ): this {
    const body = quotaErrorBody(opts.kind, "gemini-2.5-flash", opts.quotaValue ?? 10, {
      seconds: opts.retryDelaySeconds ?? 37.2,
    });
    return this.script({ error: { status: 429, body } });
  }

  /** Queues an error with the real API's status name and default message for `status`. */
  failStatus(status: 400 | 401 | 403 | 404 | 500 | 503 | 504, message?: string): this {
    return this.script({ error: { status, body: apiError(status, message) } });
  }

  /**
   * Serves only `models` from now on, as when Google retires one while a bot runs (undefined
   * serves every model again); `models.list` follows.
   */
  serveModels(models: string[] | undefined): this {
    this.#opts.models = models;
    return this;
  }

  /**
   * Refuses the next `count` Files API uploads with `status` (403 as when the project may not
   * use the Files API, or the file breaks a policy), whatever key they come with.
   */
  refuseUploads(count: number, status: 400 | 403 = 403): this {
    for (let i = 0; i < count; i++) this.#uploadRefusals.push(status);
    return this;
  }

  /** Queues a default reply whose headers come after `ms`. */
  slowFirstByte(ms: number): this {
    return this.script({ delayFirstMs: ms });
  }

  /** Queues a default reply that sends `afterChunks` events and then drops the connection. */
  brokenStream(afterChunks: number): this {
    return this.script({ breakAfter: afterChunks });
  }

  /** Queues a prompt blocked with `promptFeedback.blockReason: "SAFETY"` (recorded bodies). */
  safetyBlock(): this {
    return this.script({ safetyBlock: true });
  }

  /** Queues a default reply with `ms` between its SSE events. */
  chunkDelay(ms: number): this {
    return this.script({ chunkDelayMs: ms });
  }

  /** Every file uploaded through the Files API, deleted ones included (flagged), oldest first. */
  get files(): UploadedFile[] {
    return [...this.#files.values()];
  }

  /** Scripted outcomes not consumed yet. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves with the recorded requests once at least `n` have been answered. */
  waitForRequests(n: number, timeoutMs = 2000): Promise<RecordedRequest[]> {
    if (this.requests.length >= n) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(
              `waited ${timeoutMs} ms for ${n} requests: only ${this.requests.length} arrived`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  // ---- request handling -------------------------------------------------------------------

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const apiKey = req.headers.get("x-goog-api-key") ?? url.searchParams.get("key") ?? "";
    const route = parseRoute(req.method, path);
    const rec: RecordedRequest = {
      method: req.method,
      path,
      model: route.model,
      action: route.action,
      apiKey,
      body: undefined,
      at: this.#opts.now(),
      status: 0,
    };
    try {
      if (route.action === "files.upload") {
        return this.#finish(rec, await this.#upload(req, rec, apiKey));
      }
      const text = await req.text();
      rec.body = text ? JSON.parse(text) : undefined;
    } catch {
      return this.#finish(rec, this.#json(400, apiError(400, "Invalid JSON payload received.")));
    }
    if (!apiKey) {
      return this.#finish(
        rec,
        this.#json(
          403,
          apiError(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). " +
              "Please use API Key or other form of API consumer identity to call this API.",
          ),
        ),
      );
    }
    if (!this.#opts.apiKeys.includes(apiKey)) {
      const body = JSON.parse(
        await Deno.readTextFile(new URL("googleai/unary-failure-api-key.json", RECORDINGS)),
      );
      return this.#finish(rec, this.#json(body.error.code, body));
    }
    switch (route.action) {
      case "generateContent":
      case "streamGenerateContent":
        return await this.#generate(
          rec,
          route.model!,
          route.action === "streamGenerateContent",
        );
      case "countTokens":
        return this.#finish(
          rec,
          this.#modelMissing(route.model!, rec.action) ?? this.#countTokens(rec.body ?? {}),
        );
      case "models.list":
        return this.#finish(rec, this.#json(200, this.#listModels()));
      case "cachedContents.create":
        return this.#finish(rec, this.#createCache(rec.body ?? {}));
      case "cachedContents.list":
        return this.#finish(rec, this.#json(200, this.#listCaches()));
      case "cachedContents.get":
      case "cachedContents.update":
      case "cachedContents.delete":
        return this.#finish(rec, this.#cacheById(route.action, route.id!, rec.body ?? {}));
      case "files.list":
        return this.#finish(rec, this.#listFiles(apiKey));
      case "files.get":
      case "files.delete":
        return this.#finish(rec, this.#fileById(route.action, route.id!, apiKey));
      default:
        return this.#finish(
          rec,
          this.#json(404, apiError(404, `${req.method} ${path} is not a route of this fake.`)),
        );
    }
  }

  // Records the status before any delay, so tests can observe a reply that is still held back.
  #record(rec: RecordedRequest, status: number): void {
    rec.status = status;
    this.requests.push(rec);
    this.stats.requests++;
    const byKey = this.stats.byKey[rec.apiKey] ??= { requests: 0, rejected429: 0 };
    byKey.requests++;
    if (status === 429) {
      this.stats.rejected429++;
      byKey.rejected429++;
    }
    for (const w of this.#waiters) {
      if (this.requests.length >= w.n) {
        clearTimeout(w.timer);
        this.#waiters.delete(w);
        w.resolve(this.requests);
      }
    }
  }

  #finish(rec: RecordedRequest, res: Response): Response {
    this.#record(rec, res.status);
    return res;
  }

  #json(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json; charset=UTF-8" },
    });
  }

  async #generate(
    rec: RecordedRequest,
    model: string,
    stream: boolean,
  ): Promise<Response> {
    const body: Json = rec.body ?? {};
    const missing = this.#modelMissing(model, rec.action);
    if (missing) return this.#finish(rec, missing);
    const refused = await this.#refusedShape(model, body);
    if (refused) return this.#finish(rec, refused);
    const cacheName = typeof body.cachedContent === "string" ? body.cachedContent : undefined;
    let cache: CacheEntry | undefined;
    if (cacheName) {
      cache = this.#liveCache(cacheName);
      if (!cache) {
        return this.#finish(
          rec,
          this.#json(403, apiError(403, "CachedContent not found (or permission denied)")),
        );
      }
      // The real API refuses these next to a cache: they must live inside it.
      if (body.systemInstruction || body.tools || body.toolConfig) {
        return this.#finish(
          rec,
          this.#json(
            400,
            apiError(
              400,
              "CachedContent can not be used with GenerateContent request setting " +
                "system_instruction, tools or tool_config.\n\nProposed fix: move those values " +
                "to CachedContent from GenerateContent request.",
            ),
          ),
        );
      }
      if (cache.model !== `models/${model}`) {
        return this.#finish(
          rec,
          this.#json(
            400,
            apiError(
              400,
              `Model used by GenerateContent request (models/${model}) and CachedContent ` +
                `(${cache.model}) has to be the same.`,
            ),
          ),
        );
      }
    }
    const contents = (body.contents ?? []) as Content[];
    const systemInstruction = body.systemInstruction as Content | undefined;
    const unreadable = this.#unreadableFile(contents, rec.apiKey);
    if (unreadable) {
      return this.#finish(
        rec,
        this.#json(
          403,
          apiError(
            403,
            `You do not have permission to access the File ${unreadable} or it may not exist.`,
          ),
        ),
      );
    }
    const promptTokens = countContents(contents) +
      (systemInstruction ? countContents([systemInstruction]) : 0) + (cache?.tokens ?? 0);

    const rejection = this.#checkQuota(rec.apiKey, model, promptTokens);
    if (rejection) return this.#finish(rec, this.#json(429, rejection));
    // An explicit cache is billed as such; the implicit one is modelled for plain requests only.
    const cachedTokens = cache?.tokens ??
      (this.#opts.implicitCache
        ? Math.min(
          promptTokens,
          this.#implicit.lookup(
            `${rec.apiKey}/${model}`,
            promptParts(systemInstruction, contents),
            this.#opts.now(),
            implicitCacheMinTokens(model) ?? Infinity,
          ),
        )
        : 0);

    // A request with Google Search and nothing scripted gets the recorded grounded answer: the
    // first turn's stream, or (once a grounded turn comes back) the recorded next turn.
    const step = this.#queue.shift() ?? searchStep(body) ?? {};
    const greq: GenerateRequest = {
      model,
      stream,
      apiKey: rec.apiKey,
      contents,
      systemInstruction,
      generationConfig: body.generationConfig as GenerateRequest["generationConfig"],
      cachedContent: cacheName,
      lastUserText: lastUserText(contents),
      attachments: this.#attachmentsOf(contents),
      body,
    };

    let events: Json[];
    if (step.error) {
      return await this.#delayed(rec, step, this.#json(step.error.status, step.error.body));
    } else if (step.replay || step.safetyBlock) {
      const file = step.replay ??
        (stream
          ? "googleai/streaming-failure-prompt-blocked-safety.txt"
          : "sdk-js/unary-failure-prompt-blocked-safety.json");
      const recorded = await readRecording(file);
      if (!Array.isArray(recorded) && recorded.error) {
        const status = (recorded.error as { code: number }).code;
        return await this.#delayed(rec, step, this.#json(status, recorded));
      }
      events = Array.isArray(recorded) ? recorded : [recorded];
    } else {
      const text = step.text ?? this.#opts.responder(greq);
      events = this.#textEvents(greq, text, promptTokens, cachedTokens, step);
    }

    if (!stream) {
      const merged = events.length === 1 ? events[0] : mergeEvents(events);
      const bytes = new TextEncoder().encode(JSON.stringify(merged));
      const pieces = step.breakAfter === undefined
        ? [bytes]
        : [bytes.subarray(0, Math.floor(bytes.length / 2))];
      return await this.#delayed(
        rec,
        step,
        new Response(this.#body(pieces, step, rec), {
          headers: { "content-type": "application/json; charset=UTF-8" },
        }),
      );
    }
    const enc = new TextEncoder();
    let pieces = events.map((e) => enc.encode(sseFrame(e)));
    if (step.breakAfter !== undefined) pieces = pieces.slice(0, step.breakAfter);
    return await this.#delayed(
      rec,
      step,
      new Response(this.#body(pieces, step, rec), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      }),
    );
  }

  async #delayed(
    rec: RecordedRequest,
    step: ScriptStep,
    res: Response,
  ): Promise<Response> {
    this.#record(rec, res.status);
    if (step.delayFirstMs && !(await this.#sleep(step.delayFirstMs))) {
      await res.body?.cancel();
      return this.#json(503, apiError(503, "fake-gemini closed during the first-byte delay"));
    }
    return res;
  }

  // A pull-based body, so chunk delays run only while someone reads and cancel() can stop them.
  #body(pieces: Uint8Array[], step: ScriptStep, rec: RecordedRequest): ReadableStream<Uint8Array> {
    let i = 0;
    const stop = new AbortController();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (i > 0 && i < pieces.length && step.chunkDelayMs) {
          const ok = await this.#sleep(
            step.chunkDelayMs,
            stop.signal,
          );
          if (!ok) {
            controller.error(new Error("fake-gemini: stream ended by close() or the client"));
            return;
          }
        }
        if (i < pieces.length) {
          controller.enqueue(pieces[i++]);
        } else if (step.breakAfter !== undefined) {
          // Erroring the body makes Deno drop the connection without the final chunk.
          controller.error(new Error("fake-gemini: stream broken on purpose"));
        } else {
          rec.bodyEnd = { how: "complete", at: this.#opts.now() };
          controller.close();
        }
      },
      cancel: () => {
        rec.bodyEnd ??= { how: "cancelled", at: this.#opts.now() };
        stop.abort();
      },
    });
  }

  /** Resolves true after `ms`, or false at once when `signal` or close() aborts first. */
  #sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    const signals = signal ? [this.#closing.signal, signal] : [this.#closing.signal];
    if (signals.some((s) => s.aborted)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        for (const s of signals) s.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    });
  }

  #textEvents(
    greq: GenerateRequest,
    text: string,
    promptTokens: number,
    cachedTokens: number,
    step: ScriptStep = {},
  ): Json[] {
    const chunks = step.chunks ?? this.#opts.chunks;
    const thoughts = this.#thoughtsFor(greq);
    const replyTokens = estimateTokens(text);
    const usage: Json = {
      promptTokenCount: promptTokens,
      candidatesTokenCount: replyTokens,
      totalTokenCount: promptTokens + replyTokens + thoughts,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
    };
    if (cachedTokens) {
      usage.cachedContentTokenCount = cachedTokens;
      usage.cacheTokensDetails = [{ modality: "TEXT", tokenCount: cachedTokens }];
    }
    // Absent when little or no thinking happened, as on the real API.
    if (thoughts) usage.thoughtsTokenCount = thoughts;
    usage.serviceTier = "standard";
    const responseId = `fake-${this.requests.length}`;
    const signature = fakeSignature(responseId);
    const event = (parts: Part[], last: boolean): Json => {
      const candidate: Json = { content: { parts, role: "model" }, index: 0 };
      if (last) candidate.finishReason = step.finishReason ?? "STOP";
      return {
        candidates: [candidate],
        // Like the real stream, early events carry only the prompt count; the last one is final.
        usageMetadata: last ? usage : {
          promptTokenCount: promptTokens,
          totalTokenCount: promptTokens,
          serviceTier: "standard",
        },
        modelVersion: greq.model,
        responseId,
      };
    };
    // Unary: the signature rides on the last part. A stream never puts it on a text chunk: it
    // comes last, on a part of its own whose text is empty, with the finish reason.
    if (!greq.stream) return [event([{ text, thoughtSignature: signature }], true)];
    const pieces = splitText(text, chunks).map((piece) => event([{ text: piece }], false));
    return [...pieces, event([{ text: "", thoughtSignature: signature }], true)];
  }

  /** The thinking tokens a request spends: by its level, or the model's own default level. */
  #thoughtsFor(greq: GenerateRequest): number {
    const config = greq.generationConfig?.thinkingConfig;
    if (config?.thinkingBudget !== undefined) {
      // -1 (dynamic) thinks as the model likes; a budget caps it.
      const budget = config.thinkingBudget < 0 ? Infinity : config.thinkingBudget;
      return Math.min(budget, this.#opts.thoughtsTokens);
    }
    const lite = /flash-lite/.test(greq.model);
    const level = config?.thinkingLevel?.toLowerCase() ?? (lite ? "minimal" : "medium");
    return Math.round((LEVEL_THOUGHTS[level] ?? 1) * this.#opts.thoughtsTokens);
  }

  /**
   * The real API's 400 for a request shape today's models refuse, with the recorded messages
   * where there are recordings: a thinking level the model does not take, a budget beside a
   * level, a budget of 0 on 3.x Flash-Lite, penalties, and a request whose last content is the
   * model's (a prefill).
   */
  async #refusedShape(model: string, body: Json): Promise<Response | undefined> {
    const config = (body.generationConfig ?? {}) as Json;
    const thinking = (config.thinkingConfig ?? {}) as {
      thinkingBudget?: number;
      thinkingLevel?: string;
    };
    const recorded = "gemini-3/vercel-ai/errors-400-thinking-config-3.1-pro-preview.json";
    if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
      const both = (await readRecording(recorded) as Json).thinkingLevelAndBudgetResponse;
      return this.#json(400, both);
    }
    const level = thinking.thinkingLevel?.toLowerCase();
    if (level !== undefined && this.#refusesLevel(model, level)) {
      const file = "gemini-3/vercel-ai/error-400-thinking-level-minimal-3.7-flash.json";
      const body = await readRecording(file) as { error: Json };
      const message = String(body.error.message).replace("MINIMAL", level.toUpperCase());
      return this.#json(400, { error: { ...body.error, message } });
    }
    const is3x = /^gemini-3/.test(model);
    if (thinking.thinkingBudget === 0 && is3x && /flash-lite/.test(model)) {
      // googleapis/python-genai#2936: 3.5 Flash-Lite cannot turn thinking off.
      return this.#json(
        400,
        apiError(400, "Budget 0 is invalid. This model only works in thinking mode."),
      );
    }
    if (
      is3x && (config.frequencyPenalty !== undefined || config.presencePenalty !== undefined)
    ) {
      return this.#json(400, apiError(400, `Penalty is not enabled for models/${model}`));
    }
    const contents = (body.contents ?? []) as Content[];
    if (is3x && contents.at(-1)?.role === "model") {
      return this.#json(
        400,
        apiError(
          400,
          "Model prefill is not supported for this model: the last content of a request must " +
            "be the user's.",
        ),
      );
    }
    return undefined;
  }

  #refusesLevel(model: string, level: string): boolean {
    const own = this.#opts.refusedLevels?.[model];
    if (own) return own.includes(level);
    return REFUSED_LEVELS.some(([pattern, levels]) =>
      pattern.test(model) && levels.includes(level)
    );
  }

  #checkQuota(key: string, model: string, tokens: number): Json | undefined {
    const limits = this.#opts.quota;
    if (!limits) return undefined;
    const now = this.#opts.now();
    const day = Math.floor((now - PACIFIC_OFFSET_MS) / DAY_MS);
    let state = this.#quota.get(key);
    if (!state) this.#quota.set(key, state = { minute: [], day, dayCount: 0 });
    if (state.day !== day) {
      state.day = day;
      state.dayCount = 0;
    }
    state.minute = state.minute.filter((e) => e.at > now - MINUTE_MS);

    if (limits.rpd !== undefined && state.dayCount >= limits.rpd) {
      // The real API sends a short retryDelay even for a daily quota; only quotaId tells them
      // apart, so a bot that trusts retryDelay alone will hammer the API until midnight.
      return quotaErrorBody("day", model, limits.rpd, { ms: MINUTE_MS - (now % MINUTE_MS) });
    }
    if (limits.rpm !== undefined && state.minute.length >= limits.rpm) {
      return quotaErrorBody("minute", model, limits.rpm, {
        ms: state.minute[0].at + MINUTE_MS - now,
      });
    }
    if (limits.tpm !== undefined) {
      let used = state.minute.reduce((sum, e) => sum + e.tokens, 0);
      if (used + tokens > limits.tpm) {
        // Wait until enough old requests leave the window; a prompt over the whole limit never fits.
        let ms = MINUTE_MS;
        for (const e of state.minute) {
          used -= e.tokens;
          if (used + tokens <= limits.tpm) {
            ms = e.at + MINUTE_MS - now;
            break;
          }
        }
        return quotaErrorBody("tokens", model, limits.tpm, { ms });
      }
    }
    state.minute.push({ at: now, tokens });
    state.dayCount++;
    return undefined;
  }

  /** The real API's 404 for a model it does not serve, or undefined when it serves `model`. */
  #modelMissing(model: string, action: FakeGeminiAction): Response | undefined {
    if (RETIRED_MODEL.test(model) && !this.#opts.models?.includes(model)) {
      return this.#json(
        404,
        apiError(
          404,
          `This model models/${model} is no longer available to new users. Please update your ` +
            "code to use a newer model for the latest features and improvements.",
        ),
      );
    }
    if (!this.#opts.models || this.#opts.models.includes(model)) return undefined;
    return this.#json(
      404,
      apiError(
        404,
        `models/${model} is not found for API version v1beta, or is not supported for ` +
          `${action}. Call ListModels to see the list of available models and their ` +
          `supported methods.`,
      ),
    );
  }

  /** `models.list`, one page, shaped like the real answer. */
  #listModels(): Json {
    const ids = this.#opts.models ?? DEFAULT_MODELS;
    return {
      models: [
        ...ids.map((id) => ({
          name: `models/${id}`,
          version: "001",
          displayName: id,
          inputTokenLimit: 1_048_576,
          outputTokenLimit: 65_536,
          supportedGenerationMethods: [
            "generateContent",
            "countTokens",
            "createCachedContent",
            "batchGenerateContent",
          ],
        })),
        // Listed by the real API too, but no model to chat with.
        {
          name: "models/gemini-embedding-001",
          version: "001",
          displayName: "Gemini Embedding 001",
          supportedGenerationMethods: ["embedContent", "countTextTokens", "countTokens"],
        },
      ],
    };
  }

  #countTokens(body: Json): Response {
    const inner = (body.generateContentRequest ?? body) as Json;
    let total = countContents((inner.contents ?? []) as Content[]);
    if (inner.systemInstruction) total += countContents([inner.systemInstruction as Content]);
    const result: Json = {};
    if (typeof inner.cachedContent === "string") {
      const cache = this.#liveCache(inner.cachedContent);
      if (!cache) {
        return this.#json(403, apiError(403, "CachedContent not found (or permission denied)"));
      }
      total += cache.tokens;
      result.cachedContentTokenCount = cache.tokens;
    }
    return this.#json(200, {
      totalTokens: total,
      ...result,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: total }],
    });
  }

  // ---- files ------------------------------------------------------------------------------

  /**
   * `POST /upload/v1beta/files` as the SDK's `uploadFile` sends it: `X-Goog-Upload-Protocol:
   * multipart`, a `multipart/related` body of the JSON metadata and then the bytes.
   */
  async #upload(req: Request, rec: RecordedRequest, apiKey: string): Promise<Response> {
    const boundary = /boundary=([^;]+)/.exec(req.headers.get("content-type") ?? "")?.[1];
    const body = new Uint8Array(await req.arrayBuffer());
    const protocol = req.headers.get("x-goog-upload-protocol");
    const parts = boundary ? multipartParts(body, boundary) : [];
    if (protocol !== "multipart" || parts.length !== 2) {
      return this.#json(400, apiError(400, "Upload has to be a multipart/related request."));
    }
    const metadata = JSON.parse(new TextDecoder().decode(parts[0].body)).file ?? {};
    const mimeType = String(metadata.mimeType ?? parts[1].contentType ?? "");
    if (!mimeType) return this.#json(400, apiError(400, "* mime_type: required"));
    rec.body = { file: metadata, size: parts[1].body.length };
    if (!apiKey || !this.#opts.apiKeys.includes(apiKey)) {
      return this.#json(403, apiError(403, "Method doesn't allow unregistered callers."));
    }
    const refusal = this.#uploadRefusals.shift();
    if (refusal !== undefined) {
      return this.#json(refusal, apiError(refusal, "The caller does not have permission"));
    }
    const id = `fakefile${++this.#fileSeq}`;
    const now = this.#opts.now();
    const file: UploadedFile = {
      name: `files/${id}`,
      uri: `${this.url}/v1beta/files/${id}`,
      mimeType,
      displayName: typeof metadata.displayName === "string" ? metadata.displayName : undefined,
      bytes: parts[1].body,
      apiKey,
      createTime: now,
      expirationTime: now + FILE_TTL_MS,
      deleted: false,
    };
    this.#files.set(file.name, file);
    return this.#json(200, { file: fileJson(file) });
  }

  #listFiles(apiKey: string): Response {
    const live = this.files.filter((f) => this.#readable(f, apiKey));
    return this.#json(200, live.length ? { files: live.map(fileJson) } : {});
  }

  #fileById(action: FakeGeminiAction, id: string, apiKey: string): Response {
    const file = this.#files.get(`files/${id}`);
    if (!file || !this.#readable(file, apiKey)) {
      return this.#json(
        403,
        apiError(403, `You do not have permission to access the File ${id} or it may not exist.`),
      );
    }
    if (action === "files.delete") {
      file.deleted = true;
      return this.#json(200, {});
    }
    return this.#json(200, fileJson(file));
  }

  #readable(file: UploadedFile, apiKey: string): boolean {
    return !file.deleted && file.apiKey === apiKey && file.expirationTime > this.#opts.now();
  }

  /** The first `fileData` part naming a file this key cannot read (unknown, gone, another's). */
  #unreadableFile(contents: Content[], apiKey: string): string | undefined {
    for (const part of contents.flatMap((c) => c.parts ?? [])) {
      const uri = (part.fileData as { fileUri?: string } | undefined)?.fileUri;
      if (uri === undefined) continue;
      const file = this.files.find((f) => f.uri === uri);
      if (!file || !this.#readable(file, apiKey)) return uri.split("/").pop();
    }
    return undefined;
  }

  #attachmentsOf(contents: Content[]): FakeAttachment[] {
    const last = contents.findLast((c) => c.role === undefined || c.role === "user");
    const attachments: FakeAttachment[] = [];
    for (const part of last?.parts ?? []) {
      const inline = part.inlineData as { mimeType: string; data: string } | undefined;
      const file = part.fileData as { mimeType: string; fileUri: string } | undefined;
      if (inline) {
        const bytes = Uint8Array.from(atob(inline.data), (c) => c.charCodeAt(0));
        attachments.push({ mimeType: inline.mimeType, bytes, via: "inline" });
      } else if (file) {
        const uploaded = this.files.find((f) => f.uri === file.fileUri)!;
        attachments.push({ mimeType: file.mimeType, bytes: uploaded.bytes, via: "file" });
      }
    }
    return attachments;
  }

  // ---- cachedContents ---------------------------------------------------------------------

  #createCache(body: Json): Response {
    if (typeof body.model !== "string" || !body.model) {
      return this.#json(
        400,
        apiError(400, "* CreateCachedContentRequest.cached_content.model: required"),
      );
    }
    const model = body.model.includes("/") ? body.model : `models/${body.model}`;
    const tokens = countContents((body.contents ?? []) as Content[]) +
      (body.systemInstruction ? countContents([body.systemInstruction as Content]) : 0);
    const min = cacheMinTokens(model);
    if (tokens < min) {
      return this.#json(
        400,
        apiError(
          400,
          `Cached content is too small. total_token_count=${tokens}, min_total_token_count=${min}`,
        ),
      );
    }
    const now = this.#opts.now();
    const expireTime = expiryFrom(body, now) ?? now + DEFAULT_CACHE_TTL_MS;
    const entry: CacheEntry = {
      name: `cachedContents/fakecache${++this.#cacheSeq}`,
      model,
      displayName: typeof body.displayName === "string" ? body.displayName : undefined,
      tokens,
      createTime: now,
      updateTime: now,
      expireTime,
    };
    this.#caches.set(entry.name, entry);
    return this.#json(200, cacheJson(entry));
  }

  #listCaches(): Json {
    const live = [...this.#caches.keys()].map((n) => this.#liveCache(n)).filter((c) =>
      c !== undefined
    );
    // The real API omits the field entirely when there are no caches.
    return live.length ? { cachedContents: live.map(cacheJson) } : {};
  }

  #cacheById(action: FakeGeminiAction, id: string, body: Json): Response {
    const cache = this.#liveCache(`cachedContents/${id}`);
    if (!cache) {
      return this.#json(403, apiError(403, "CachedContent not found (or permission denied)"));
    }
    if (action === "cachedContents.delete") {
      this.#caches.delete(cache.name);
      return this.#json(200, {});
    }
    if (action === "cachedContents.update") {
      const now = this.#opts.now();
      const expireTime = expiryFrom(body, now);
      if (expireTime === undefined) {
        return this.#json(400, apiError(400, "Only ttl or expire_time can be updated."));
      }
      cache.expireTime = expireTime;
      cache.updateTime = now;
    }
    return this.#json(200, cacheJson(cache));
  }

  #liveCache(name: string): CacheEntry | undefined {
    const cache = this.#caches.get(name);
    if (cache && cache.expireTime <= this.#opts.now()) {
      this.#caches.delete(name);
      return undefined;
    }
    return cache;
  }
}

// ---- helpers ------------------------------------------------------------------------------

function parseRoute(
  method: string,
  path: string,
): { action: FakeGeminiAction; model?: string; id?: string } {
  const m = path.match(/^\/v1(?:beta)?\/(?:models|tunedModels)\/([^/:]+):(\w+)$/);
  if (m && method === "POST") {
    const action = m[2];
    if (
      action === "generateContent" || action === "streamGenerateContent" ||
      action === "countTokens"
    ) {
      return { action, model: m[1] };
    }
    return { action: "unknown", model: m[1] };
  }
  if (method === "POST" && /^\/upload\/v1(?:beta)?\/files$/.test(path)) {
    return { action: "files.upload" };
  }
  const f = path.match(/^\/v1(?:beta)?\/files(?:\/([^/]+))?$/);
  if (f) {
    if (!f[1] && method === "GET") return { action: "files.list" };
    if (f[1] && method === "GET") return { action: "files.get", id: f[1] };
    if (f[1] && method === "DELETE") return { action: "files.delete", id: f[1] };
  }
  if (method === "GET" && /^\/v1(?:beta)?\/models$/.test(path)) return { action: "models.list" };
  const c = path.match(/^\/v1(?:beta)?\/cachedContents(?:\/([^/]+))?$/);
  if (c) {
    const id = c[1];
    if (!id && method === "POST") return { action: "cachedContents.create" };
    if (!id && method === "GET") return { action: "cachedContents.list" };
    if (id && method === "GET") return { action: "cachedContents.get", id };
    if (id && method === "PATCH") return { action: "cachedContents.update", id };
    if (id && method === "DELETE") return { action: "cachedContents.delete", id };
  }
  return { action: "unknown" };
}

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ["INVALID_ARGUMENT", "Request contains an invalid argument."],
  401: [
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie " +
    "or other valid authentication credential.",
  ],
  403: ["PERMISSION_DENIED", "The caller does not have permission"],
  404: ["NOT_FOUND", "Requested entity was not found."],
  429: ["RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."],
  500: [
    "INTERNAL",
    "An internal error has occurred. Please retry or report in " +
    "https://developers.generativeai.google/guide/troubleshooting",
  ],
  503: ["UNAVAILABLE", "The model is overloaded. Please try again later."],
  504: ["DEADLINE_EXCEEDED", "The request timed out. Please try again."],
};

function apiError(code: number, message?: string): Json {
  const [status, fallback] = STATUS_NAMES[code] ?? ["UNKNOWN", "Unknown error."];
  return { error: { code, message: message ?? fallback, status } };
}

const QUOTA_KINDS = {
  minute: {
    metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
    id: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
  },
  day: {
    metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
    id: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
  },
  tokens: {
    metric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
    id: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
  },
} as const;

/** A 429 RESOURCE_EXHAUSTED body shaped like the real free-tier quota error. */
export function quotaErrorBody(
  kind: keyof typeof QUOTA_KINDS,
  model: string,
  limit: number,
  delay: { ms: number } | { seconds: number },
): Json {
  const { metric, id } = QUOTA_KINDS[kind];
  const seconds = "seconds" in delay ? delay.seconds : Math.max(0, delay.ms) / 1000;
  return {
    error: {
      code: 429,
      message: "You exceeded your current quota, please check your plan and billing details. " +
        "For more information on this error, head to: " +
        "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, " +
        "head to: https://ai.dev/rate-limit. \n" +
        `* Quota exceeded for metric: ${metric}, limit: ${limit}, model: ${model}\n` +
        `Please retry in ${Number(seconds.toFixed(3))}s.`,
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{
            quotaMetric: metric,
            quotaId: id,
            quotaDimensions: { location: "global", model },
            quotaValue: String(limit),
          }],
        },
        {
          "@type": "type.googleapis.com/google.rpc.Help",
          links: [{
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          }],
        },
        // The structured delay is whole seconds while the message keeps the fraction.
        {
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: `${Math.floor(seconds)}s`,
        },
      ],
    },
  };
}

function countContents(contents: Content[]): number {
  let total = 0;
  for (const content of contents) {
    for (const part of content.parts ?? []) {
      if (typeof part.text === "string") total += estimateTokens(part.text);
      else if (part.inlineData || part.fileData) total += INLINE_DATA_TOKENS;
      else total += estimateTokens(JSON.stringify(part));
    }
  }
  return total;
}

/** The prompt's parts in the order the implicit cache reads them: system instruction, contents. */
function promptParts(systemInstruction: Content | undefined, contents: Content[]): PromptPart[] {
  const parts: PromptPart[] = [];
  const add = (role: string, content: Content) => {
    for (const part of content.parts ?? []) {
      parts.push({ role, text: typeof part.text === "string" ? part.text : JSON.stringify(part) });
    }
  };
  if (systemInstruction) add("system", systemInstruction);
  for (const content of contents) add(content.role ?? "user", content);
  return parts;
}

function lastUserText(contents: Content[]): string {
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if (c.role === undefined || c.role === "user") {
      return (c.parts ?? []).map((p) => p.text ?? "").join("");
    }
  }
  return "";
}

/** Splits by code point, so no surrogate pair or Hangul syllable is cut in half. */
function splitText(text: string, chunks: number): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.min(chunks, chars.length));
  const size = Math.ceil(chars.length / n);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(chars.slice(i * size, (i + 1) * size).join(""));
  return out.filter((p, i) => p !== "" || i === 0);
}

/**
 * The SDK's event pattern is `^data: (.*)` followed by a blank line, and `.` stops at U+2028 and
 * U+2029, which JSON.stringify leaves raw; escaping them keeps such text parseable.
 */
function sseFrame(event: unknown): string {
  const json = JSON.stringify(event).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  return `data: ${json}\r\n\r\n`;
}

/** Reads a recording: an SSE file becomes its list of events, anything else one JSON body. */
async function readRecording(file: string): Promise<Json | Json[]> {
  const text = await Deno.readTextFile(new URL(file, RECORDINGS));
  if (!text.trimStart().startsWith("data:")) return JSON.parse(text);
  return text.split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice("data:".length)));
}

/** Folds SSE events into one unary body: text parts concatenated, last metadata kept. */
function mergeEvents(events: Json[]): Json {
  const merged: Json = structuredClone(events[events.length - 1]);
  const candidates: Json[] = [];
  for (const event of events) {
    for (const [i, cand] of ((event.candidates ?? []) as Json[]).entries()) {
      const target = candidates[i] ??= { index: i };
      const { content, ...rest } = cand as { content?: Content };
      Object.assign(target, rest);
      if (!content?.parts) continue;
      const into = (target.content ??= { role: content.role ?? "model", parts: [] }) as Content;
      for (const part of content.parts) {
        const prev = into.parts!.at(-1);
        const bothText = typeof part.text === "string" && typeof prev?.text === "string" &&
          Object.keys(part).length === Object.keys(prev).length &&
          !!part.thought === !!prev.thought;
        if (bothText) prev!.text += part.text!;
        else into.parts!.push({ ...part });
      }
    }
  }
  if (candidates.length) merged.candidates = candidates;
  return merged;
}

function cacheMinTokens(model: string): number {
  const id = model.replace(/^models\//, "");
  return CACHE_MIN_TOKENS.find(([pattern]) => pattern.test(id))?.[1] ?? DEFAULT_CACHE_MIN_TOKENS;
}

/** A signature the fake can recognise when it comes back: the response's id, encoded. */
export function fakeSignature(responseId: string): string {
  return btoa(`fake-thought-signature:${responseId}`);
}

/** Reads `ttl` ("3600s", "1.5s") or `expireTime` (RFC 3339) from a cache create/update body. */
function expiryFrom(body: Json, now: number): number | undefined {
  if (typeof body.ttl === "string") {
    const m = body.ttl.match(/^(\d+(?:\.\d+)?)s$/);
    if (m) return now + Math.round(Number(m[1]) * 1000);
  }
  if (typeof body.expireTime === "string") {
    const t = Date.parse(body.expireTime);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

/** A `multipart/related` body's parts: each one's Content-Type and bytes. */
function multipartParts(
  body: Uint8Array,
  boundary: string,
): { contentType?: string; body: Uint8Array }[] {
  const latin1 = new TextDecoder("latin1").decode(body); // one char per byte: offsets line up
  const parts: { contentType?: string; body: Uint8Array }[] = [];
  const delimiter = `--${boundary}`;
  let at = latin1.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (latin1.startsWith("--", start)) break; // the closing delimiter
    const next = latin1.indexOf(`\r\n${delimiter}`, start);
    if (next < 0) break;
    const headerEnd = latin1.indexOf("\r\n\r\n", start);
    const headers = latin1.slice(start, headerEnd);
    parts.push({
      contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1].trim(),
      body: body.slice(headerEnd + 4, next),
    });
    at = next + 2;
  }
  return parts;
}

function fileJson(f: UploadedFile): Json {
  return {
    name: f.name,
    ...(f.displayName ? { displayName: f.displayName } : {}),
    mimeType: f.mimeType,
    sizeBytes: String(f.bytes.length),
    createTime: new Date(f.createTime).toISOString(),
    updateTime: new Date(f.createTime).toISOString(),
    expirationTime: new Date(f.expirationTime).toISOString(),
    sha256Hash: "",
    uri: f.uri,
    state: "ACTIVE",
    source: "UPLOADED",
  };
}

function cacheJson(c: CacheEntry): Json {
  return {
    name: c.name,
    model: c.model,
    ...(c.displayName ? { displayName: c.displayName } : {}),
    createTime: new Date(c.createTime).toISOString(),
    updateTime: new Date(c.updateTime).toISOString(),
    expireTime: new Date(c.expireTime).toISOString(),
    usageMetadata: { totalTokenCount: c.tokens },
  };
}

/** The recordings of a Gemini 3 answer grounded in Google Search (pydantic-ai's test suite). */
export const SEARCH_RECORDINGS = {
  /** The first turn: `toolCall` and `toolResponse` parts with signatures, text, sources. */
  first: "gemini-3/pydantic-ai/google-search-3-flash-preview-1.txt",
  /** The next turn, answered after the whole grounded model turn was sent back. */
  next: "gemini-3/pydantic-ai/google-search-3-flash-preview-2.json",
} as const;

/** The recorded grounded answer for a request carrying `googleSearch`, or undefined without it. */
function searchStep(body: Json): ScriptStep | undefined {
  const tools = Array.isArray(body.tools) ? body.tools as Json[] : [];
  if (!tools.some((tool) => tool.googleSearch !== undefined)) return undefined;
  const contents = (body.contents ?? []) as Content[];
  const groundedBefore = contents.some((c) =>
    c.role === "model" && (c.parts ?? []).some((p) => p.toolCall !== undefined)
  );
  // A unary call gets the stream's events merged, a stream the unary body as one event.
  return { replay: groundedBefore ? SEARCH_RECORDINGS.next : SEARCH_RECORDINGS.first };
}
