import assert from "node:assert/strict";
import type { GeminiClient, GenerateRequest, Part } from "./gemini.ts";
import { type FileStore, withFileUploads } from "./gemini_files.ts";

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
