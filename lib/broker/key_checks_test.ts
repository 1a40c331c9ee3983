/**
 * Key checks on a ManualClock against the real in-memory pool: the schedule, the way back into
 * use, and stopping. Through the broker (countTokens, waiting requests) in
 * actors/gemini_broker_test.ts.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { type KeyCheckOutcome, KeyChecks } from "./key_checks.ts";
import { MemoryTokenPool } from "../quota/token_pool.ts";

const T0 = Date.UTC(2026, 2, 2, 20, 0);
const MINUTE = 60_000;

function setup(check: (key: string) => Promise<void>) {
  const clock = new ManualClock(T0);
  const pool = new MemoryTokenPool(["k1", "k2"], { rpm: 10, tpm: 100_000, rpd: 100 });
  const outcomes: [string, KeyCheckOutcome][] = [];
  const checks = new KeyChecks({
    pool,
    clock,
    check,
    onChecked: (keyId, outcome) => outcomes.push([keyId, outcome]),
  });
  return { clock, pool, checks, outcomes };
}

Deno.test("a refused key is checked after 1, 2, 4 … minutes, at most an hour apart", async () => {
  const checkedAt: number[] = [];
  const { clock, pool, checks, outcomes } = setup(() => {
    checkedAt.push(clock.now());
    return Promise.reject(new Error("403"));
  });
  assert.equal(checks.refused("key1"), true);
  assert.equal(pool.status(T0)[0].disabledUntil, T0 + MINUTE);
  await clock.tick(250 * MINUTE);
  assert.deepEqual(checkedAt.map((at) => (at - T0) / MINUTE), [1, 3, 7, 15, 31, 63, 123, 183, 243]);
  assert.deepEqual(
    outcomes.map(([, o]) => !o.ok && o.retryInMs / MINUTE),
    [2, 4, 8, 16, 32, 60, 60, 60, 60],
  );
  assert.equal(pool.status(clock.now())[0].disabledUntil, T0 + 303 * MINUTE);
  assert.equal(pool.status(clock.now())[1].disabledUntil, undefined, "the other key is untouched");
  await checks.stop();
});

Deno.test("a check that passes puts the key back; a later refusal starts again at a minute", async () => {
  let works = false;
  const { clock, pool, checks, outcomes } = setup(() =>
    works ? Promise.resolve() : Promise.reject(new Error("403"))
  );
  checks.refused("key1");
  await clock.tick(MINUTE); // fails: next in 2 min
  works = true;
  await clock.tick(2 * MINUTE);
  assert.deepEqual(outcomes.map(([keyId, o]) => [keyId, o.ok]), [["key1", false], ["key1", true]]);
  assert.equal(pool.status(clock.now())[0].disabledUntil, undefined);
  assert.equal(checks.refused("key1"), true);
  assert.equal(pool.status(clock.now())[0].disabledUntil, clock.now() + MINUTE);
  await checks.stop();
});

Deno.test("a second refusal of a key already out neither moves nor lengthens its schedule", async () => {
  const { clock, pool, checks } = setup(() => Promise.resolve());
  checks.refused("key1");
  await clock.tick(30_000);
  assert.equal(checks.refused("key1"), false);
  assert.equal(pool.status(clock.now())[0].disabledUntil, T0 + MINUTE);
  await checks.stop();
});

Deno.test("the key stays out while its check runs, and stop() waits for that check", async () => {
  const answer = Promise.withResolvers<void>();
  const { clock, pool, checks } = setup(() => answer.promise);
  checks.refused("key1");
  await clock.tick(MINUTE);
  const room = pool.reserve(1, clock.now());
  assert.equal(room.ok && room.reservation.keyId, "key2");
  assert.equal(pool.status(clock.now())[0].disabledUntil, clock.now(), "being checked now");
  let stopped = false;
  const stopping = checks.stop().then(() => stopped = true);
  await clock.tick(0);
  assert.equal(stopped, false);
  answer.resolve();
  await stopping;
  assert.equal(pool.status(clock.now())[0].disabledUntil, clock.now(), "not put back after stop");
  assert.equal(clock.pendingTimers, 0);
});
