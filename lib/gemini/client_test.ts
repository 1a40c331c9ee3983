/**
 * The SDK client against the fake Gemini on loopback: the real `@google/generative-ai` builds the
 * requests and parses the answers. Deno's test sanitizers check that no timer or request is left
 * behind and that no rejection goes unhandled.
 */
import assert from "node:assert/strict";
import { FakeGemini } from "../../tests/fakes/fake_gemini.ts";
import {
  GeminiBlockedError,
  GeminiTimeoutError,
  type GenerateRequest,
  SdkGeminiClient,
} from "./client.ts";
import { fakeSignature } from "../../tests/fakes/fake_gemini.ts";

const KEY = "test-key";
const MODEL = "gemini-3.5-flash-lite";
const CONTENTS = [{ role: "user", parts: [{ text: "민수: 안녕?" }] }];

/** A request for KEY and MODEL with CONTENTS, plus `more`. */
function request(more: Partial<GenerateRequest> = {}): GenerateRequest {
  return { apiKey: KEY, model: MODEL, contents: CONTENTS, ...more };
}

/** A signal that aborts with a GeminiTimeoutError after `ms`, as the broker's deadlines do. */
function timeoutSignal(ms: number): { signal: AbortSignal; cancel(): void } {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new GeminiTimeoutError(ms)), ms);
  return { signal: abort.signal, cancel: () => clearTimeout(timer) };
}

async function withFake(
  fn: (fake: FakeGemini, client: SdkGeminiClient) => Promise<void>,
): Promise<void> {
  const fake = await FakeGemini.start({ apiKeys: [KEY] });
  try {
    await fn(fake, new SdkGeminiClient({ baseUrl: fake.url }));
  } finally {
    await fake.close();
  }
}

Deno.test("streams text, reports usage, and sends the thinking level (never a budget) through the SDK", async () => {
  await withFake(async (fake, client) => {
    fake.reply("안녕, 나 소예야.");
    const seen: string[] = [];
    const result = await client.generate(
      request({
        systemInstruction: "persona",
        thinkingLevel: "minimal",
        onText: (t) => seen.push(t),
      }),
    );
    assert.equal(result.text, "안녕, 나 소예야.");
    assert.equal(seen.at(-1), "안녕, 나 소예야.");
    assert.ok(seen.length > 1, "streamed in several chunks");
    assert.equal(result.usage.thinkingTokens, 0, "minimal: no thoughtsTokenCount");
    const body = fake.requests[0].body;
    assert.deepEqual(body.generationConfig.thinkingConfig, { thinkingLevel: "minimal" });
    assert.deepEqual(body.systemInstruction.parts, [{ text: "persona" }]);

    fake.reply("응.");
    const thinking = await client.generate(request({ thinkingLevel: "medium" }));
    assert.deepEqual(fake.requests[1].body.generationConfig.thinkingConfig, {
      thinkingLevel: "medium",
    });
    assert.equal(thinking.usage.thinkingTokens, 200); // the fake's thoughtsTokenCount

    fake.reply("음.");
    await client.generate(request());
    assert.equal(fake.requests[2].body.generationConfig.thinkingConfig, undefined, "unset: none");
  });
});

Deno.test("the model turn keeps its parts from the stream's chunks, the signature on its own empty part", async () => {
  await withFake(async (fake, client) => {
    fake.reply("안녕, 나 소예야.");
    const result = await client.generate(request());
    assert.equal(result.text, "안녕, 나 소예야.", "the empty last part is not the answer");
    const signature = fakeSignature(`fake-0`);
    assert.deepEqual(result.parts, [
      { text: "안녕, 나 소예야." },
      { text: "", thoughtSignature: signature },
    ]);
  });
});

Deno.test("a recorded 3.x stream: text, then the signature on an empty part; a blocked prompt rejects", async () => {
  await withFake(async (fake, client) => {
    fake.replay("gemini-3/vercel-ai/stream-3-flash-preview-signature-on-empty-part.txt");
    const result = await client.generate(request());
    assert.equal(result.text, "4");
    assert.equal(result.parts?.length, 2);
    assert.equal(result.parts?.[1].text, "");
    assert.match(String(result.parts?.[1].thoughtSignature), /^[A-Za-z0-9+/=]{20,}$/);
    assert.equal(result.finishReason, "STOP");

    fake.replay("gemini-3/vercel-ai/stream-3.7-flash-prompt-blocked.txt");
    await assert.rejects(
      client.generate(request()),
      (error: unknown) =>
        error instanceof GeminiBlockedError && error.reason === "PROHIBITED_CONTENT",
    );
  });
});

Deno.test("a stream that breaks before any text rejects, and nothing goes unhandled", async () => {
  await withFake(async (fake, client) => {
    fake.brokenStream(0);
    await assert.rejects(
      client.generate(request()),
    );
  });
});

Deno.test("a stream that breaks after text rejects after showing that text", async () => {
  await withFake(async (fake, client) => {
    fake.script({ text: "하나 둘 셋 넷 다섯 여섯", chunks: 4, breakAfter: 2 });
    const seen: string[] = [];
    await assert.rejects(
      client.generate(request({ onText: (t) => seen.push(t) })),
    );
    assert.ok(seen.length >= 1);
  });
});

Deno.test("a caller's deadline ends a call whose first byte is late, with its reason; no timer is left", async () => {
  await withFake(async (fake, client) => {
    fake.slowFirstByte(3000);
    const started = Date.now();
    const deadline = timeoutSignal(200);
    await assert.rejects(
      client.generate(request({ signal: deadline.signal })),
      GeminiTimeoutError,
    );
    deadline.cancel();
    assert.ok(Date.now() - started < 2000);
  });
});

Deno.test("text arriving after the call was ended is not passed on", async () => {
  await withFake(async (fake, client) => {
    fake.script({ text: "가나다라마바사아", chunks: 4, chunkDelayMs: 150 });
    const seen: string[] = [];
    const deadline = timeoutSignal(250);
    await assert.rejects(
      client.generate(request({ signal: deadline.signal, onText: (t) => seen.push(t) })),
      GeminiTimeoutError,
    );
    const countAtDeadline = seen.length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.length, countAtDeadline);
  });
});

Deno.test("the client keeps no deadline of its own: a slow, healthy stream arrives whole", async () => {
  await withFake(async (fake, client) => {
    fake.script({ text: "하나 둘 셋 넷 다섯", chunks: 5, chunkDelayMs: 150 });
    const result = await client.generate(request());
    assert.equal(result.text, "하나 둘 셋 넷 다섯");
  });
});

Deno.test("a signal aborted before the call rejects at once with its reason", async () => {
  await withFake(async (_fake, client) => {
    const abort = new AbortController();
    abort.abort(new Error("already stopping"));
    await assert.rejects(client.generate(request({ signal: abort.signal })), /already stopping/);
  });
});

Deno.test("an abort signal ends a call at once", async () => {
  await withFake(async (fake, client) => {
    fake.slowFirstByte(3000);
    const abort = new AbortController();
    const call = client.generate(request({ signal: abort.signal }));
    setTimeout(() => abort.abort(new Error("stopping")), 50);
    await assert.rejects(call, /stopping/);
  });
});

Deno.test("a safety block becomes GeminiBlockedError", async () => {
  await withFake(async (fake, client) => {
    fake.safetyBlock();
    await assert.rejects(
      client.generate(request()),
      GeminiBlockedError,
    );
  });
});

Deno.test("a stream that ends with no text on any of Gemini's block reasons is blocked", async () => {
  await withFake(async (fake, client) => {
    // LANGUAGE and IMAGE_SAFETY block as SAFETY does: the client and the error rules agree.
    for (const reason of ["SAFETY", "LANGUAGE", "IMAGE_SAFETY"]) {
      fake.script({ text: "", finishReason: reason });
      const error = await client.generate(request()).catch((e) => e);
      assert.ok(error instanceof GeminiBlockedError, `${reason}: ${error}`);
      assert.equal(error.reason, reason);
    }
  });
});

Deno.test("a 429 arrives as the SDK's error with status and details", async () => {
  await withFake(async (fake, client) => {
    fake.fail429({ kind: "minute", retryDelaySeconds: 12 });
    const error = await client.generate(request()).catch((e) => e);
    assert.equal(error.status, 429);
    assert.ok(Array.isArray(error.errorDetails));
  });
});

Deno.test("the persona cache: created with a TTL, then used without a system instruction", async () => {
  await withFake(async (fake, client) => {
    const persona = "소예 설정. ".repeat(1200);
    const cache = await client.cacheSystemInstruction({
      apiKey: KEY,
      model: "gemini-3.8-flash",
      systemInstruction: persona,
      ttlSeconds: 3600,
    });
    assert.match(cache.name, /^cachedContents\//);
    assert.ok(cache.tokens >= 4096, "3.8 Flash's minimum");
    assert.ok(Math.abs(cache.expiresAt - Date.now() - 3_600_000) < 60_000);
    assert.equal(fake.requests[0].body.ttl, "3600s");
    fake.reply("응.");
    const result = await client.generate(
      request({ model: "gemini-3.8-flash", systemInstruction: persona, cachedContent: cache.name }),
    );
    assert.equal(fake.requests[1].body.systemInstruction, undefined);
    assert.equal(fake.requests[1].body.cachedContent, cache.name);
    assert.equal(result.usage.cachedTokens, cache.tokens);
  });
});

Deno.test("a persona too small to cache is refused with a 400 that says its size", async () => {
  await withFake(async (_fake, client) => {
    const error = await client.cacheSystemInstruction({
      apiKey: KEY,
      model: MODEL,
      systemInstruction: "짧은 설정",
      ttlSeconds: 3600,
    }).catch((e) => e);
    assert.equal(error.status, 400);
    assert.match(error.message, /too small. total_token_count=\d+/);
  });
});

Deno.test("countTokens measures the persona, and a bad key is refused", async () => {
  await withFake(async (_fake, client) => {
    const tokens = await client.countTokens({
      apiKey: KEY,
      model: MODEL,
      systemInstruction: "hello world!",
      deadlineMs: 5000,
    });
    assert.equal(tokens, 3);
    const error = await client.countTokens({
      apiKey: "not-a-key",
      model: MODEL,
      systemInstruction: "x",
      deadlineMs: 5000,
    }).catch((e) => e);
    assert.equal(error.status, 400);
    assert.match(error.message, /API key not valid/);
  });
});

Deno.test("with googleSearch the request carries the tool, and the answer its parts and sources", async () => {
  await withFake(async (fake, client) => {
    const result = await client.generate(
      request({ systemInstruction: "persona", googleSearch: true }),
    );
    const [sent] = fake.requests.filter((r) => r.action === "streamGenerateContent");
    assert.deepEqual(sent.body.tools, [{ googleSearch: {} }]);
    assert.deepEqual(sent.body.toolConfig, { includeServerSideToolInvocations: true });
    assert.match(result.text, /^The largest city in Mexico is/);
    assert.ok(result.parts?.[0].toolCall, "the search call, as received");
    assert.equal(result.grounding?.sources.length, 5);
    assert.equal(result.grounding?.queries.length, 2);
    // Without the flag, no tool, no search parts and no sources.
    const plain = await client.generate(request());
    const last = fake.requests.filter((r) => r.action === "streamGenerateContent").at(-1)!;
    assert.equal(last.body.tools, undefined);
    assert.ok(!plain.parts?.some((p) => p.toolCall || p.toolResponse));
    assert.equal(plain.grounding, undefined);
  });
});
