import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoffDelay() doubles from baseMs without jitter", () => {
  const delays = [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, { jitter: 0 }));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000]);
});

Deno.test("backoffDelay() caps at maxMs, even for huge attempts", () => {
  assert.equal(backoffDelay(5, { jitter: 0 }), 32000);
  assert.equal(backoffDelay(6, { jitter: 0 }), 32000);
  assert.equal(backoffDelay(5000, { jitter: 0 }), 32000);
  assert.equal(backoffDelay(3, { baseMs: 100, maxMs: 500, jitter: 0 }), 500);
});

Deno.test("backoffDelay() jitter only shortens the delay, by up to that fraction", () => {
  assert.equal(backoffDelay(1, { random: () => 0 }), 2000);
  assert.equal(backoffDelay(1, { random: () => 0.5 }), 1800);
  assert.equal(backoffDelay(1, { random: () => 0.999999 }), 1600);
  assert.equal(backoffDelay(20, { random: () => 0.5 }), 28800);
});

Deno.test("backoffDelay() with jitter 1 is full jitter", () => {
  assert.equal(backoffDelay(2, { jitter: 1, random: () => 0.25 }), 3000);
  assert.equal(backoffDelay(2, { jitter: 1, random: () => 0 }), 4000);
});

Deno.test("backoffDelay() stays within bounds with Math.random", () => {
  for (let i = 0; i < 200; i++) {
    const delay = backoffDelay(2);
    assert.ok(delay >= 3200 && delay <= 4000, `delay ${delay} out of range`);
  }
});

Deno.test("backoffDelay() rejects bad input with the value", () => {
  assert.throws(
    () => backoffDelay(-1),
    new RangeError(
      "Cannot compute backoff delay as 'attempt' must be a non-negative integer: current value is -1",
    ),
  );
  assert.throws(() => backoffDelay(1.5), RangeError);
  assert.throws(
    () => backoffDelay(0, { baseMs: 0 }),
    /'baseMs' must be positive: current value is 0/,
  );
  assert.throws(() => backoffDelay(0, { maxMs: 10 }), /'maxMs' must be at least 'baseMs'/);
  assert.throws(
    () => backoffDelay(0, { jitter: 2 }),
    new RangeError(
      "Cannot compute backoff delay as 'jitter' must be between 0 and 1: current value is 2",
    ),
  );
  assert.throws(() => backoffDelay(0, { jitter: NaN }), RangeError);
});
