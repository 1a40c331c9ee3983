import assert from "node:assert/strict";
import { GoogleGenerativeAI } from "@google/generative-ai";
import { GoogleAICacheManager } from "@google/generative-ai/server";
import { SdkGeminiClient } from "../../lib/gemini/client.ts";
import { SdkFileStore } from "../../lib/gemini/files.ts";
import { estimateTokens, FakeGemini, type FakeGeminiOptions } from "./fake_gemini.ts";

const KEY = "test-key";
const MODEL = "gemini-3.5-flash";
const RECORDINGS = new URL("../fixtures/gemini-recordings/", import.meta.url);

// Runs `fn` against a fresh fake and always closes it, so a failed assertion leaks nothing.
async function withFake(
  fn: (fake: FakeGemini) => Promise<void>,
  opts: FakeGeminiOptions = {},
): Promise<void> {
  const fake = await FakeGemini.start(opts);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

function model(fake: FakeGemini, opts: { thinking?: boolean; key?: string } = {}) {
  return new GoogleGenerativeAI(opts.key ?? KEY).getGenerativeModel(
    {
      model: MODEL,
      systemInstruction: "너는 소예봇이야.",
      // thinkingConfig is not in 0.24.1's types, but the SDK passes generationConfig through.
      generationConfig: opts.thinking
        ? {}
        : { thinkingConfig: { thinkingLevel: "minimal" } } as never,
    },
    { baseUrl: fake.url },
  );
}

/** Text the SDK would extract from a recording, computed independently of the fake. */
async function recordedText(file: string): Promise<string> {
  const raw = await Deno.readTextFile(new URL(file, RECORDINGS));
  const bodies = raw.trimStart().startsWith("data:")
    ? raw.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)))
    : [JSON.parse(raw)];
  return bodies.flatMap((b) => b.candidates?.[0]?.content?.parts ?? [])
    .map((p: { text?: string }) => p.text ?? "").join("");
}

// deno-lint-ignore no-explicit-any
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

Deno.test("estimateTokens counts ASCII at 4 chars and other text at 1.5 chars a token", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("hello world!"), 3);
  assert.equal(estimateTokens("안녕하세요"), 4);
  assert.equal(estimateTokens("hi 안녕"), 3); // 3/4 + 2/1.5 = 2.08
});

Deno.test("unary reply echoes the user with usage and no thoughts at the minimal level", async () => {
  await withFake(async (fake) => {
    const result = await model(fake).generateContent("안녕");
    assert.equal(result.response.text(), '응, "안녕" 말이지.');
    const usage = result.response.usageMetadata as unknown as Record<string, number>;
    const prompt = estimateTokens("너는 소예봇이야.") + estimateTokens("안녕");
    assert.equal(usage.promptTokenCount, prompt);
    assert.equal(usage.candidatesTokenCount, estimateTokens('응, "안녕" 말이지.'));
    assert.equal(usage.thoughtsTokenCount, undefined);
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);

    const [req] = fake.requests;
    assert.equal(req.action, "generateContent");
    assert.equal(req.model, MODEL);
    assert.equal(req.apiKey, KEY);
    assert.equal(req.status, 200);
    assert.equal(req.path, `/v1beta/models/${MODEL}:generateContent`);
    assert.deepEqual(req.body.generationConfig.thinkingConfig, { thinkingLevel: "minimal" });
    assert.equal(req.body.systemInstruction.parts[0].text, "너는 소예봇이야.");
  });
});

Deno.test("thinking at the model's default level is billed as thoughtsTokenCount", async () => {
  await withFake(async (fake) => {
    const { response } = await model(fake, { thinking: true }).generateContent("hi");
    const usage = response.usageMetadata as unknown as Record<string, number>;
    assert.equal(usage.thoughtsTokenCount, 50);
    assert.equal(
      usage.totalTokenCount,
      usage.promptTokenCount + usage.candidatesTokenCount + 50,
    );
  }, { thoughtsTokens: 50 });
});

Deno.test("a stream arrives in several role:model chunks and aggregates to the full text", async () => {
  await withFake(async (fake) => {
    fake.script({ text: "하나 둘 셋 넷 다섯", chunks: 3, chunkDelayMs: 5 });
    const result = await model(fake).generateContentStream("세어 봐");
    const pieces: string[] = [];
    for await (const chunk of result.stream) {
      assert.equal(chunk.candidates?.[0].content.role, "model");
      pieces.push(chunk.text());
    }
    assert.equal(pieces.length, 4, "three text chunks, then the signature's empty part");
    assert.equal(pieces.at(-1), "");
    assert.equal(pieces.join(""), "하나 둘 셋 넷 다섯");
    const response = await result.response;
    assert.equal(response.text(), "하나 둘 셋 넷 다섯");
    assert.equal(response.candidates?.[0].finishReason, "STOP");
    assert.equal(
      response.usageMetadata?.candidatesTokenCount,
      estimateTokens("하나 둘 셋 넷 다섯"),
    );
    assert.equal(fake.requests[0].action, "streamGenerateContent");
  });
});

Deno.test("replayed recordings give the SDK exactly the recorded text", async () => {
  await withFake(async (fake) => {
    const stream = "googleai/streaming-success-basic-reply-short.txt";
    const unary = "googleai/unary-success-basic-reply-short.json";
    const long = "googleai/streaming-success-basic-reply-long.txt";
    fake.replay(stream).replay(unary).replay(long).replay(unary);

    const s = await model(fake).generateContentStream("q");
    let streamed = "";
    for await (const chunk of s.stream) streamed += chunk.text();
    assert.equal(streamed, await recordedText(stream));
    assert.equal((await s.response).text(), await recordedText(stream));

    const u = await model(fake).generateContent("q");
    assert.equal(u.response.text(), await recordedText(unary));

    // A streaming recording replayed for a unary call is merged into one body.
    const merged = await model(fake).generateContent("q");
    assert.equal(merged.response.text(), await recordedText(long));

    // A unary recording replayed for a stream is sent as one event.
    const one = await model(fake).generateContentStream("q");
    const chunks: string[] = [];
    for await (const chunk of one.stream) chunks.push(chunk.text());
    assert.deepEqual(chunks, [await recordedText(unary)]);
    await one.response;
  });
});

Deno.test("fail429 surfaces as status 429 with QuotaFailure and RetryInfo details", async () => {
  await withFake(async (fake) => {
    fake.fail429({ kind: "minute" }).fail429({ kind: "day", retryDelaySeconds: 5.5 });
    const err = await rejection(model(fake).generateContent("q"));
    assert.equal(err.status, 429);
    assert.match(err.message, /Please retry in 37\.2s\./);
    const retry = err.errorDetails.find((d: { "@type": string }) =>
      d["@type"].endsWith("RetryInfo")
    );
    assert.equal(retry.retryDelay, "37s");
    const failure = err.errorDetails.find((d: { "@type": string }) =>
      d["@type"].endsWith("QuotaFailure")
    );
    assert.equal(
      failure.violations[0].quotaId,
      "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    );

    const day = await rejection(model(fake).generateContentStream("q"));
    assert.equal(day.status, 429);
    assert.match(JSON.stringify(day.errorDetails), /PerDayPerProjectPerModel-FreeTier/);
    assert.match(JSON.stringify(day.errorDetails), /"retryDelay":"5s"/);
    assert.equal(fake.stats.rejected429, 2);
    assert.equal(fake.stats.byKey[KEY].rejected429, 2);
  });
});

Deno.test("failStatus uses the real status names and messages", async () => {
  await withFake(async (fake) => {
    fake.failStatus(503).failStatus(500, "boom");
    const overloaded = await rejection(model(fake).generateContent("q"));
    assert.equal(overloaded.status, 503);
    assert.match(overloaded.message, /The model is overloaded\. Please try again later\./);
    const internal = await rejection(model(fake).generateContentStream("q"));
    assert.equal(internal.status, 500);
    assert.match(internal.message, /boom/);
    // The queue is empty again, so the responder answers.
    assert.equal((await model(fake).generateContent("q")).response.text(), '응, "q" 말이지.');
  });
});

Deno.test("a broken stream rejects both the stream and result.response", async () => {
  await withFake(async (fake) => {
    fake.script({ text: "abcdefghijkl", chunks: 4, breakAfter: 2 });
    const result = await model(fake).generateContentStream("q");
    // Attach the handler first: an unhandled rejection would end the test process.
    const response = rejection(result.response);
    const seen: string[] = [];
    const err = await rejection((async () => {
      for await (const chunk of result.stream) seen.push(chunk.text());
    })());
    assert.deepEqual(seen, ["abc", "def"]);
    assert.match(String(err), /Error reading from the stream/);
    assert.ok(await response);

    fake.brokenStream(0);
    const unary = await rejection(model(fake).generateContent("q"));
    assert.ok(unary instanceof Error);
  });
});

Deno.test("a bad key gets the recorded API_KEY_INVALID body; no key gets 403", async () => {
  await withFake(async (fake) => {
    const err = await rejection(model(fake, { key: "wrong" }).generateContent("q"));
    assert.equal(err.status, 400);
    assert.match(err.message, /API key not valid/);
    assert.equal(err.errorDetails[0].reason, "API_KEY_INVALID");

    const res = await fetch(`${fake.url}/v1beta/models/${MODEL}:generateContent`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.status, "PERMISSION_DENIED");
    assert.deepEqual(fake.requests.map((r) => r.status), [400, 403]);
  }, { apiKeys: [KEY, "other"] });
});

Deno.test("safetyBlock makes text() throw for unary and streamed replies", async () => {
  await withFake(async (fake) => {
    fake.safetyBlock().safetyBlock();
    const { response } = await model(fake).generateContent("q");
    assert.equal(response.promptFeedback?.blockReason, "SAFETY");
    assert.throws(() => response.text(), /SAFETY/);

    const s = await model(fake).generateContentStream("q");
    const streamed = await s.response;
    assert.equal(streamed.promptFeedback?.blockReason, "SAFETY");
    assert.throws(() => streamed.text(), /SAFETY/);
  });
});

Deno.test("context caches: too small is 400, a big one is used and reported", async () => {
  let clock = Date.parse("2025-06-01T00:00:00Z");
  await withFake(async (fake) => {
    const caches = new GoogleAICacheManager(KEY, { baseUrl: fake.url });
    const small = await rejection(caches.create({
      model: MODEL,
      contents: [{ role: "user", parts: [{ text: "짧은 글" }] }],
      ttlSeconds: 600,
    }));
    assert.equal(small.status, 400);
    assert.match(
      small.message,
      /Cached content is too small\. total_token_count=\d+, min_total_token_count=4096/,
    );

    const lore = "소예봇의 세계관 설정. ".repeat(700);
    const cache = await caches.create({
      model: MODEL,
      systemInstruction: "너는 소예봇이야.",
      contents: [{ role: "user", parts: [{ text: lore }] }],
      ttlSeconds: 600,
    });
    const cachedTokens = estimateTokens(lore) + estimateTokens("너는 소예봇이야.");
    assert.match(cache.name!, /^cachedContents\//);
    assert.equal(cache.model, `models/${MODEL}`);
    assert.equal(
      (cache as { usageMetadata?: { totalTokenCount: number } }).usageMetadata?.totalTokenCount,
      cachedTokens,
    );
    assert.equal(cache.expireTime, new Date(clock + 600_000).toISOString());
    assert.equal(fake.requests[1].body.ttl, "600s");

    const cached = new GoogleGenerativeAI(KEY).getGenerativeModelFromCachedContent(
      cache,
      { generationConfig: { thinkingConfig: { thinkingLevel: "minimal" } } as never },
      { baseUrl: fake.url },
    );
    const { response } = await cached.generateContent("안녕");
    const usage = response.usageMetadata as unknown as Record<string, number>;
    assert.equal(usage.cachedContentTokenCount, cachedTokens);
    assert.equal(usage.promptTokenCount, cachedTokens + estimateTokens("안녕"));
    assert.equal(fake.requests.at(-1)!.body.cachedContent, cache.name);

    assert.equal((await caches.get(cache.name!)).name, cache.name);
    assert.equal((await caches.list()).cachedContents?.length, 1);
    const updated = await caches.update(cache.name!, { cachedContent: { ttlSeconds: 60 } });
    assert.equal(updated.expireTime, new Date(clock + 60_000).toISOString());

    // Expiry follows the injected clock.
    clock += 61_000;
    const expired = await rejection(cached.generateContent("안녕"));
    assert.equal(expired.status, 403);
    assert.match(expired.message, /CachedContent not found \(or permission denied\)/);
    assert.deepEqual(await caches.list(), {});
  }, { now: () => clock });
});

Deno.test("a cache can be deleted, and a systemInstruction next to a cache is refused", async () => {
  await withFake(async (fake) => {
    const caches = new GoogleAICacheManager(KEY, { baseUrl: fake.url });
    const cache = await caches.create({
      model: MODEL,
      contents: [{ role: "user", parts: [{ text: "x".repeat(17_000) }] }],
    });
    const withSystem = new GoogleGenerativeAI(KEY).getGenerativeModel(
      { model: MODEL, systemInstruction: "sys" },
      { baseUrl: fake.url },
    );
    const refused = await rejection(withSystem.generateContent({
      contents: [{ role: "user", parts: [{ text: "q" }] }],
      cachedContent: cache.name,
    } as never));
    assert.equal(refused.status, 400);
    assert.match(refused.message, /CachedContent can not be used/);

    await caches.delete(cache.name!);
    const gone = await rejection(caches.get(cache.name!));
    assert.equal(gone.status, 403);
    assert.deepEqual(
      fake.requests.map((r) => r.action),
      [
        "cachedContents.create",
        "generateContent",
        "cachedContents.delete",
        "cachedContents.get",
      ],
    );
  });
});

Deno.test("countTokens answers totalTokens for what generate would send", async () => {
  await withFake(async (fake) => {
    const { totalTokens } = await model(fake).countTokens("안녕하세요");
    assert.equal(totalTokens, estimateTokens("너는 소예봇이야.") + estimateTokens("안녕하세요"));
    assert.equal(fake.requests[0].action, "countTokens");
  });
});

Deno.test("quota: rpm per key yields 429 with a window-based retry, then recovers", async () => {
  let clock = 1_000_000;
  await withFake(async (fake) => {
    const m = model(fake);
    await m.generateContent("1");
    clock += 10_000;
    await m.generateContent("2");
    const err = await rejection(m.generateContent("3"));
    assert.equal(err.status, 429);
    const retry = err.errorDetails.find((d: { "@type": string }) =>
      d["@type"].endsWith("RetryInfo")
    );
    assert.equal(retry.retryDelay, "50s");
    assert.match(err.message, /Please retry in 50s\./);

    // Another key has its own window.
    await model(fake, { key: "other" }).generateContent("x");

    clock += 50_000;
    await m.generateContent("4");
    assert.equal(fake.stats.rejected429, 1);
    assert.equal(fake.stats.byKey[KEY].requests, 4);
  }, { quota: { rpm: 2 }, apiKeys: [KEY, "other"], now: () => clock });
});

Deno.test("quota: tpm and rpd reject with their own quotaIds", async () => {
  let clock = Date.parse("2025-06-01T12:00:00Z");
  await withFake(async (fake) => {
    const m = new GoogleGenerativeAI(KEY).getGenerativeModel({ model: MODEL }, {
      baseUrl: fake.url,
    });
    await m.generateContent("x".repeat(40)); // 10 tokens
    const tokens = await rejection(m.generateContent("x".repeat(40)));
    assert.equal(tokens.status, 429);
    assert.match(
      JSON.stringify(tokens.errorDetails),
      /GenerateContentInputTokensPerModelPerMinute/,
    );

    clock += 60_000;
    await m.generateContent("y");
    clock += 60_000;
    const day = await rejection(m.generateContent("z"));
    assert.match(JSON.stringify(day.errorDetails), /GenerateRequestsPerDayPerProjectPerModel/);

    clock += 24 * 3_600_000;
    await m.generateContent("next day");
  }, { quota: { tpm: 15, rpd: 2 }, now: () => clock });
});

Deno.test("slowFirstByte holds the reply; waitForRequests sees it in flight; close ends it", async () => {
  await withFake(async (fake) => {
    fake.slowFirstByte(40);
    const started = performance.now();
    const pending = model(fake).generateContent("q");
    const [req] = await fake.waitForRequests(1, 1000);
    assert.equal(req.status, 200);
    assert.equal((await pending).response.text(), '응, "q" 말이지.');
    assert.ok(performance.now() - started >= 35);
    await assert.rejects(fake.waitForRequests(2, 10), /only 1 arrived/);
  });

  // A reply held far beyond the test must not keep close() or the sanitizers waiting.
  const fake = await FakeGemini.start();
  fake.script({ text: "long", chunks: 4, chunkDelayMs: 60_000 });
  const result = await model(fake).generateContentStream("q");
  const response = rejection(result.response);
  const iterator = result.stream[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.text(), "l");
  await fake.close();
  await rejection(iterator.next());
  await response;
});

Deno.test("a client that aborts mid-stream leaves nothing running in the fake", async () => {
  await withFake(async (fake) => {
    fake.script({ text: "abcdefgh", chunks: 4, chunkDelayMs: 60_000 });
    const abort = new AbortController();
    const result = await model(fake).generateContentStream("q", { signal: abort.signal });
    const response = rejection(result.response);
    const iterator = result.stream[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.text(), "ab");
    abort.abort();
    // On Deno the SDK reports this as a read error, not as GoogleGenerativeAIAbortError.
    const err = await rejection(iterator.next());
    assert.match(String(err), /Error reading from the stream/);
    await response;
  });
});

// ---- implicit caching ---------------------------------------------------------------------

/** 4,134 tokens by the fake's count (6,200 Korean characters at 1.5 a token). */
const LONG_PERSONA = "가".repeat(6200);

/** One unary call with `systemInstruction` and alternating `turns`; returns its usageMetadata. */
async function usageOf(
  fake: FakeGemini,
  systemInstruction: string,
  turns: string[],
  opts: { model?: string; key?: string } = {},
): Promise<Record<string, number>> {
  const generative = new GoogleGenerativeAI(opts.key ?? KEY).getGenerativeModel(
    { model: opts.model ?? MODEL, systemInstruction },
    { baseUrl: fake.url },
  );
  const contents = turns.map((text, i) => ({
    role: i % 2 === 0 ? "user" : "model",
    parts: [{ text }],
  }));
  const { response } = await generative.generateContent({ contents });
  return response.usageMetadata as unknown as Record<string, number>;
}

Deno.test("implicit cache: a repeated prefix of 4,096 tokens or more is billed as cached (3.x Flash)", async () => {
  await withFake(async (fake) => {
    const first = await usageOf(fake, LONG_PERSONA, ["민수: 안녕"]);
    assert.equal(first.cachedContentTokenCount, undefined);
    // The next turn carries the whole first prompt, then the answer and a new line.
    const second = await usageOf(fake, LONG_PERSONA, ["민수: 안녕", "응 안녕", "민수: 뭐 해?"]);
    const shared = estimateTokens(LONG_PERSONA) + estimateTokens("민수: 안녕");
    assert.ok(shared >= 4096);
    assert.equal(second.cachedContentTokenCount, shared);
    assert.equal(
      second.promptTokenCount,
      shared + estimateTokens("응 안녕") + estimateTokens("민수: 뭐 해?"),
    );
  });
});

Deno.test("implicit cache: a prefix under the model's minimum is not cached, and 3.x Flash-Lite never reports one", async () => {
  await withFake(async (fake) => {
    const short = "가".repeat(6000); // 4,000 tokens
    await usageOf(fake, short, ["민수: 안녕"]);
    const again = await usageOf(fake, short, ["민수: 안녕", "응", "민수: 또"]);
    assert.equal(again.cachedContentTokenCount, undefined);
    const lite = "gemini-3.5-flash-lite";
    await usageOf(fake, LONG_PERSONA, ["민수: 안녕"], { model: lite });
    const liteAgain = await usageOf(fake, LONG_PERSONA, ["민수: 안녕", "응", "민수: 또"], {
      model: lite,
    });
    assert.equal(liteAgain.cachedContentTokenCount, undefined);
  });
});

Deno.test("implicit cache: a change right after the system instruction loses the hit", async () => {
  await withFake(async (fake) => {
    const persona = "가".repeat(5400); // 3,600 tokens: the history must carry the prefix past 4,096
    const history = Array.from({ length: 8 }, (_, i) => `${i}번째 말: ${"나".repeat(100)}`);
    await usageOf(fake, persona, [...history, "다음"]);
    const slid = await usageOf(fake, persona, [...history.slice(2), "다음"]);
    assert.equal(slid.cachedContentTokenCount, undefined);
    const kept = await usageOf(fake, persona, [...history, "다음", "응", "또"]);
    assert.ok(kept.cachedContentTokenCount >= 4096);
  });
});

Deno.test("implicit cache: not shared across keys, forgotten after its TTL, and off on request", async () => {
  let now = Date.UTC(2026, 0, 1);
  await withFake(async (fake) => {
    await usageOf(fake, LONG_PERSONA, ["민수: 안녕"]);
    const otherKey = await usageOf(fake, LONG_PERSONA, ["민수: 안녕", "응", "또"], { key: "k2" });
    assert.equal(otherKey.cachedContentTokenCount, undefined);
    now += 5 * 60_000 + 1;
    const late = await usageOf(fake, LONG_PERSONA, ["민수: 안녕", "응", "또"]);
    assert.equal(late.cachedContentTokenCount, undefined);
  }, { apiKeys: [KEY, "k2"], now: () => now });
  await withFake(async (fake) => {
    await usageOf(fake, LONG_PERSONA, ["민수: 안녕"]);
    const off = await usageOf(fake, LONG_PERSONA, ["민수: 안녕", "응", "또"]);
    assert.equal(off.cachedContentTokenCount, undefined);
  }, { implicitCache: false });
});

Deno.test("implicit cache: a part that differs counts only the text it shares", async () => {
  await withFake(async (fake) => {
    await usageOf(fake, LONG_PERSONA, [`민수: ${"다".repeat(60)} 첫째`]);
    const usage = await usageOf(fake, LONG_PERSONA, [`민수: ${"다".repeat(60)} 둘째`]);
    assert.equal(
      usage.cachedContentTokenCount,
      estimateTokens(LONG_PERSONA) + estimateTokens(`민수: ${"다".repeat(60)} `),
    );
  });
});

Deno.test("FakeGemini takes the SDK's Files API upload, shows the file to the responder, and deletes it", async () => {
  const bytes = new TextEncoder().encode("%PDF-1.4 fake pdf bytes");
  const seen: { mimeType: string; via: string; text: string }[] = [];
  await withFake(async (fake) => {
    const store = new SdkFileStore({ baseUrl: fake.url });
    const file = await store.upload({ apiKey: KEY, bytes, mimeType: "application/pdf" });
    assert.equal(fake.files.length, 1);
    assert.deepEqual(fake.files[0].bytes, bytes);
    assert.equal(file.uri, fake.files[0].uri);

    const client = new SdkGeminiClient({ baseUrl: fake.url });
    const result = await client.generate({
      apiKey: KEY,
      model: MODEL,
      contents: [{
        role: "user",
        parts: [{ text: "요약해줘" }, {
          fileData: { mimeType: "application/pdf", fileUri: file.uri },
        }],
      }],
    });
    assert.equal(result.text, "PDF 받았어");

    // Another project's key cannot read it, and neither can anyone once it is deleted.
    await assert.rejects(
      client.generate({
        apiKey: "other-key",
        model: MODEL,
        contents: [{
          role: "user",
          parts: [{ fileData: { mimeType: "application/pdf", fileUri: file.uri } }],
        }],
      }),
      (error: { status?: number }) => error.status === 403,
    );
    await store.remove(KEY, file.name);
    assert.equal(fake.files[0].deleted, true);
    assert.deepEqual(fake.requests.map((r) => r.action), [
      "files.upload",
      "streamGenerateContent",
      "streamGenerateContent",
      "files.delete",
    ]);
  }, {
    apiKeys: [KEY, "other-key"],
    responder: (req) => {
      for (const a of req.attachments) {
        seen.push({ mimeType: a.mimeType, via: a.via, text: new TextDecoder().decode(a.bytes) });
      }
      return "PDF 받았어";
    },
  });
  assert.deepEqual(seen, [{
    mimeType: "application/pdf",
    via: "file",
    text: "%PDF-1.4 fake pdf bytes",
  }]);
});

// ---- today's API (December 2026) ----------------------------------------------------------

/** A raw generateContent (or stream) call, so the fake's own answer is read, not the SDK's. */
async function post(
  fake: FakeGemini,
  model: string,
  body: unknown,
  stream = false,
): Promise<{ status: number; text: string }> {
  const action = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const response = await fetch(`${fake.url}/v1beta/models/${model}:${action}`, {
    method: "POST",
    headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const HELLO = [{ role: "user", parts: [{ text: "안녕" }] }];

Deno.test("a retired model (2.5) answers 404 'no longer available', for generate and countTokens", async () => {
  await withFake(async (fake) => {
    const generate = await post(fake, "gemini-2.5-flash", { contents: HELLO });
    assert.equal(generate.status, 404);
    assert.match(generate.text, /models\/gemini-2\.5-flash is no longer available to new users/);
    const count = await rejection(
      new GoogleGenerativeAI(KEY).getGenerativeModel({ model: "gemini-2.5-flash" }, {
        baseUrl: fake.url,
      }).countTokens("안녕"),
    );
    assert.equal(count.status, 404);
    assert.equal((await post(fake, "gemini-3.5-flash-lite", { contents: HELLO })).status, 200);
  });
});

Deno.test("refused thinking settings answer 400 with the recorded messages", async () => {
  await withFake(async (fake) => {
    const minimal = {
      contents: HELLO,
      generationConfig: { thinkingConfig: { thinkingLevel: "minimal" } },
    };
    const refused = await post(fake, "gemini-3.8-flash", minimal);
    assert.equal(refused.status, 400);
    assert.match(
      refused.text,
      /Thinking level MINIMAL is not supported for this model\. Please retry with other thinking level\./,
    );
    assert.equal((await post(fake, "gemini-3.5-flash-lite", minimal)).status, 200);
    const both = await post(fake, "gemini-3.6-flash", {
      contents: HELLO,
      generationConfig: { thinkingConfig: { thinkingLevel: "low", thinkingBudget: 512 } },
    });
    assert.equal(both.status, 400);
    assert.match(both.text, /You can only set only one of thinking budget and thinking level\./);
    const off = await post(fake, "gemini-3.5-flash-lite", {
      contents: HELLO,
      generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
    });
    assert.equal(off.status, 400, "3.5 Flash-Lite cannot turn thinking off");
  });
});

Deno.test("penalties and a request whose last content is the model's answer 400", async () => {
  await withFake(async (fake) => {
    for (const penalty of ["frequencyPenalty", "presencePenalty"]) {
      const refused = await post(fake, "gemini-3.5-flash-lite", {
        contents: HELLO,
        generationConfig: { [penalty]: 0.5 },
      });
      assert.equal(refused.status, 400, penalty);
      assert.match(refused.text, /Penalty is not enabled/);
    }
    const prefill = await post(fake, "gemini-3.5-flash-lite", {
      contents: [...HELLO, { role: "model", parts: [{ text: "응, " }] }],
    });
    assert.equal(prefill.status, 400);
    assert.match(prefill.text, /last content of a request must be the user's/);
  });
});

Deno.test("signatures: on the last part of a unary answer, on an empty part of their own at a stream's end", async () => {
  await withFake(async (fake) => {
    const unary = JSON.parse((await post(fake, "gemini-3.5-flash-lite", { contents: HELLO })).text);
    const parts = unary.candidates[0].content.parts;
    assert.equal(parts.length, 1);
    assert.equal(parts[0].text, '응, "안녕" 말이지.');
    assert.match(parts[0].thoughtSignature, /^[A-Za-z0-9+/=]+$/);

    const streamed = await post(fake, "gemini-3.5-flash-lite", { contents: HELLO }, true);
    const events = streamed.text.split("\r\n\r\n").filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice(6)));
    const texts = events.slice(0, -1).flatMap((e) => e.candidates[0].content.parts);
    assert.ok(texts.every((p: { thoughtSignature?: string }) => p.thoughtSignature === undefined));
    const last = events.at(-1).candidates[0];
    assert.deepEqual(Object.keys(last.content.parts[0]).sort(), ["text", "thoughtSignature"]);
    assert.equal(last.content.parts[0].text, "");
    assert.equal(last.finishReason, "STOP");
  });
});

Deno.test("usage carries serviceTier, and thoughtsTokenCount only when the model thought", async () => {
  await withFake(async (fake) => {
    const usageFor = async (model: string, level?: string) => {
      const generationConfig = level ? { thinkingConfig: { thinkingLevel: level } } : {};
      const body = JSON.parse(
        (await post(fake, model, { contents: HELLO, generationConfig })).text,
      );
      return body.usageMetadata;
    };
    const lite = await usageFor("gemini-3.5-flash-lite");
    assert.equal(lite.serviceTier, "standard");
    assert.equal(lite.thoughtsTokenCount, undefined, "Flash-Lite thinks minimal by default");
    assert.equal((await usageFor("gemini-3.8-flash")).thoughtsTokenCount, 80, "medium");
    assert.equal((await usageFor("gemini-3.8-flash", "low")).thoughtsTokenCount, 20);
    assert.equal((await usageFor("gemini-3.8-flash", "high")).thoughtsTokenCount, 160);
  }, { thoughtsTokens: 80 });
});

Deno.test("the 3.x recordings replay: a signature on an empty last part, a blocked prompt", async () => {
  await withFake(async (fake) => {
    fake.replay("gemini-3/vercel-ai/stream-3.7-flash-ok.txt");
    const ok = await post(fake, "gemini-3.7-flash", { contents: HELLO }, true);
    assert.match(ok.text, /"text":"OK"/);
    assert.match(ok.text, /"text":"","thoughtSignature":"Es0C/);
    fake.replay("gemini-3/vercel-ai/unary-3.7-flash-prompt-blocked.json");
    const blocked = JSON.parse((await post(fake, "gemini-3.7-flash", { contents: HELLO })).text);
    assert.equal(blocked.promptFeedback.blockReason, "PROHIBITED_CONTENT");
    assert.equal(blocked.candidates, undefined);
  });
});
