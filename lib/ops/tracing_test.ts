import assert from "node:assert/strict";
import { GeminiTracing, inSpan, isTracing } from "./tracing.ts";
import type { BrokerRequest, BrokerResult } from "./tracing.ts";

const USAGE = { promptTokens: 1, cachedTokens: 0, outputTokens: 1, thinkingTokens: 0 };

Deno.test("with OpenTelemetry off, inSpan and GeminiTracing call straight through", async () => {
  assert.equal(isTracing(), false, "this test runs without OTEL_DENO");
  let recording: boolean | undefined;
  const value = await inSpan("x", {}, (span) => {
    recording = span.isRecording();
    return Promise.resolve(42);
  });
  assert.equal(value, 42);
  assert.equal(recording, false);
  await assert.rejects(inSpan("x", {}, () => Promise.reject(new Error("boom"))), /boom/);

  const result: BrokerResult = { ok: true, text: "hi", usage: USAGE, attempts: 1 };
  const asked: BrokerRequest[] = [];
  const broker = { generate: (r: BrokerRequest) => (asked.push(r), Promise.resolve(result)) };
  const request = { priority: "chat", contents: [] } as unknown as BrokerRequest;
  assert.equal(await new GeminiTracing().generate(broker, request), result);
  assert.equal(asked[0], request);
});

Deno.test("with OTEL_DENO=true, spans are recorded", async () => {
  const script = `
    import { inSpan, isTracing } from "${new URL("./tracing.ts", import.meta.url)}";
    const recording = await inSpan("probe", {}, (span) => Promise.resolve(span.isRecording()));
    console.log(JSON.stringify({ tracing: isTracing(), recording }));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: new URL("../../", import.meta.url).pathname,
    // Nothing listens there: the exporter's failures stay in the child.
    env: { OTEL_DENO: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
  assert.deepEqual(JSON.parse(line), { tracing: true, recording: true });
});
