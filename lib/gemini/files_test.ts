import assert from "node:assert/strict";
import type { GeminiClient, GenerateRequest, Part } from "./client.ts";
import { type FileStore, withFileUploads } from "./files.ts";
import { classifyGeminiError } from "./errors.ts";
import { nextStep } from "../broker/failure_rules.ts";

const USAGE = { promptTokens: 1, cachedTokens: 0, outputTokens: 1, thinkingTokens: 0 };
const inline = (bytes: number): Part => ({
  inlineData: { mimeType: "application/pdf", data: btoa("x".repeat(bytes)) },
});

/** A client that records what it was asked, and a store that records uploads and deletes. */
function fakes(options: { failGenerate?: boolean } = {}) {
  const asked: GenerateRequest[] = [];
  const uploads: { apiKey: string; size: number }[] = [];
  const removed: string[] = [];
  const client = {
    generate: (request: GenerateRequest) => {
      asked.push(request);
      return options.failGenerate
        ? Promise.reject(Object.assign(new Error("503"), { status: 503 }))
        : Promise.resolve({ text: "요약", usage: USAGE, finishReason: "STOP" });
    },
  } as unknown as GeminiClient;
  const store: FileStore = {
    upload: (file) => {
      uploads.push({ apiKey: file.apiKey, size: file.bytes.length });
      const name = `files/f${uploads.length}`;
      return Promise.resolve({ name, uri: `https://g.test/${name}`, mimeType: file.mimeType });
    },
    remove: (_key, name) => (removed.push(name), Promise.resolve()),
  };
  return { client, store, asked, uploads, removed };
}

const request = (parts: Part[]): GenerateRequest => ({
  apiKey: "key-b",
  model: "m",
  contents: [{ role: "user", parts: [{ text: "민수: 요약해줘" }, ...parts] }],
});

Deno.test("withFileUploads sends a large part as a file uploaded with the call's key, then deletes it", async () => {
  const { client, store, asked, uploads, removed } = fakes();
  const small = inline(10);
  await withFileUploads(client, store, { inlineMaxBytes: 100 }).generate(
    request([small, inline(300)]),
  );
  assert.deepEqual(uploads, [{ apiKey: "key-b", size: 300 }]);
  assert.deepEqual(asked[0].contents[0].parts, [
    { text: "민수: 요약해줘" },
    small,
    { fileData: { mimeType: "application/pdf", fileUri: "https://g.test/files/f1" } },
  ]);
  await Promise.resolve();
  assert.deepEqual(removed, ["files/f1"]);
});

Deno.test("withFileUploads leaves small parts inline and deletes uploads when the call fails", async () => {
  const { client, store, asked, uploads } = fakes();
  const plain = request([inline(10)]);
  await withFileUploads(client, store, { inlineMaxBytes: 100 }).generate(plain);
  assert.equal(asked[0], plain, "nothing to upload: the request goes through as it is");
  assert.deepEqual(uploads, []);

  const failing = fakes({ failGenerate: true });
  const wrapped = withFileUploads(failing.client, failing.store, { inlineMaxBytes: 100 });
  await assert.rejects(wrapped.generate(request([inline(200)])), /503/);
  await Promise.resolve();
  assert.deepEqual(failing.removed, ["files/f1"]);
});

Deno.test("withFileUploads uploads the largest parts until the rest fit one request", async () => {
  const { client, store, uploads } = fakes();
  await withFileUploads(client, store, { inlineMaxBytes: 100, requestInlineMaxBytes: 130 })
    .generate(request([inline(60), inline(90), inline(80)]));
  assert.deepEqual(uploads.map((u) => u.size), [90, 80]);
});

Deno.test("withFileUploads makes an upload refused with 403 the file's failure, never the key's", async () => {
  const { client, asked } = fakes();
  const store: FileStore = {
    upload: () =>
      Promise.reject(Object.assign(new Error("[403 Forbidden] denied"), { status: 403 })),
    remove: () => Promise.resolve(),
  };
  const error = await withFileUploads(client, store, { inlineMaxBytes: 100 })
    .generate(request([inline(300)]))
    .then(() => undefined, (e) => e);
  assert.equal(asked.length, 0, "no generate call without the file");
  const failure = classifyGeminiError(error);
  assert.deepEqual(failure, { kind: "fatal", status: 403, reason: "file" });
  const call = { error, streamed: false, stopped: false, usedCache: false, timedOut: false };
  assert.deepEqual(nextStep(failure, call), { step: "rejected", status: 403, file: true });
});

Deno.test("withFileUploads leaves a 503 or 429 upload to be retried, as a call's would be", async () => {
  const { client } = fakes();
  for (const status of [503, 429]) {
    const store: FileStore = {
      upload: () => Promise.reject(Object.assign(new Error(String(status)), { status })),
      remove: () => Promise.resolve(),
    };
    const error = await withFileUploads(client, store, { inlineMaxBytes: 100 })
      .generate(request([inline(300)]))
      .then(() => undefined, (e) => e);
    assert.notEqual(classifyGeminiError(error).kind, "fatal", String(status));
  }
});

Deno.test("withFileUploads decodes a part's base64 once for all of the call's attempts", async () => {
  const { client } = fakes();
  const seen: Uint8Array[] = [];
  const store: FileStore = {
    upload: (file) => {
      seen.push(file.bytes);
      return Promise.resolve({ name: "files/x", uri: "https://g.test/x", mimeType: file.mimeType });
    },
    remove: () => Promise.resolve(),
  };
  const uploading = withFileUploads(client, store, { inlineMaxBytes: 100 });
  const retried = request([inline(300)]);
  await uploading.generate(retried);
  await uploading.generate({ ...retried, apiKey: "key-c" });
  assert.equal(seen.length, 2);
  assert.equal(seen[0], seen[1], "the same bytes, not a second copy");
});
