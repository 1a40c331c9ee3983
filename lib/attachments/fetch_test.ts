import assert from "node:assert/strict";
import { attachmentOrigins, fetchAttachment } from "./fetch.ts";

/** A loopback server with the answers a CDN can give; `close` ends stalled requests too. */
function cdn() {
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ok") return new Response(new Uint8Array([1, 2, 3]));
    if (path === "/missing") return new Response("no", { status: 404 });
    if (path === "/elsewhere") return Response.redirect("https://example.com/x", 302);
    if (path === "/stall") {
      await new Promise((resolve) => closing.signal.addEventListener("abort", resolve));
      return new Response("late");
    }
    // A body larger than it says: no content-length, streamed in 1 KB chunks.
    let sent = 0;
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (sent++ < 64) controller.enqueue(new Uint8Array(1024));
          else controller.close();
        },
      }),
    );
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    close: async () => {
      closing.abort();
      await server.shutdown();
    },
  };
}

Deno.test("fetchAttachment takes bytes from an allowed origin and refuses every other", async () => {
  const server = cdn();
  try {
    const options = { allowedOrigins: [server.origin], timeoutMs: 2000, maxBytes: 10_000 };
    assert.deepEqual(await fetchAttachment(`${server.origin}/ok`, options), {
      ok: true,
      bytes: new Uint8Array([1, 2, 3]),
    });
    const other = { ...options, allowedOrigins: ["https://cdn.discordapp.com"] };
    assert.deepEqual(await fetchAttachment(`${server.origin}/ok`, other), {
      ok: false,
      reason: "host",
    });
    assert.deepEqual(await fetchAttachment("not a url", options), { ok: false, reason: "host" });
    assert.deepEqual(await fetchAttachment(`${server.origin}/missing`, options), {
      ok: false,
      reason: "failed",
      status: 404,
    });
    const redirected = await fetchAttachment(`${server.origin}/elsewhere`, options);
    assert.deepEqual(redirected, { ok: false, reason: "failed" }, "a redirect is not followed");
  } finally {
    await server.close();
  }
});

Deno.test("fetchAttachment stops at the byte cap and at the deadline", async () => {
  const server = cdn();
  try {
    const options = { allowedOrigins: [server.origin], timeoutMs: 300, maxBytes: 10_000 };
    assert.deepEqual(await fetchAttachment(`${server.origin}/big`, options), {
      ok: false,
      reason: "too_large",
    });
    const started = Date.now();
    assert.deepEqual(await fetchAttachment(`${server.origin}/stall`, options), {
      ok: false,
      reason: "timeout",
    });
    assert.ok(Date.now() - started < 5000, "the deadline ended the wait");
  } finally {
    await server.close();
  }
});

Deno.test("attachmentOrigins adds only the Discord API's own origin to the CDN's", () => {
  assert.deepEqual(attachmentOrigins("https://discord.com/api"), [
    "https://cdn.discordapp.com",
    "https://media.discordapp.net",
    "https://discord.com",
  ]);
});
