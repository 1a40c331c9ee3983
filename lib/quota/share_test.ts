import assert from "node:assert/strict";
import { LocalQuotaShare, type QuotaShare } from "./share.ts";
import { MemoryTokenPool } from "./token_pool.ts";
import { nextPacificMidnight } from "../pacific_day.ts";

const BUDGET = { rpm: 10, tpm: 10_000, rpd: 100 };
// 2026-03-02 12:00 PST: far from a daylight saving change.
const NOON = Date.UTC(2026, 2, 2, 20, 0);
const MINUTE = { windowMs: 60_000 };

Deno.test("LocalQuotaShare gives each of N processes 1/N, and says when its oldest send leaves", () => {
  const share = new LocalQuotaShare(BUDGET, { processes: 3, ...MINUTE });
  assert.deepEqual(share.limits, { rpm: 3, tpm: 3333, rpd: 33 });
  for (let i = 0; i < 3; i++) {
    assert.equal(share.room("key1", 10, NOON + i * 1000), 0);
    share.spent("key1", 10, NOON + i * 1000);
  }
  assert.equal(share.room("key1", 10, NOON + 5000), 55_000, "when the oldest send leaves");
  assert.equal(share.room("key2", 10, NOON + 5000), 0, "each key has its own share");
  assert.equal(share.room("key1", 10, NOON + 60_000), 0);
});

Deno.test("LocalQuotaShare counts tokens, refunds refused requests and resets at midnight", () => {
  const share = new LocalQuotaShare({ rpm: 100, tpm: 1000, rpd: 4 }, { processes: 2, ...MINUTE });
  share.spent("key1", 400, NOON);
  assert.equal(share.room("key1", 200, NOON + 1), 59_999, "400 + 200 is over 500");
  share.corrected("key1", NOON, 0, -300, NOON + 2);
  assert.equal(share.room("key1", 200, NOON + 3), 0, "corrected to 100 billed");
  share.spent("key1", 10, NOON + 4);
  assert.ok((share.room("key1", 10, NOON + 5) as number) > 3_600_000, "2 of rpd 4 over 2: the day");
  share.corrected("key1", NOON + 4, -1, -10, NOON + 6);
  assert.equal(share.room("key1", 10, NOON + 7), 0, "the server did not count a refused one");
  assert.equal(share.usage("key1", NOON + 7).today, 1);
  share.spent("key1", 10, NOON + 8);
  assert.equal(share.room("key1", 10, nextPacificMidnight(NOON)), 0);
});

Deno.test("N processes that fall back to LocalQuotaShare mid-window stay within the budget together", () => {
  // Two processes used the whole budget between them through Redis, unevenly (8 and 2), then
  // lost it: each has 1/2 of what was left at its last look, less its own sends since.
  const shares = [0, 1].map(() => new LocalQuotaShare(BUDGET, { processes: 2, ...MINUTE }));
  const sends: number[] = [];
  const entries: { expiresAt: number; requests: number; tokens: number }[] = [];
  for (let i = 0; i < 10; i++) {
    shares[i < 8 ? 0 : 1].spent("key1", 1, NOON + i);
    sends.push(NOON + i);
    entries.push({ expiresAt: NOON + i + 60_000, requests: 1, tokens: 1 });
  }
  for (const share of shares) share.observe("key1", { at: NOON + 10, entries, today: 10 });
  let fallbackSends = 0;
  for (let t = NOON + 100; t < NOON + 180_000; t += 250) {
    for (const share of shares) {
      if (share.room("key1", 1, t) === 0) {
        share.spent("key1", 1, t);
        sends.push(t);
        fallbackSends++;
      }
    }
    const inWindow = sends.filter((s) => s > t - 60_000 && s <= t).length;
    assert.ok(inWindow <= BUDGET.rpm, `${inWindow} in the minute before ${t - NOON}`);
  }
  assert.ok(fallbackSends >= 10, `answers go on: ${fallbackSends} sent meanwhile`);
});

Deno.test("without a snapshot, N processes that only ever use LocalQuotaShare share the budget", () => {
  const shares = [0, 1, 2].map(() => new LocalQuotaShare(BUDGET, { processes: 3, ...MINUTE }));
  const sends: number[] = [];
  for (let t = NOON; t < NOON + 120_000; t += 100) {
    for (const share of shares) {
      if (share.room("key1", 1, t) === 0) {
        share.spent("key1", 1, t);
        sends.push(t);
      }
    }
    assert.ok(sends.filter((s) => s > t - 60_000).length <= BUDGET.rpm);
  }
});

Deno.test("MemoryTokenPool takes no more than its share allows and tells it of every spend", () => {
  const share = new LocalQuotaShare(BUDGET, { processes: 2, ...MINUTE });
  const pool = new MemoryTokenPool(["a"], BUDGET, { ...MINUTE, share });
  for (let i = 0; i < 5; i++) assert.ok(pool.reserve(10, NOON).ok);
  const full = pool.reserve(10, NOON + 1000);
  assert.deepEqual(full, { ok: false, waitMs: 59_000, dayExhausted: false, allDisabled: false });
  assert.deepEqual(share.usage("key1", NOON + 1000), {
    requests: 5,
    tokens: 50,
    lastAt: NOON,
    today: 5,
  });
});

Deno.test("MemoryTokenPool tells its share of corrections, 429s and a spent day", () => {
  const told: string[] = [];
  const share: QuotaShare = {
    room: (keyId) => keyId === "key2" ? "day" : 0,
    spent: (keyId, tokens) => told.push(`spent ${keyId} ${tokens}`),
    corrected: (keyId, _at, requests, tokens) =>
      told.push(`corrected ${keyId} ${requests} ${tokens}`),
    throttled: (keyId, until, dimension) =>
      told.push(`throttled ${keyId} ${until - NOON} ${dimension}`),
    dayExhausted: (keyId) => told.push(`day ${keyId}`),
  };
  const pool = new MemoryTokenPool(["a", "b"], BUDGET, { ...MINUTE, share });
  const got = pool.reserve(100, NOON);
  assert.ok(got.ok && got.reservation.keyId === "key1", "key2 is spent for everyone");
  pool.settle(got.reservation, 70, NOON + 1);
  pool.throttled(got.reservation, NOON + 5000, "requests", NOON + 2);
  pool.exhaustDay("key1", NOON + 3);
  assert.deepEqual(told, [
    "spent key1 100",
    "corrected key1 0 -30",
    "corrected key1 -1 -100",
    "throttled key1 5000 requests",
    "day key1",
  ]);
  const none = pool.reserve(10, NOON + 4);
  assert.ok(!none.ok && none.dayExhausted, "every key's day is spent: the notice says so");
});
