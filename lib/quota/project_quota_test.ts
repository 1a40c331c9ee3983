import assert from "node:assert/strict";
import { learnLimit, newProjectQuota, probeLimits, quotaWaitMs, rollDay } from "./project_quota.ts";

const BUDGET = { rpm: 8, tpm: 1000, rpd: 100 };

Deno.test("quotaWaitMs: the longest of the rest, the request window and the token window", () => {
  const quota = newProjectQuota(BUDGET, 1000);
  quota.tokens.add(900, 0);
  assert.equal(quotaWaitMs(quota, 100, 10), 0);
  assert.equal(quotaWaitMs(quota, 200, 10), 990);
  quota.parkedUntil = 5000;
  assert.equal(quotaWaitMs(quota, 100, 10), 4990);
});

Deno.test("learnLimit: lowers the limit to what was sent before, not below a quarter", () => {
  const quota = newProjectQuota(BUDGET, 1000);
  for (let at = 0; at < 5; at++) quota.requests.add(1, at);
  learnLimit(quota, BUDGET, "requests", 2, 10, 500);
  assert.equal(quota.learned.rpm, 3);
  assert.equal(quota.probeAt, 510);
  learnLimit(quota, BUDGET, "requests", -1, 10, 500);
  assert.equal(quota.learned.rpm, 2); // ceil(8 / 4)
  assert.equal(quota.learned.tpm, 1000);
});

Deno.test("probeLimits: raises 5% of the budget a window once the hold has passed", () => {
  const quota = newProjectQuota(BUDGET, 1000);
  quota.learned.tpm = 500;
  quota.probeAt = 100;
  probeLimits(quota, BUDGET, 99, 1000);
  assert.equal(quota.learned.tpm, 500);
  probeLimits(quota, BUDGET, 100, 1000);
  assert.equal(quota.learned.tpm, 550);
  assert.equal(quota.learned.rpm, 8);
  assert.equal(quota.probeAt, 1100);
});

Deno.test("rollDay: a new day starts the count again", () => {
  const quota = newProjectQuota(BUDGET, 1000);
  rollDay(quota, "2026-01-01");
  quota.requestsToday = 7;
  rollDay(quota, "2026-01-01");
  assert.equal(quota.requestsToday, 7);
  rollDay(quota, "2026-01-02");
  assert.equal(quota.requestsToday, 0);
});
