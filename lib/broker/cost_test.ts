import assert from "node:assert/strict";
import { costUsd } from "./cost.ts";

const usage = { promptTokens: 1000, cachedTokens: 400, outputTokens: 100, thinkingTokens: 50 };

Deno.test("costUsd prices uncached input, cached input, and output with thinking", () => {
  const cost = costUsd(usage, { input: 1, output: 10, cached: 0.1 });
  assert.equal(cost, (600 * 1 + 400 * 0.1 + 150 * 10) / 1e6);
});
