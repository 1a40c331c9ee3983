import assert from "node:assert/strict";
import { CircuitBreaker } from "./circuit_breaker.ts";

const T0 = 1_790_000_000_000;

function openBreaker(threshold = 3, openMs = 1000): CircuitBreaker {
  const breaker = new CircuitBreaker({ failureThreshold: threshold, openMs });
  for (let i = 0; i < threshold; i++) breaker.failure(T0);
  assert.equal(breaker.state, "open");
  return breaker;
}

Deno.test("CircuitBreaker starts closed and lets calls pass", () => {
  const breaker = new CircuitBreaker();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failureThreshold, 5);
  assert.equal(breaker.openMs, 30_000);
  for (let i = 0; i < 10; i++) assert.equal(breaker.canPass(T0 + i), true);
});

Deno.test("CircuitBreaker opens only after consecutive failures", () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  breaker.failure(T0);
  breaker.failure(T0);
  breaker.success(T0); // breaks the streak
  breaker.failure(T0);
  breaker.failure(T0);
  assert.equal(breaker.state, "closed");
  breaker.failure(T0);
  assert.equal(breaker.state, "open");
  assert.equal(breaker.canPass(T0), false);
});

Deno.test("CircuitBreaker full cycle: open, half-open probe, success closes", () => {
  const breaker = openBreaker(3, 1000);
  assert.equal(breaker.canPass(T0 + 999), false);
  assert.equal(breaker.state, "open");
  assert.equal(breaker.canPass(T0 + 1000), true, "the probe");
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.canPass(T0 + 1001), false, "only one probe at a time");
  assert.equal(breaker.canPass(T0 + 1500), false);
  breaker.success(T0 + 1600);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.canPass(T0 + 1600), true);
  assert.equal(breaker.canPass(T0 + 1600), true);
  breaker.failure(T0 + 1700);
  breaker.failure(T0 + 1700);
  assert.equal(breaker.state, "closed", "the failure count restarted from zero");
});

Deno.test("CircuitBreaker a failed probe reopens for another openMs", () => {
  const breaker = openBreaker(3, 1000);
  assert.equal(breaker.canPass(T0 + 1200), true);
  breaker.failure(T0 + 1300);
  assert.equal(breaker.state, "open");
  assert.equal(breaker.canPass(T0 + 1300), false);
  assert.equal(breaker.canPass(T0 + 2299), false);
  assert.equal(breaker.canPass(T0 + 2300), true, "the next probe");
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.canPass(T0 + 2300), false);
  breaker.success(T0 + 2400);
  assert.equal(breaker.state, "closed");
});

Deno.test("CircuitBreaker ignores late reports while open", () => {
  const breaker = openBreaker(3, 1000);
  breaker.success(T0 + 10);
  assert.equal(breaker.state, "open");
  breaker.failure(T0 + 900);
  assert.equal(breaker.canPass(T0 + 1000), true, "openMs counts from the opening failure");
});

Deno.test("CircuitBreaker lets another probe through if one is lost for openMs", () => {
  const breaker = openBreaker(3, 1000);
  assert.equal(breaker.canPass(T0 + 1000), true);
  assert.equal(breaker.canPass(T0 + 1999), false);
  assert.equal(breaker.canPass(T0 + 2000), true);
  assert.equal(breaker.canPass(T0 + 2000), false);
  assert.equal(breaker.state, "half_open");
});

Deno.test("CircuitBreaker says how long it stays open, so a waiting call can be told", () => {
  const breaker = openBreaker(3, 1000);
  assert.equal(breaker.msUntilProbe(T0 + 400), 600);
  assert.equal(breaker.msUntilProbe(T0 + 1500), 0);
  assert.equal(breaker.canPass(T0 + 1500), true);
  assert.equal(breaker.msUntilProbe(T0 + 1500), 0, "half-open: the probe's answer has no time");
  assert.equal(new CircuitBreaker().msUntilProbe(T0), 0);
});

Deno.test("CircuitBreaker with threshold 1 opens on the first failure", () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 0 });
  breaker.failure(T0);
  assert.equal(breaker.state, "open");
  assert.equal(breaker.canPass(T0), true, "openMs 0 probes at once");
  assert.equal(breaker.state, "half_open");
});

Deno.test("CircuitBreaker rejects bad options with the value", () => {
  assert.throws(
    () => new CircuitBreaker({ failureThreshold: 0 }),
    new RangeError(
      "Cannot create CircuitBreaker as 'failureThreshold' must be a positive integer: current value is 0",
    ),
  );
  assert.throws(() => new CircuitBreaker({ failureThreshold: 2.5 }), RangeError);
  assert.throws(
    () => new CircuitBreaker({ openMs: -1 }),
    /'openMs' must be a non-negative number: current value is -1/,
  );
});
