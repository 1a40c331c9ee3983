import assert from "node:assert/strict";
import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";

const T0 = 1_790_000_000_000;

Deno.test("SlidingWindowLimiter allows limit hits in the window, then rejects", () => {
  const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 30_000 });
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(limiter.hit("user", T0 + i * 1000), { allowed: true }, `hit ${i}`);
  }
  assert.deepEqual(limiter.hit("user", T0 + 5000), {
    allowed: false,
    retryAfterMs: 25_000,
    firstRejection: true,
  });
});

Deno.test("SlidingWindowLimiter slides: a hit leaves the window exactly windowMs later", () => {
  const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 });
  limiter.hit("k", T0);
  limiter.hit("k", T0 + 400);
  const rejected = limiter.hit("k", T0 + 999);
  assert.deepEqual(rejected, { allowed: false, retryAfterMs: 1, firstRejection: true });
  assert.deepEqual(limiter.hit("k", T0 + 1000), { allowed: true });
  const next = limiter.hit("k", T0 + 1000);
  assert.deepEqual(next, { allowed: false, retryAfterMs: 400, firstRejection: true });
  assert.deepEqual(limiter.hit("k", T0 + 1400), { allowed: true });
});

Deno.test("SlidingWindowLimiter reports firstRejection once per limited streak", () => {
  const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 10_000 });
  assert.equal(limiter.hit("spammer", T0).allowed, true);
  const streak = [1, 2, 3, 4].map((s) => limiter.hit("spammer", T0 + s * 1000));
  assert.deepEqual(
    streak.map((r) => !r.allowed && r.firstRejection),
    [true, false, false, false],
  );
  assert.deepEqual(
    streak.map((r) => !r.allowed && r.retryAfterMs),
    [9000, 8000, 7000, 6000],
    "rejected hits are not counted",
  );
  assert.equal(limiter.hit("spammer", T0 + 10_000).allowed, true);
  const again = limiter.hit("spammer", T0 + 10_001);
  assert.equal(!again.allowed && again.firstRejection, true, "a new streak gets a new notice");
});

Deno.test("SlidingWindowLimiter keeps keys apart", () => {
  const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 10_000 });
  assert.equal(limiter.hit("alice", T0).allowed, true);
  assert.equal(limiter.hit("bob", T0).allowed, true);
  assert.equal(limiter.hit("alice", T0 + 1).allowed, false);
  const bob = limiter.hit("bob", T0 + 1);
  assert.equal(!bob.allowed && bob.firstRejection, true);
});

Deno.test("SlidingWindowLimiter.sweep() drops only idle keys", () => {
  const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 1000 });
  limiter.hit("idle", T0);
  limiter.hit("busy", T0);
  limiter.hit("busy", T0 + 900);
  assert.equal(limiter.size, 2);
  limiter.sweep(T0 + 999);
  assert.equal(limiter.size, 2);
  limiter.sweep(T0 + 1000);
  assert.equal(limiter.size, 1);
  limiter.hit("busy", T0 + 1000);
  limiter.hit("busy", T0 + 1001);
  const busy = limiter.hit("busy", T0 + 1002);
  assert.equal(busy.allowed, false, "sweep kept the busy key's history");
  limiter.sweep(T0 + 10_000);
  assert.equal(limiter.size, 0);
});

Deno.test("SlidingWindowLimiter memory per key stays at limit entries", () => {
  const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 60_000 });
  for (let i = 0; i < 10_000; i++) limiter.hit("flood", T0 + i);
  assert.equal(limiter.hit("flood", T0 + 60_000).allowed, true);
  assert.equal(limiter.hit("flood", T0 + 60_000).allowed, false);
});

Deno.test("SlidingWindowLimiter rejects bad options with the value", () => {
  assert.throws(
    () => new SlidingWindowLimiter({ limit: 0, windowMs: 1000 }),
    new RangeError(
      "Cannot create SlidingWindowLimiter as 'limit' must be a positive integer: current value is 0",
    ),
  );
  assert.throws(
    () => new SlidingWindowLimiter({ limit: 5, windowMs: -5 }),
    /'windowMs' must be positive: current value is -5/,
  );
});
