import assert from "node:assert/strict";
import { callWithSilenceLimit } from "./call.ts";
import { ManualClock } from "../clock.ts";
import { GeminiTimeoutError, type GenerateRequest } from "./port.ts";

const usage = { promptTokens: 1, cachedTokens: 0, outputTokens: 1, thinkingTokens: 0 };
const request = { apiKey: "k", model: "m", contents: [] };

/** A client that streams "a", "ab", … one chunk every `everyMs` on `clock`, `chunks` in all. */
function streamingClient(clock: ManualClock, everyMs: number, chunks: number) {
  return {
    generate(call: GenerateRequest) {
      return new Promise<never>((_, reject) => {
        call.signal!.addEventListener("abort", () => reject(call.signal!.reason));
        let text = "";
        for (let i = 1; i <= chunks; i++) {
          clock.setTimeout(() => call.onText?.(text += "a"), i * everyMs);
        }
      });
    },
  };
}

Deno.test("the first chunk has its own deadline, later ones the idle limit; text stops at the cut", async () => {
  const clock = new ManualClock(0);
  const shown: string[] = [];
  const outcome = callWithSilenceLimit(streamingClient(clock, 900, 3), request, {
    clock,
    abort: new AbortController(),
    firstChunkMs: 1000,
    idleMs: 1000,
    onText: (text) => shown.push(text),
  });
  await clock.tick(5000);
  const ended = await outcome;
  assert.equal(ended.ok, false);
  assert.ok(!ended.ok && ended.error instanceof GeminiTimeoutError);
  assert.deepEqual(shown, ["a", "aa", "aaa"], "a stream that keeps coming is not cut");
  assert.equal(!ended.ok && ended.streamed, "aaa");
});

Deno.test("a call that sends nothing before firstChunkMs is cut then, not at idleMs", async () => {
  const clock = new ManualClock(0);
  const outcome = callWithSilenceLimit(streamingClient(clock, 10_000, 1), request, {
    clock,
    abort: new AbortController(),
    firstChunkMs: 200,
    idleMs: 30_000,
  });
  await clock.tick(200);
  const ended = await outcome;
  assert.ok(!ended.ok && String(ended.error).includes("200 ms"));
  assert.equal(!ended.ok && ended.streamed, "");
});

Deno.test("a result resolves ok and leaves no timer behind", async () => {
  const clock = new ManualClock(0);
  const outcome = await callWithSilenceLimit(
    { generate: () => Promise.resolve({ text: "hi", usage, finishReason: "STOP" }) },
    request,
    { clock, abort: new AbortController(), firstChunkMs: 1000, idleMs: 1000 },
  );
  assert.deepEqual(outcome, { ok: true, result: { text: "hi", usage, finishReason: "STOP" } });
  await clock.tick(2000); // the deadline would abort; nothing is listening
});
