import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

const T0 = 1_790_000_000_000;

Deno.test("TokenBucket starts full and takes while tokens last", () => {
  const bucket = new TokenBucket({ capacity: 3, refillPerMs: 0.001 }, T0);
  assert.equal(bucket.available(T0), 3);
  assert.equal(bucket.tryTake(2, T0), true);
  assert.equal(bucket.tryTake(2, T0), false);
  assert.equal(bucket.available(T0), 1, "a refused take takes nothing");
  assert.equal(bucket.tryTake(1, T0), true);
  assert.equal(bucket.tryTake(0, T0), true);
  assert.equal(bucket.available(T0), 0);
});

Deno.test("TokenBucket refills over time, capped at capacity", () => {
  const bucket = new TokenBucket({ capacity: 60, perMs: 60_000 }, T0);
  assert.equal(bucket.refillPerMs, 0.001);
  assert.equal(bucket.tryTake(60, T0), true);
  assert.equal(bucket.available(T0 + 500), 0.5);
  assert.equal(bucket.tryTake(1, T0 + 500), false);
  assert.equal(bucket.tryTake(1, T0 + 1000), true);
  assert.equal(bucket.available(T0 + 31_000), 30);
  assert.equal(bucket.available(T0 + 10 * 60_000), 60);
});

Deno.test("TokenBucket ignores a clock that goes backwards", () => {
  const bucket = new TokenBucket({ capacity: 10, refillPerMs: 1 }, T0);
  assert.equal(bucket.tryTake(10, T0), true);
  assert.equal(bucket.available(T0 - 5000), 0);
  assert.equal(bucket.available(T0 + 4), 4);
});

Deno.test("TokenBucket.give() returns an unused reservation, capped at capacity", () => {
  const bucket = new TokenBucket({ capacity: 1000, perMs: 60_000 }, T0);
  assert.equal(bucket.tryTake(800, T0), true);
  bucket.give(500, T0);
  assert.equal(bucket.available(T0), 700);
  bucket.give(5000, T0);
  assert.equal(bucket.available(T0), 1000);
});

Deno.test("TokenBucket goes into debt when usage exceeded the reservation", () => {
  const bucket = new TokenBucket({ capacity: 1000, perMs: 1000 }, T0);
  assert.equal(bucket.tryTake(900, T0), true);
  bucket.take(300, T0); // actual usage was 1200
  assert.equal(bucket.available(T0), -200);
  bucket.give(-100, T0); // same thing, as a negative correction
  assert.equal(bucket.available(T0), -300);
  assert.equal(bucket.tryTake(1, T0), false);
  assert.equal(bucket.waitMs(1, T0), 301);
  assert.equal(bucket.available(T0 + 300), 0);
  assert.equal(bucket.tryTake(1, T0 + 300), false);
  assert.equal(bucket.tryTake(1, T0 + 301), true);
});

Deno.test("TokenBucket.waitMs() is 0 when available, else the time to refill", () => {
  const bucket = new TokenBucket({ capacity: 60, perMs: 60_000 }, T0);
  assert.equal(bucket.waitMs(60, T0), 0);
  assert.equal(bucket.tryTake(60, T0), true);
  assert.equal(bucket.waitMs(0, T0), 0);
  assert.equal(bucket.waitMs(1, T0), 1000);
  assert.equal(bucket.waitMs(60, T0), 60_000);
  assert.equal(bucket.waitMs(1, T0 + 400), 600);
  assert.equal(bucket.waitMs(1, T0 + 1000), 0);
});

Deno.test("TokenBucket.waitMs() is Infinity when n exceeds capacity", () => {
  const bucket = new TokenBucket({ capacity: 10, refillPerMs: 1 }, T0);
  assert.equal(bucket.waitMs(11, T0), Infinity);
});

Deno.test("TokenBucket.waitMs() rounds up to a time when tryTake succeeds", () => {
  const bucket = new TokenBucket({ capacity: 7, perMs: 3000 }, T0);
  let now = T0;
  for (let i = 0; i < 50; i++) {
    const wait = bucket.waitMs(3, now);
    if (wait > 0) {
      assert.equal(bucket.tryTake(3, now + wait - 1), false, `at step ${i}`);
      now += wait;
    }
    assert.equal(bucket.tryTake(3, now), true, `at step ${i}`);
  }
});

Deno.test("TokenBucket rejects bad options and amounts with the value", () => {
  assert.throws(
    () => new TokenBucket({ capacity: 0, perMs: 1000 }, T0),
    new RangeError("Cannot create TokenBucket as 'capacity' must be positive: current value is 0"),
  );
  assert.throws(
    () => new TokenBucket({ capacity: 5, perMs: -1 }, T0),
    /'perMs' must be positive: current value is -1/,
  );
  assert.throws(
    () => new TokenBucket({ capacity: 5, refillPerMs: NaN }, T0),
    /'refillPerMs' must be positive: current value is NaN/,
  );
  assert.throws(
    () => new TokenBucket({ capacity: 5, refillPerMs: 1 }, NaN),
    /'now' must be a finite number of ms: current value is NaN/,
  );
  const bucket = new TokenBucket({ capacity: 5, refillPerMs: 1 }, T0);
  assert.throws(() => bucket.tryTake(-1, T0), /'n' must be a non-negative finite number/);
  assert.throws(() => bucket.take(-1, T0), RangeError);
  assert.throws(() => bucket.give(Infinity, T0), /current value is Infinity/);
  assert.throws(() => bucket.waitMs(NaN, T0), RangeError);
});
