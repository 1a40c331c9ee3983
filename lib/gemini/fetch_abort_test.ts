import assert from "node:assert/strict";

/**
 * Runs in a child Deno with `--expose-gc`: the Gemini SDK streams from a slow loopback server,
 * a GC runs while each stream is read, then the call is aborted; prints how many bodies the
 * server saw cancelled. With `wrapped`, `cancelBodiesOnAbort` covers the server's URL.
 */
const SCRIPT = `
import { GoogleGenerativeAI } from "@google/generative-ai";
import { cancelBodiesOnAbort } from ${
  JSON.stringify(new URL("./fetch_abort.ts", import.meta.url).href)
};
let cancelled = 0;
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
  await request.text();
  let i = 0;
  const chunk = 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"x "}]}}]}\\r\\n\\r\\n';
  return new Response(new ReadableStream({
    async pull(c) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      if (i++ < 40) c.enqueue(new TextEncoder().encode(chunk));
      else c.close();
    },
    cancel() { cancelled++; },
  }), { headers: { "content-type": "text/event-stream" } });
});
const baseUrl = "http://127.0.0.1:" + server.addr.port;
if (Deno.args[0] === "wrapped") cancelBodiesOnAbort(baseUrl);
const model = new GoogleGenerativeAI("k").getGenerativeModel({ model: "m" }, { baseUrl });
for (let n = 0; n < 5; n++) {
  const abort = new AbortController();
  const result = await model.generateContentStream("hi", { signal: abort.signal });
  result.response.catch(() => {});
  const reading = (async () => { try { for await (const _ of result.stream); } catch { /* aborted */ } })();
  await new Promise((r) => setTimeout(r, 150));
  globalThis.gc();
  abort.abort();
  await Promise.race([reading, new Promise((r) => setTimeout(r, 100))]);
}
await new Promise((r) => setTimeout(r, 500));
console.log(cancelled);
Deno.exit(0);
`;

async function cancelledOf(mode: "wrapped" | "plain"): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", SCRIPT, mode],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(output.code, 0);
  return Number(new TextDecoder().decode(output.stdout).trim());
}

Deno.test("an aborted Gemini stream closes its connection even after a GC, where Deno's own abort is lost", async () => {
  assert.equal(await cancelledOf("wrapped"), 5);
});
