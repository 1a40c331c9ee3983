import assert from "node:assert/strict";
import { GATEWAY_BACKOFF, reconnectAction, ReconnectBackoff } from "./reconnect_plan.ts";

Deno.test("reconnectAction() resumes after outages and Discord's resumable closes", () => {
  // Deno reports 0 for a handshake the server refused (an HTTP 503 instead of a WebSocket).
  for (const code of [0, 1000, 1001, 1006, 1011, 4000, 4001, 4002, 4005, 4008]) {
    assert.equal(reconnectAction(code), "resume", `code ${code}`);
  }
});

Deno.test("reconnectAction() starts a new session when Discord dropped the old one", () => {
  for (const code of [4003, 4007, 4009]) assert.equal(reconnectAction(code), "identify");
});

Deno.test("reconnectAction() leaves fatal closes and discordeno's own closes to discordeno", () => {
  for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
    assert.equal(reconnectAction(code), "discordeno", `fatal ${code}`);
  }
  for (const code of [3000, 3010, 3024, 3064, 3065, 3066]) {
    assert.equal(reconnectAction(code), "discordeno", `own ${code}`);
  }
});

Deno.test("ReconnectBackoff doubles from 1 s to a 30 s cap", () => {
  const backoff = new ReconnectBackoff({ jitter: 0 });
  const delays = Array.from({ length: 8 }, () => backoff.next());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoff.failures, 8);
});

Deno.test("ReconnectBackoff jitter shortens each delay by at most a quarter", () => {
  const shortest = new ReconnectBackoff({ random: () => 0.999999 });
  assert.deepEqual([shortest.next(), shortest.next()], [750, 1500]);
  const backoff = new ReconnectBackoff();
  for (let i = 0; i < 200; i++) {
    const capped = Math.min(GATEWAY_BACKOFF.maxMs, GATEWAY_BACKOFF.baseMs * 2 ** i);
    const delay = backoff.next();
    assert.ok(delay >= capped * 0.75 && delay <= capped, `attempt ${i}: ${delay} ms`);
  }
});

Deno.test("ReconnectBackoff starts over after reset()", () => {
  const backoff = new ReconnectBackoff({ jitter: 0 });
  backoff.next();
  backoff.next();
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 1000);
});

Deno.test("ReconnectBackoff keeps an 8 s outage to a handful of attempts", () => {
  // Even with the shortest jitter, the waits add up past the outage within five attempts.
  const backoff = new ReconnectBackoff({ random: () => 0.999999 });
  let waited = 0, attempts = 0;
  while (waited < 8000) (waited += backoff.next(), attempts++);
  assert.equal(attempts, 4);
});
