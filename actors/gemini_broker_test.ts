/**
 * Broker scheduling on a ManualClock with a scripted client: priority, concurrency, backoff,
 * 429 handling, key rejection and its checks, countdown announcements, the wait bound and the
 * silence timeout, the context cache and stopping. The same rules against the real SDK and the
 * fake Gemini are in tests/broker_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { type BrokerEvent, GeminiBroker, type GeminiBrokerOptions } from "./gemini_broker.ts";
import { ManualClock } from "../lib/clock.ts";
import type {
  CachedPrompt,
  GeminiClient,
  GenerateRequest,
  GenerateResult,
} from "../lib/gemini/client.ts";
import { MemoryTokenPool } from "../lib/quota/token_pool.ts";

const NOON = Date.UTC(2026, 2, 2, 20, 0);
const USAGE = { promptTokens: 10, cachedTokens: 0, outputTokens: 5, thinkingTokens: 0 };

type Step =
  | { text: string }
  | { error: unknown }
  | { hold: PromiseWithResolvers<GenerateResult> }
  /** Sends `chunks` `everyMs` apart on the test's clock, then ends, or falls silent if `thenHang`. */
  | { chunks: string[]; everyMs: number; thenHang?: boolean }
  /** Sends nothing, ever: only the broker's abort ends it. */
  | { hang: true };

/**
 * A GeminiClient that plays a script and records what it was asked. Like the real client, a call
 * rejects at once with the reason its signal aborts with.
 */
class ScriptedClient implements GeminiClient {
  calls: GenerateRequest[] = [];
  steps: Step[] = [];
  cacheResult: (() => Promise<CachedPrompt>) | undefined;
  cacheCalls = 0;
  countResult: (apiKey: string) => Promise<number> = () => Promise.resolve(700);
  #clock: ManualClock;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    this.calls.push(request);
    const step = this.steps.shift() ?? { text: "ok" };
    const aborted = new Promise<never>((_, reject) => {
      request.signal?.addEventListener("abort", () => reject(request.signal!.reason), {
        once: true,
      });
    });
    aborted.catch(() => {});
    if ("hold" in step) return Promise.race([step.hold.promise, aborted]);
    if ("hang" in step) return aborted;
    if ("chunks" in step) return Promise.race([this.#stream(step, request), aborted]);
    if ("error" in step) return Promise.reject(step.error);
    request.onText?.(step.text);
    return Promise.resolve({ text: step.text, usage: USAGE, finishReason: "STOP" });
  }

  async #stream(
    step: { chunks: string[]; everyMs: number; thenHang?: boolean },
    request: GenerateRequest,
  ): Promise<GenerateResult> {
    let text = "";
    for (const [i, chunk] of step.chunks.entries()) {
      if (i > 0) await new Promise<void>((wake) => this.#clock.setTimeout(wake, step.everyMs));
      if (request.signal?.aborted) break;
      text += chunk;
      request.onText?.(text);
    }
    if (step.thenHang) await new Promise<never>(() => {});
    return { text, usage: USAGE, finishReason: "STOP" };
  }

  cacheSystemInstruction(): Promise<CachedPrompt> {
    this.cacheCalls++;
    return this.cacheResult?.() ?? Promise.reject(sdkError(400, "Cached content is too small."));
  }

  countTokens(request: { apiKey: string }): Promise<number> {
    return this.countResult(request.apiKey);
  }
}

function sdkError(status: number, message: string, errorDetails?: unknown[]): Error {
  return Object.assign(
    new Error(`[GoogleGenerativeAI Error]: Error fetching: [${status}] ${message}`),
    {
      status,
      errorDetails,
    },
  );
}

function quota429(kind: "minute" | "day" | "tokens", retryText: string, retryInfo: string): Error {
  const quotaId = {
    minute: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    day: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    tokens: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
  }[kind];
  return sdkError(429, `You exceeded your current quota. Please retry in ${retryText}.`, [
    { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId }] },
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: retryInfo },
  ]);
}

function setup(
  options: Partial<GeminiBrokerOptions> & { keys?: string[]; rpm?: number } = {},
) {
  const clock = new ManualClock(NOON);
  const client = new ScriptedClient(clock);
  const events: BrokerEvent[] = [];
  const pool = new MemoryTokenPool(options.keys ?? ["k1"], {
    rpm: options.rpm ?? 100,
    tpm: 1_000_000,
    rpd: 1000,
  }, { windowMs: 60_000 });
  const broker = new GeminiBroker({
    client,
    pool,
    model: "gemini-3.8-flash",
    systemInstruction: "persona",
    clock,
    random: () => 0,
    contextCache: false,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, client, broker, pool, events };
}

/** A persona cache of 5000 tokens (over 3.8 Flash's minimum) that lives an hour. */
const anHourCache = () =>
  Promise.resolve({ name: "cachedContents/abc", expiresAt: Date.now() + 3_600_000, tokens: 5000 });

const chat = (text: string) => ({
  priority: "chat" as const,
  contents: [{ role: "user", parts: [{ text }] }],
});

Deno.test("the queue answers chat before summaries, oldest first", async () => {
  const { broker, client } = setup({ maxConcurrency: 1 });
  const first = Promise.withResolvers<GenerateResult>();
  client.steps.push({ hold: first });
  const done = [
    broker.generate(chat("busy")),
    broker.generate({ ...chat("summary 1"), priority: "summary" }),
    broker.generate(chat("chat 1")),
    broker.generate({ ...chat("summary 2"), priority: "summary" }),
    broker.generate(chat("chat 2")),
  ];
  first.resolve({ text: "x", usage: USAGE, finishReason: "STOP" });
  await Promise.all(done);
  assert.deepEqual(client.calls.map((c) => c.contents[0].parts[0].text), [
    "busy",
    "chat 1",
    "chat 2",
    "summary 1",
    "summary 2",
  ]);
});

Deno.test("no more than maxConcurrency calls run at once", async () => {
  const { broker, client } = setup({ maxConcurrency: 3 });
  const holds = Array.from({ length: 5 }, () => Promise.withResolvers<GenerateResult>());
  for (const hold of holds) client.steps.push({ hold });
  const done = holds.map((_, i) => broker.generate(chat(`m${i}`)));
  assert.equal(broker.active, 3);
  assert.equal(broker.queueLength, 2);
  holds[0].resolve({ text: "a", usage: USAGE, finishReason: "STOP" });
  await done[0];
  assert.equal(client.calls.length, 4);
  for (const hold of holds) hold.resolve({ text: "a", usage: USAGE, finishReason: "STOP" });
  await Promise.all(done);
  assert.equal(broker.stats.succeeded, 5);
});

Deno.test("a call waits for quota instead of failing, and goes out when the window moves", async () => {
  // A minute's wait: longer than the default bound on waiting.
  const { broker, client, clock } = setup({ rpm: 1, maxWaitMs: 120_000 });
  const first = broker.generate(chat("a"));
  const second = broker.generate(chat("b"));
  assert.equal((await first).ok, true);
  assert.equal(client.calls.length, 1);
  await clock.tick(59_999);
  assert.equal(client.calls.length, 1);
  await clock.tick(1);
  assert.equal((await second).ok, true);
  assert.ok(broker.queueWait.percentiles(clock.now(), [99]).p99 >= 60_000);
});

Deno.test("5xx and timeouts back off 1, 2, 4, 8 s and give up after 5 attempts", async () => {
  const { broker, client, clock, events } = setup();
  for (let i = 0; i < 5; i++) client.steps.push({ error: sdkError(503, "overloaded") });
  const result = broker.generate(chat("hi"));
  await clock.tick(0);
  for (const wait of [1000, 2000, 4000, 8000]) {
    const before = client.calls.length;
    await clock.tick(wait - 1);
    assert.equal(client.calls.length, before, `no retry before ${wait} ms`);
    await clock.tick(1);
    assert.equal(client.calls.length, before + 1, `a retry after ${wait} ms`);
  }
  assert.deepEqual(await result, { ok: false, reason: "unavailable", status: 503 });
  assert.deepEqual(
    events.filter((e) => e.type === "retry").map((e) => e.type === "retry" && e.delayMs),
    [1000, 2000, 4000, 8000],
  );
  assert.equal(broker.stats.retries, 4);
  assert.equal(broker.stats.calls, 5);
});

Deno.test("backoff is capped at 32 s and jittered", async () => {
  const { broker, client, clock, events } = setup({
    maxAttempts: 8,
    random: () => 0.5,
    maxWaitMs: Infinity,
  });
  for (let i = 0; i < 8; i++) client.steps.push({ error: sdkError(500, "internal") });
  const result = broker.generate(chat("hi"));
  await clock.tick(200_000);
  await result;
  const delays = events.flatMap((e) => e.type === "retry" ? [e.delayMs] : []);
  // 2^n s less up to 20% jitter (random 0.5 → 10% less), at most 32 s.
  assert.deepEqual(delays, [900, 1800, 3600, 7200, 14_400, 28_800, 28_800]);
});

Deno.test("a per-minute 429 waits the server's delay (the longer of RetryInfo and the message)", async () => {
  const { broker, client, clock, pool } = setup();
  client.steps.push({ error: quota429("minute", "12.4s", "12s") }, { text: "answer" });
  const result = broker.generate(chat("hi"));
  await clock.tick(12_399);
  assert.equal(client.calls.length, 1);
  await clock.tick(1);
  assert.equal((await result).ok, true);
  assert.equal(broker.stats.rateLimitedMinute, 1);
  // The refused request was given back; the limit learned from 0 accepted stops at its floor.
  assert.equal(pool.status(clock.now())[0].effective.rpm, 25);
});

Deno.test("a per-day 429 is not retried on that key: the call moves to another key", async () => {
  const { broker, client, clock } = setup({ keys: ["k1", "k2"] });
  client.steps.push({ error: quota429("day", "20s", "20s") }, { text: "from key 2" });
  const result = await broker.generate(chat("hi"));
  assert.equal(result.ok && result.text, "from key 2");
  assert.deepEqual(client.calls.map((c) => c.apiKey), ["k1", "k2"]);
  assert.equal(broker.stats.rateLimitedDay, 1);
  // key1 stays parked: the next call goes to key2 even though key1 has more room in its minute.
  await broker.generate(chat("again"));
  assert.equal(client.calls.at(-1)!.apiKey, "k2");
  await clock.tick(0);
});

Deno.test("when every key's day is spent the user is told so, with the reset time", async () => {
  const { broker, client, clock } = setup({ keys: ["k1", "k2"] });
  client.steps.push({ error: quota429("day", "20s", "20s") }, {
    error: quota429("day", "20s", "20s"),
  });
  const result = await broker.generate(chat("hi"));
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, "day_quota");
  assert.equal(!result.ok && result.retryAt, Date.UTC(2026, 2, 3, 8, 0)); // midnight PST
  // Later calls are refused without a wasted call.
  const later = await broker.generate(chat("more"));
  assert.equal(!later.ok && later.reason, "day_quota");
  assert.equal(client.calls.length, 2);
  await clock.tick(0);
});

Deno.test("400 is not retried; a bad key (401/403) is taken out and the call tries another", async () => {
  const { broker, client, pool, clock } = setup({ keys: ["k1", "k2"] });
  client.steps.push({ error: sdkError(400, "Request contains an invalid argument.") });
  const bad = await broker.generate(chat("x"));
  assert.deepEqual(bad, { ok: false, reason: "rejected", status: 400 });
  assert.equal(client.calls.length, 1);

  client.steps.push({ error: sdkError(403, "The caller does not have permission") }, {
    text: "ok",
  });
  const moved = await broker.generate(chat("y"));
  assert.equal(moved.ok, true);
  const disabled = pool.status(clock.now()).filter((k) => k.disabledUntil !== undefined);
  assert.equal(disabled.length, 1);
  assert.equal(broker.stats.keyRejections, 1);
});

Deno.test("with its only key refused, a call ends 'rejected' at once, not after an hour", async () => {
  const { broker, client } = setup();
  client.steps.push({ error: sdkError(401, "Request had invalid authentication credentials.") });
  assert.deepEqual(await broker.generate(chat("x")), {
    ok: false,
    reason: "rejected",
    status: 401,
  });
  assert.deepEqual(await broker.generate(chat("y")), {
    ok: false,
    reason: "rejected",
    status: undefined,
  });
  assert.equal(client.calls.length, 1);
});

Deno.test("verifyKeys names a refused key by id (never the key) and takes it out of use", async () => {
  const { broker, client, pool, clock } = setup({ keys: ["good-key", "bad-key-123"] });
  client.countResult = (apiKey) =>
    apiKey === "bad-key-123"
      ? Promise.reject(
        sdkError(400, "API key not valid. Please pass a valid API key.", [{
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
        }]),
      )
      : Promise.resolve(812);
  const checks = await broker.verifyKeys();
  assert.equal(checks[0].ok, true);
  assert.deepEqual(
    { ...checks[1], message: checks[1].message.replace(/\s+/g, " ") },
    {
      keyId: "key2",
      ok: false,
      status: 400,
      message:
        "Gemini refused key2; it is out of use: 400 API key not valid. Please pass a valid API key.",
    },
  );
  assert.ok(!JSON.stringify(checks).includes("bad-key-123"));
  assert.equal(broker.stats.personaTokens, 812);
  assert.ok(pool.status(clock.now())[1].disabledUntil !== undefined);
});

Deno.test("onWait: announced when the wait is 5 s or more, cleared when the call starts", async () => {
  const { broker, client, clock } = setup();
  client.steps.push({ error: quota429("minute", "3s", "3s") }, {
    error: quota429("minute", "12s", "12s"),
  }, { text: "done" });
  const waits: (number | undefined)[] = [];
  const result = broker.generate({ ...chat("hi"), onWait: (at) => waits.push(at) });
  await clock.tick(2999); // a 3 s wait is not worth a countdown
  assert.deepEqual(waits, []);
  await clock.tick(1);
  assert.deepEqual(waits, [clock.now() + 12_000]);
  await clock.tick(12_000);
  await result;
  assert.deepEqual(waits, [NOON + 3000 + 12_000, undefined]);
});

Deno.test("onWait: a request deep in the queue is told its own slot, not the head's", async () => {
  const { broker, clock } = setup({ rpm: 2, maxWaitMs: 180_000 });
  const waits = new Map<number, number | undefined>();
  const done = [];
  for (let i = 0; i < 5; i++) {
    done.push(broker.generate({ ...chat(`m${i}`), onWait: (at) => waits.set(i, at) }));
  }
  await clock.tick(0);
  // Two go now; the next two when the first two leave the minute; the fifth a minute later.
  assert.deepEqual([...waits.entries()], [
    [2, NOON + 60_000],
    [3, NOON + 60_000],
    [4, NOON + 120_000],
  ]);
  await clock.tick(120_000);
  await Promise.all(done);
});

Deno.test("context cache: the persona goes by cache once made, never next to a system instruction", async () => {
  const { broker, client, clock } = setup({ contextCache: true });
  client.cacheResult = anHourCache;
  await broker.generate(chat("first"));
  await clock.tick(0);
  await broker.generate(chat("second"));
  await broker.generate({ ...chat("summary"), priority: "summary", systemInstruction: "sum" });
  const [first, second, summary] = client.calls;
  assert.equal(first.systemInstruction, "persona");
  assert.equal(first.cachedContent, undefined);
  assert.equal(second.cachedContent, "cachedContents/abc");
  assert.equal(second.systemInstruction, undefined);
  assert.equal(summary.systemInstruction, "sum");
  assert.equal(summary.cachedContent, undefined);
  assert.equal(broker.stats.personaTokens, 5000);
  assert.equal(broker.stats.cachesLive, 1);
  assert.equal(client.cacheCalls, 1);
});

Deno.test("context cache: refused as too small → plain calls, logged once, never asked again", async () => {
  const { broker, client, clock, events } = setup({ contextCache: true, keys: ["k1", "k2"] });
  client.cacheResult = () =>
    Promise.reject(
      sdkError(
        400,
        "Cached content is too small. total_token_count=4500, min_total_token_count=8192",
      ),
    );
  for (let i = 0; i < 4; i++) {
    const result = await broker.generate(chat(`m${i}`));
    assert.equal(result.ok, true);
    await clock.tick(0);
  }
  assert.equal(client.cacheCalls, 2); // once per key
  assert.equal(events.filter((e) => e.type === "cache_fallback").length, 1);
  assert.ok(client.calls.every((c) => c.systemInstruction === "persona" && !c.cachedContent));
  assert.equal(broker.stats.personaTokens, 4500);
});

Deno.test("context cache: a vanished cache is dropped and the call retried at once, uncharged", async () => {
  const { broker, client, clock } = setup({ contextCache: true });
  client.cacheResult = anHourCache;
  await broker.generate(chat("first"));
  await clock.tick(0);
  client.steps.push({ error: sdkError(403, "CachedContent not found (or permission denied)") });
  const result = await broker.generate(chat("second"));
  assert.equal(result.ok && result.attempts, 1);
  assert.equal(client.calls[2].systemInstruction, "persona");
  assert.equal(broker.stats.keyRejections, 0);
  await clock.tick(0);
});

Deno.test("stats: tokens, thinking and cost at the configured prices", async () => {
  const { broker, client } = setup({ prices: { input: 1, output: 10, cached: 0.1 } });
  client.generate = (request) => {
    client.calls.push(request);
    return Promise.resolve({
      text: "a",
      finishReason: "STOP",
      usage: { promptTokens: 1000, cachedTokens: 400, outputTokens: 100, thinkingTokens: 50 },
    });
  };
  await broker.generate(chat("a"));
  const { tokensIn, tokensOut, tokensCached, tokensThinking, costUsd } = broker.stats;
  assert.deepEqual({ tokensIn, tokensOut, tokensCached, tokensThinking }, {
    tokensIn: 1000,
    tokensOut: 100,
    tokensCached: 400,
    tokensThinking: 50,
  });
  assert.ok(Math.abs(costUsd - (600 * 1 + 400 * 0.1 + 150 * 10) / 1e6) < 1e-12);
});

Deno.test("text already shown is not retried: the call ends 'interrupted' with it", async () => {
  const { broker, client } = setup();
  client.generate = (request) => {
    client.calls.push(request);
    request.onText?.("half an");
    return Promise.reject(new TypeError("error reading a body from connection"));
  };
  assert.deepEqual(await broker.generate(chat("a")), {
    ok: false,
    reason: "interrupted",
    partialText: "half an",
  });
});

Deno.test("stop fails queued calls, and a running call that then fails does not come back", async () => {
  const { broker, client } = setup({ maxConcurrency: 1 });
  const hold = Promise.withResolvers<GenerateResult>();
  client.steps.push({ hold });
  const running = broker.generate(chat("a"));
  const queued = broker.generate(chat("b"));
  const stopped = broker.stop();
  assert.deepEqual(await queued, { ok: false, reason: "stopped" });
  hold.reject(sdkError(503, "overloaded"));
  await stopped;
  assert.deepEqual(await running, { ok: false, reason: "stopped" });
  assert.deepEqual(await broker.generate(chat("c")), { ok: false, reason: "stopped" });
});

Deno.test("a cancelled call is aborted at once and ends 'cancelled' with what streamed, never retried", async () => {
  const { broker, client, clock } = setup();
  client.steps.push({ chunks: ["하나 ", "둘 ", "셋"], everyMs: 1000, thenHang: true });
  const stop = new AbortController();
  const shown: string[] = [];
  const result = broker.generate({
    ...chat("a"),
    signal: stop.signal,
    onText: (t) => shown.push(t),
  });
  await clock.tick(1000);
  stop.abort();
  assert.deepEqual(await result, { ok: false, reason: "cancelled", partialText: "하나 둘 " });
  assert.equal(client.calls[0].signal?.aborted, true, "the Gemini call itself was aborted");
  await clock.tick(10_000);
  assert.equal(client.calls.length, 1);
  assert.deepEqual(shown, ["하나 ", "하나 둘 "]);
  assert.equal(broker.stats.failures.cancelled, 1);
});

Deno.test("a cancelled request still in the queue leaves it without a call", async () => {
  const { broker, client } = setup({ maxConcurrency: 1 });
  const hold = Promise.withResolvers<GenerateResult>();
  client.steps.push({ hold });
  const running = broker.generate(chat("a"));
  const stop = new AbortController();
  const queued = broker.generate({ ...chat("b"), signal: stop.signal });
  assert.equal(broker.queueLength, 1);
  stop.abort();
  assert.deepEqual(await queued, { ok: false, reason: "cancelled" });
  assert.equal(broker.queueLength, 0);
  hold.resolve({ text: "ok", usage: USAGE, finishReason: "STOP" });
  assert.equal((await running).ok, true);
  assert.equal(client.calls.length, 1);
});

// ---- a refused key is checked again (issue 9, finding 5) ----------------------------------

const MINUTE_MS = 60_000;
const forbidden = () => sdkError(403, "The caller does not have permission");

Deno.test("a refused key is checked with countTokens after 1, 2, 4 … minutes (at most 60), and serves again once a check passes", async () => {
  const { broker, client, clock, pool, events } = setup();
  client.steps.push({ error: forbidden() });
  const checkedAt: number[] = [];
  client.countResult = () => {
    checkedAt.push(clock.now());
    return checkedAt.length < 8 ? Promise.reject(forbidden()) : Promise.resolve(700);
  };
  assert.deepEqual(await broker.generate(chat("x")), {
    ok: false,
    reason: "rejected",
    status: 403,
  });
  // /status reads when the key is tried next.
  assert.equal(pool.status(clock.now())[0].disabledUntil, NOON + MINUTE_MS);
  await clock.tick(MINUTE_MS - 1);
  assert.deepEqual(checkedAt, []);
  await clock.tick(1);
  assert.deepEqual(checkedAt, [NOON + MINUTE_MS]);
  assert.equal(pool.status(clock.now())[0].disabledUntil, NOON + 3 * MINUTE_MS, "then 2 min");
  await clock.tick(200 * MINUTE_MS);
  // Each failed check doubles the interval, capped at an hour.
  assert.deepEqual(
    checkedAt.map((at) => (at - NOON) / MINUTE_MS),
    [1, 3, 7, 15, 31, 63, 123, 183],
  );
  assert.deepEqual(
    events.flatMap((e) => e.type === "key_check" ? [e.ok ? "ok" : e.retryInMs! / MINUTE_MS] : []),
    [2, 4, 8, 16, 32, 60, 60, "ok"],
  );
  assert.equal(pool.status(clock.now())[0].disabledUntil, undefined);
  const answered = await broker.generate(chat("y"));
  assert.equal(answered.ok, true);
  assert.equal(client.calls.length, 2, "only the first call and the last one reached Gemini");
  assert.equal(broker.stats.keyRejections, 1, "failed checks are not new refusals");
});

Deno.test("a request that comes while the only key awaits its check waits for it, with a countdown", async () => {
  const { broker, client, clock } = setup();
  client.steps.push({ error: forbidden() }, { text: "다시 됐다" });
  assert.equal((await broker.generate(chat("x"))).ok, false);
  await clock.tick(30_000);
  const waits: (number | undefined)[] = [];
  const later = broker.generate({ ...chat("y"), onWait: (at) => waits.push(at) });
  await clock.tick(0);
  assert.deepEqual(waits, [NOON + MINUTE_MS], "told when the key is tried again");
  await clock.tick(30_000);
  const result = await later;
  assert.equal(result.ok && result.text, "다시 됐다");
  assert.equal(waits.at(-1), undefined);
});

Deno.test("several calls refused at once on one key schedule one check, not a longer one", async () => {
  const { broker, client, clock, pool } = setup({ keys: ["k1", "k2"] });
  const holds = [Promise.withResolvers<GenerateResult>(), Promise.withResolvers<GenerateResult>()];
  client.steps.push({ hold: holds[0] }, { hold: holds[1] });
  const done = [broker.generate(chat("a")), broker.generate(chat("b"))];
  assert.deepEqual(client.calls.map((c) => c.apiKey), ["k1", "k2"]);
  holds[0].reject(forbidden());
  await clock.tick(0);
  assert.equal(pool.status(clock.now())[0].disabledUntil, NOON + MINUTE_MS);
  holds[1].resolve({ text: "b", usage: USAGE, finishReason: "STOP" });
  await Promise.all(done);
  assert.equal(client.calls[2].apiKey, "k2", "the refused call moved to the other key");
});

// ---- waits are shown, and bounded (issue 9, finding 6) -------------------------------------

Deno.test("onWait: a key's open circuit breaker is announced with its reopening time", async () => {
  const { broker, client, clock } = setup({ maxAttempts: 1 });
  // Five failed calls in a row open the key's breaker for 30 s (the pool's defaults).
  for (let i = 0; i < 5; i++) {
    client.steps.push({ error: sdkError(500, "internal") });
    assert.equal((await broker.generate(chat(`m${i}`))).ok, false);
  }
  const waits: (number | undefined)[] = [];
  const next = broker.generate({ ...chat("next"), onWait: (at) => waits.push(at) });
  await clock.tick(0);
  assert.deepEqual(waits, [NOON + 30_000]);
  await clock.tick(30_000);
  assert.equal((await next).ok, true);
  assert.deepEqual(waits, [NOON + 30_000, undefined]);
});

Deno.test("onWait: a retry's backoff over the threshold is announced; shorter ones are not", async () => {
  const { broker, client, clock } = setup();
  for (let i = 0; i < 4; i++) client.steps.push({ error: sdkError(503, "overloaded") });
  const waits: (number | undefined)[] = [];
  const result = broker.generate({ ...chat("hi"), onWait: (at) => waits.push(at) });
  await clock.tick(7000); // failures at 0, 1, 3 and 7 s: the 1, 2 and 4 s waits stay silent
  assert.deepEqual(waits, [NOON + 15_000]);
  await clock.tick(8000);
  assert.equal((await result).ok, true);
  assert.deepEqual(waits, [NOON + 15_000, undefined]);
});

Deno.test("a hanging Gemini ends the request 'unavailable' at maxWaitMs, not after every retry", async () => {
  const { broker, client, clock } = setup(); // 30 s timeout, 60 s bound
  client.steps.push({ hang: true }, { hang: true }, { hang: true });
  let result: unknown;
  void broker.generate(chat("hi")).then((r) => result = r);
  await clock.tick(59_999);
  assert.equal(result, undefined);
  assert.equal(client.calls.length, 2, "timed out at 30 s, retried at 31 s");
  await clock.tick(1);
  assert.deepEqual(result, { ok: false, reason: "unavailable", status: undefined });
  assert.equal(broker.stats.timeouts, 2);
  assert.equal(broker.stats.waitLimited, 1);
});

Deno.test("a server delay that would pass the bound ends the request at once", async () => {
  const { broker, client, clock } = setup();
  client.steps.push({ error: quota429("minute", "90s", "90s") });
  let result: unknown;
  void broker.generate(chat("hi")).then((r) => result = r);
  await clock.tick(0);
  assert.deepEqual(result, { ok: false, reason: "unavailable", status: undefined });
  assert.equal(client.calls.length, 1);
});

Deno.test("timeoutMs is silence, not length: a slow, healthy stream finishes; a stalled one is cut", async () => {
  const { broker, client, clock } = setup({ timeoutMs: 3000 });
  const slow = Array.from({ length: 9 }, (_, i) => `${i + 1} `); // one a second, for 8 s
  client.steps.push({ chunks: slow, everyMs: 1000 });
  const healthy = broker.generate(chat("long"));
  await clock.tick(8000);
  assert.deepEqual(await healthy, {
    ok: true,
    text: slow.join(""),
    usage: USAGE,
    attempts: 1,
    finishReason: "STOP",
  });

  client.steps.push({ chunks: ["하나 ", "둘 "], everyMs: 1000, thenHang: true });
  const shown: string[] = [];
  let stalled: unknown;
  void broker.generate({ ...chat("stall"), onText: (t) => shown.push(t) }).then((r) => stalled = r);
  await clock.tick(3999); // the last chunk came at 1 s
  assert.equal(stalled, undefined);
  await clock.tick(1);
  assert.deepEqual(stalled, { ok: false, reason: "interrupted", partialText: "하나 둘 " });
  assert.equal(shown.at(-1), "하나 둘 ");
});

Deno.test("the wait bound ends a request stuck behind busy calls, and never cuts one that streams", async () => {
  const { broker, client, clock } = setup({ maxConcurrency: 1 });
  const long = Array.from({ length: 121 }, () => "가"); // two minutes, a chunk a second
  client.steps.push({ chunks: long, everyMs: 1000 });
  const streaming = broker.generate(chat("long"));
  let queued: unknown;
  void broker.generate(chat("queued")).then((r) => queued = r);
  await clock.tick(59_999);
  assert.equal(queued, undefined);
  await clock.tick(1);
  assert.deepEqual(queued, { ok: false, reason: "unavailable", status: undefined });
  await clock.tick(60_000);
  const result = await streaming;
  assert.equal(result.ok && result.text, long.join(""));
});
