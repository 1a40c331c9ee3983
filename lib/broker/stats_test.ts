import assert from "node:assert/strict";
import { addUsage, countEnd, emptyBrokerStats } from "./stats.ts";

Deno.test("usage adds tokens and cost; an end adds a failure by its reason, not a success", () => {
  const stats = emptyBrokerStats();
  const usage = { promptTokens: 1000, cachedTokens: 400, outputTokens: 100, thinkingTokens: 50 };
  addUsage(stats, usage, { input: 1, output: 10, cached: 0.1 });
  addUsage(stats, usage, { input: 1, output: 10, cached: 0.1 });
  assert.deepEqual(
    [stats.tokensIn, stats.tokensOut, stats.tokensCached, stats.tokensThinking],
    [2000, 200, 800, 100],
  );
  assert.ok(Math.abs(stats.costUsd - 2 * (600 + 40 + 1500) / 1e6) < 1e-12);
  countEnd(stats, { ok: true, text: "", usage, attempts: 1 });
  countEnd(stats, { ok: false, reason: "blocked" });
  assert.equal(stats.failed, 1);
  assert.equal(stats.failures.blocked, 1);
  assert.equal(stats.succeeded, 0, "successes are the broker's to count");
});
