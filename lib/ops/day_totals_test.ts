import assert from "node:assert/strict";
import { addToDay, dayAt } from "./day_totals.ts";

const usage = { promptTokens: 1000, cachedTokens: 400, outputTokens: 100, thinkingTokens: 50 };
const prices = { input: 1, output: 10, cached: 0.1 };

Deno.test("a day's totals count each call, its cost and its Google searches, and start again at Pacific midnight", () => {
  const beforeMidnight = Date.parse("2026-01-01T07:59:00Z"); // 23:59 in Los Angeles
  const today = dayAt(undefined, beforeMidnight);
  assert.equal(today.day, "2025-12-31");
  addToDay(today, usage, prices);
  addToDay(dayAt(today, beforeMidnight + 30_000), usage, prices, 2);
  assert.deepEqual(today, {
    day: "2025-12-31",
    calls: 2,
    tokensIn: 2000,
    tokensOut: 200,
    tokensCached: 800,
    tokensThinking: 100,
    costUsd: 2 * (600 + 40 + 1500) / 1e6,
    groundedCalls: 1,
    searchQueries: 2,
  });
  const tomorrow = dayAt(today, beforeMidnight + 120_000);
  assert.equal(tomorrow.day, "2026-01-01");
  assert.equal(tomorrow.tokensIn, 0);
  assert.equal(today.calls, 2, "the old day is left as it was");
});
