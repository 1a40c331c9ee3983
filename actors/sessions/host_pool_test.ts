import assert from "node:assert/strict";
import { MAX_EXCHANGES } from "../../lib/sessions/window.ts";
import { until } from "../../tests/harness.ts";
import { HostPool } from "./host_pool.ts";
import type { FromHost } from "./host.ts";

const init = { type: "init", databasePath: ":memory:", maxExchanges: MAX_EXCHANGES } as const;

Deno.test("HostPool reports a host's uncaught error, and a respawned host answers", async () => {
  const errors: [number, string][] = [];
  const messages: FromHost[] = [];
  const pool = new HostPool({
    size: 2,
    init,
    onMessage: (message) => messages.push(message),
    onError: (index, error) => errors.push([index, error]),
  });
  pool.post(1, { type: "fault" });
  await until(() => errors.length === 1, "the host's error");
  assert.equal(errors[0][0], 1);
  assert.match(errors[0][1], /fault injected/);
  pool.respawn(1);
  pool.post(1, { type: "evict", channelId: "a" });
  await until(() => messages.length === 1, "the respawned host's answer");
  assert.deepEqual(messages, [{ type: "evicted", channelId: "a" }]);
  await pool.stop(8_000);
});

Deno.test("HostPool.stop waits for every host to stop, and no longer than its timeout", async () => {
  const pool = new HostPool({ size: 2, init, onMessage: () => {}, onError: () => {} });
  const started = Date.now();
  await pool.stop(8_000);
  assert.ok(Date.now() - started < 8_000, "stop waited for the timeout although hosts stopped");
  const stuck = new HostPool({ size: 1, init, onMessage: () => {}, onError: () => {} });
  stuck.terminate(0); // a host that can no longer say "stopped"
  const before = Date.now();
  await stuck.stop(50);
  assert.ok(Date.now() - before >= 45, "stop returned before its timeout");
});
