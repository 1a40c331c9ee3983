import assert from "node:assert/strict";
import { MemoryTokenPool, type ReserveResult } from "./token_pool.ts";
import { nextPacificMidnight } from "../pacific_day.ts";

const BUDGET = { rpm: 3, tpm: 1000, rpd: 5 };
// 2026-03-02 12:00 PST: far from a daylight saving change.
const NOON = Date.UTC(2026, 2, 2, 20, 0);
/** An exact minute, so the figures below read plainly (the default adds 1 s for latency). */
const MINUTE = { windowMs: 60_000 };

function keyOf(result: ReserveResult): string {
  assert.ok(result.ok, `expected room, got ${JSON.stringify(result)}`);
  return result.reservation.keyId;
}

Deno.test("a reservation goes to the key with the most room in its minute", () => {
  const pool = new MemoryTokenPool(["a", "b"], BUDGET, MINUTE);
  assert.equal(keyOf(pool.reserve(10, NOON)), "key1");
  assert.equal(keyOf(pool.reserve(10, NOON)), "key2");
  assert.equal(keyOf(pool.reserve(10, NOON)), "key1");
});

Deno.test("requests per minute: a full sliding minute says how long until its oldest leaves", () => {
  const pool = new MemoryTokenPool(["a"], BUDGET, MINUTE);
  pool.reserve(1, NOON);
  pool.reserve(1, NOON + 10_000);
  pool.reserve(1, NOON + 20_000);
  const full = pool.reserve(1, NOON + 30_000);
  assert.deepEqual(full, { ok: false, waitMs: 30_000, dayExhausted: false, allDisabled: false });
  assert.ok(pool.reserve(1, NOON + 60_000).ok);
});

Deno.test("tokens per minute are reserved up front and corrected from usage afterwards", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 100, tpm: 1000, rpd: 100 }, MINUTE);
  const first = pool.reserve(900, NOON);
  assert.ok(first.ok);
  const second = pool.reserve(200, NOON + 1000);
  assert.equal(second.ok, false);
  assert.equal(!second.ok && second.waitMs, 59_000);
  pool.settle(first.reservation, 300, NOON + 2000); // the estimate was high
  assert.ok(pool.reserve(200, NOON + 2000).ok);
  assert.equal(pool.status(NOON + 2000)[0].tokensLastMinute, 500);
});

Deno.test("requests per day reset at midnight Pacific", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 100, tpm: 100_000, rpd: 2 });
  pool.reserve(1, NOON);
  pool.reserve(1, NOON + 60_000);
  const spent = pool.reserve(1, NOON + 120_000);
  assert.equal(!spent.ok && spent.dayExhausted, true);
  assert.ok(pool.reserve(1, nextPacificMidnight(NOON)).ok);
});

Deno.test("a per-day 429 spends the key's day; another key still serves", () => {
  const pool = new MemoryTokenPool(["a", "b"], BUDGET, MINUTE);
  pool.exhaustDay("key1", NOON);
  assert.equal(keyOf(pool.reserve(1, NOON)), "key2");
  pool.exhaustDay("key2", NOON);
  const spent = pool.reserve(1, NOON);
  assert.equal(!spent.ok && spent.dayExhausted, true);
});

Deno.test("a disabled key is skipped, and all keys disabled says so", () => {
  const pool = new MemoryTokenPool(["a", "b"], BUDGET, MINUTE);
  pool.disable("key1", NOON + 3_600_000);
  assert.equal(keyOf(pool.reserve(1, NOON)), "key2");
  pool.disable("key2", NOON + 3_600_000);
  const none = pool.reserve(1, NOON);
  assert.deepEqual(none, { ok: false, waitMs: 3_600_000, dayExhausted: false, allDisabled: true });
  assert.equal(pool.status(NOON)[0].disabledUntil, NOON + 3_600_000);
});

Deno.test("a disabled key stays out past its check time until enabled, then serves again", () => {
  const pool = new MemoryTokenPool(["a"], BUDGET, MINUTE);
  pool.disable("key1", NOON + 60_000);
  assert.equal(pool.status(NOON)[0].disabledUntil, NOON + 60_000);
  // The check is due but has not answered: still out, and asked again in a second, not at once.
  const checking = pool.reserve(1, NOON + 61_000);
  assert.deepEqual(checking, { ok: false, waitMs: 1000, dayExhausted: false, allDisabled: true });
  assert.equal(pool.status(NOON + 61_000)[0].disabledUntil, NOON + 61_000, "never in the past");
  pool.enable("key1");
  assert.equal(keyOf(pool.reserve(1, NOON + 61_000)), "key1");
  assert.equal(pool.status(NOON + 61_000)[0].disabledUntil, undefined);
});

Deno.test("an open circuit says how long it stays open, in reserve and in the forecast", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 100, tpm: 100_000, rpd: 1000 }, {
    failureThreshold: 1,
    openMs: 30_000,
  });
  pool.report("key1", false, NOON);
  const waiting = pool.reserve(1, NOON + 1000);
  assert.equal(!waiting.ok && waiting.waitMs, 29_000);
  assert.deepEqual(pool.forecast(2, NOON + 1000), [NOON + 30_000, NOON + 30_000]);
});

Deno.test("a per-minute 429 gives the request back, parks the key and learns the real limit", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 10, tpm: 100_000, rpd: 1000 }, {
    ...MINUTE,
    holdMs: 600_000,
  });
  const held = [];
  for (let i = 0; i < 5; i++) held.push(pool.reserve(1, NOON + i));
  const refused = held[4];
  assert.ok(refused.ok);
  // The server let 4 through: the fifth gets a 429 that names the requests quota.
  pool.throttled(refused.reservation, NOON + 60_000, "requests", NOON + 10);
  const status = pool.status(NOON + 10)[0];
  assert.equal(status.requestsLastMinute, 4);
  assert.equal(status.requestsToday, 4, "a refused request must not spend the day's budget");
  assert.equal(status.effective.rpm, 4);
  assert.equal(status.parkedUntil, NOON + 60_000);
  // Next window: 4 a minute, not 10.
  const later = NOON + 60_004;
  for (let i = 0; i < 4; i++) assert.ok(pool.reserve(1, later).ok);
  assert.equal(pool.reserve(1, later).ok, false);
  // After the hold, it creeps back up by 5% of the budget (at least 1) a window.
  const afterHold = NOON + 10 + 600_000 + 120_000;
  assert.ok(pool.reserve(1, afterHold).ok);
  assert.equal(pool.status(afterHold)[0].effective.rpm, 5);
});

Deno.test("a 429 that names the tokens quota lowers the token limit, not the request limit", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 10, tpm: 1000, rpd: 1000 }, MINUTE);
  pool.reserve(400, NOON);
  const refused = pool.reserve(400, NOON + 1);
  assert.ok(refused.ok);
  pool.throttled(refused.reservation, NOON + 60_000, "tokens", NOON + 10);
  assert.deepEqual(pool.status(NOON + 10)[0].effective, { rpm: 10, tpm: 400, rpd: 1000 });
});

Deno.test("a 429 that names no quota (overload) parks the key without lowering its limit", () => {
  const pool = new MemoryTokenPool(["a"], BUDGET, MINUTE);
  const got = pool.reserve(1, NOON);
  assert.ok(got.ok);
  pool.throttled(got.reservation, NOON + 5000, undefined, NOON);
  assert.equal(pool.status(NOON)[0].effective.rpm, BUDGET.rpm);
  assert.equal(pool.reserve(1, NOON + 1000).ok, false);
  assert.ok(pool.reserve(1, NOON + 5000).ok);
});

Deno.test("circuit breaker: repeated failures open a key, then one half-open probe passes", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 100, tpm: 100_000, rpd: 1000 }, {
    failureThreshold: 2,
    openMs: 10_000,
  });
  pool.report("key1", false, NOON);
  pool.report("key1", false, NOON);
  assert.equal(pool.status(NOON)[0].breaker, "open");
  assert.equal(pool.reserve(1, NOON + 1000).ok, false);
  assert.ok(pool.reserve(1, NOON + 10_000).ok); // the probe
  assert.equal(pool.reserve(1, NOON + 10_001).ok, false); // only one
  pool.report("key1", true, NOON + 10_500);
  assert.ok(pool.reserve(1, NOON + 10_600).ok);
});

Deno.test("forecast: free slots now, then as old requests leave the window, over all keys", () => {
  const pool = new MemoryTokenPool(["a", "b"], { rpm: 2, tpm: 100_000, rpd: 1000 }, MINUTE);
  pool.reserve(1, NOON);
  pool.reserve(1, NOON);
  pool.reserve(1, NOON + 1000);
  assert.deepEqual(pool.forecast(4, NOON + 2000), [
    NOON + 2000,
    NOON + 60_000,
    NOON + 60_000,
    NOON + 61_000,
  ]);
});

Deno.test("a pool needs keys and positive budgets", () => {
  assert.throws(() => new MemoryTokenPool([], BUDGET), RangeError);
  assert.throws(
    () => new MemoryTokenPool(["a"], { ...BUDGET, rpm: 0 }),
    /'rpm' must be a positive integer: current value is 0/,
  );
});

Deno.test("by default a request counts for a minute and a second (the server counts it later)", () => {
  const pool = new MemoryTokenPool(["a"], { rpm: 1, tpm: 1000, rpd: 10 });
  pool.reserve(1, NOON);
  assert.equal(pool.reserve(1, NOON + 60_000).ok, false);
  assert.ok(pool.reserve(1, NOON + 61_000).ok);
});

Deno.test("a per-day 429's quotaValue becomes the key's daily limit, from the next day on too", () => {
  const pool = new MemoryTokenPool(["a", "b"], { rpm: 100, tpm: 100_000, rpd: 250 }, MINUTE);
  for (let i = 0; i < 3; i++) pool.reserve(1, NOON + i);
  pool.exhaustDay("key1", NOON + 10, 20);
  const [key1, key2] = pool.status(NOON + 10);
  assert.deepEqual([key1.effective.rpd, key2.effective.rpd], [20, 250]);
  const tomorrow = nextPacificMidnight(NOON);
  let served = 0;
  for (let i = 0; i < 60; i++) {
    const got = pool.reserve(1, tomorrow + i * 500);
    if (got.ok && got.reservation.keyId === "key1") served++;
  }
  assert.equal(served, 20, "key1 serves its real 20 a day, not the configured 250");
  assert.equal(pool.status(tomorrow + 30_000)[0].requestsToday, 20);
  assert.equal(pool.status(tomorrow + 30_000)[1].requestsToday, 40);
  // A stated limit above the configured budget does not raise it; nonsense is ignored.
  pool.exhaustDay("key2", NOON, 1000);
  pool.exhaustDay("key2", NOON, 0);
  assert.equal(pool.status(NOON)[1].effective.rpd, 250);
});

Deno.test("keys of one project share one budget; a key of its own keeps its own", () => {
  const pool = new MemoryTokenPool(["a1", "a2", "b"], BUDGET, {
    ...MINUTE,
    projects: ["projA", "projA", undefined],
  });
  const served = new Map<string, number>();
  for (let i = 0; i < 10; i++) {
    const got = pool.reserve(1, NOON + i);
    if (got.ok) served.set(got.reservation.keyId, (served.get(got.reservation.keyId) ?? 0) + 1);
  }
  // rpm 3: the project's two keys together serve 3, the plain key 3 more, then the minute is full.
  assert.equal((served.get("key1") ?? 0) + (served.get("key2") ?? 0), 3);
  assert.equal(served.get("key3"), 3);
  const [a1, a2, b] = pool.status(NOON + 10);
  assert.deepEqual([a1.project, a2.project, b.project], ["projA", "projA", undefined]);
  assert.equal(a1.requestsLastMinute, 3);
  assert.equal(a2.requestsLastMinute, 3);
  assert.equal(a1.requestsToday, 3);
  // The forecast counts the project's slots once, not once per key: 2 left today for the
  // project (rpd 5, 3 used) and 2 for the plain key, where a count per key would say 6.
  assert.equal(pool.forecast(10, NOON + 10).filter((at) => at === NOON + 10).length, 0);
  assert.equal(pool.forecast(10, NOON + 10).length, 4);
});

Deno.test("a project's 429s and spent day hold for every key of the group, not its refusals", () => {
  const pool = new MemoryTokenPool(["a1", "a2"], BUDGET, { ...MINUTE, projects: ["p", "p"] });
  const first = pool.reserve(1, NOON);
  assert.ok(first.ok);
  pool.throttled(first.reservation, NOON + 30_000, "requests", NOON + 1);
  const parked = pool.reserve(1, NOON + 2);
  assert.equal(!parked.ok && parked.waitMs, 29_998, "the other key of the project rests too");
  pool.exhaustDay("key2", NOON + 40_000, 4);
  const spent = pool.reserve(1, NOON + 40_000);
  assert.equal(!spent.ok && spent.dayExhausted, true);
  assert.deepEqual(pool.status(NOON).map((k) => k.effective.rpd), [4, 4]);
  // A refused key is the key's own affair: its partner serves tomorrow.
  pool.disable("key1", NOON + 3_600_000);
  const tomorrow = pool.reserve(1, nextPacificMidnight(NOON));
  assert.equal(tomorrow.ok && tomorrow.reservation.keyId, "key2");
});
