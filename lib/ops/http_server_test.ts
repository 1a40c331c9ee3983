import assert from "node:assert/strict";
import { opsHandler, type OpsHandlers, serveOps } from "./http_server.ts";

function handlers(checks: Record<string, boolean>): OpsHandlers {
  return {
    readiness: () => checks,
    metrics: () => Promise.resolve({ text: "up 1\n", contentType: "text/plain; version=0.0.4" }),
    statusPage: () => "<!doctype html><title>ok</title>",
  };
}

Deno.test("healthz, readyz, metrics, the page, 404 and 405", async () => {
  const handle = opsHandler(handlers({ gateway: true, store: true }));
  const call = (path: string, method = "GET") =>
    handle(new Request(`http://localhost${path}`, { method }));
  assert.equal((await call("/healthz")).status, 200);
  const ready = await call("/readyz");
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), "ready\ngateway: ok\nstore: ok\n");
  const metrics = await call("/metrics");
  assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4");
  assert.equal(await metrics.text(), "up 1\n");
  assert.match((await call("/")).headers.get("content-type")!, /^text\/html/);
  assert.equal((await call("/elsewhere")).status, 404);
  assert.equal((await call("/metrics", "POST")).status, 405);
});

Deno.test("readyz is 503 and names the check that failed", async () => {
  const response = await opsHandler(handlers({ gateway: false, store: true }))(
    new Request("http://localhost/readyz"),
  );
  assert.equal(response.status, 503);
  assert.equal(await response.text(), "not ready\ngateway: down\nstore: ok\n");
});

Deno.test("a throwing handler is a 500 and is reported", async () => {
  const errors: unknown[] = [];
  const response = await opsHandler({
    ...handlers({}),
    statusPage: () => {
      throw new Error("boom");
    },
    onError: (error) => errors.push(error),
  })(new Request("http://localhost/"));
  assert.equal(response.status, 500);
  assert.equal(errors.length, 1);
});

Deno.test("serveOps listens on loopback and shuts down", async () => {
  const server = serveOps({ hostname: "127.0.0.1", port: 0 }, handlers({ gateway: true }));
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
    assert.equal(await response.text(), "ok\n");
  } finally {
    await server.shutdown();
  }
});
