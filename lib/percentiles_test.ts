import assert from "node:assert/strict";
import { LatencyWindow, percentile } from "./percentiles.ts";

const T0 = 1_790_000_000_000;
const HOUR = 3_600_000;

Deno.test("percentile() uses nearest rank and returns real samples", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 99.5), 100);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile([15, 20, 35, 40, 50], 30), 20);
  assert.equal(percentile([15, 20, 35, 40, 50], 40), 20);
  assert.equal(percentile([15, 20, 35, 40, 50], 50), 35);
  assert.equal(percentile([7], 99), 7);
});

Deno.test("percentile() sorts unsorted input without modifying it", () => {
  const values = [900, 100, 500, 300, 700];
  assert.equal(percentile(values, 50), 500);
  assert.equal(percentile(values, 20), 100);
  assert.deepEqual(values, [900, 100, 500, 300, 700]);
  assert.equal(percentile([10, 9, 100, 2], 75), 10, "numeric, not string, order");
});

Deno.test("percentile() of no values is NaN", () => {
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("percentile() rejects p outside 0..100 with the value", () => {
  assert.throws(
    () => percentile([1], 101),
    new RangeError(
      "Cannot compute percentile as 'p' must be between 0 and 100: current value is 101",
    ),
  );
  assert.throws(() => percentile([1], -1), RangeError);
  assert.throws(() => percentile([1], NaN), RangeError);
});

Deno.test("LatencyWindow reports percentiles keyed by p", () => {
  const window = new LatencyWindow();
  for (let i = 1000; i >= 1; i--) window.add(i, T0);
  assert.deepEqual(window.percentiles(T0, [50, 90, 99, 99.9]), {
    p50: 500,
    p90: 900,
    p99: 990,
    "p99.9": 999,
  });
  assert.equal(window.count(T0), 1000);
});

Deno.test("LatencyWindow of no samples gives NaN", () => {
  const window = new LatencyWindow();
  const result = window.percentiles(T0, [50, 99]);
  assert.deepEqual(Object.keys(result), ["p50", "p99"]);
  assert.ok(Number.isNaN(result.p50) && Number.isNaN(result.p99));
});

Deno.test("LatencyWindow keeps only the last maxSamples", () => {
  const window = new LatencyWindow({ maxSamples: 4 });
  for (const ms of [1000, 1000, 1000, 1, 2, 3, 4]) window.add(ms, T0);
  assert.equal(window.count(T0), 4);
  assert.deepEqual(window.percentiles(T0, [0, 100]), { p0: 1, p100: 4 });
});

Deno.test("LatencyWindow leaves out samples older than maxAgeMs", () => {
  const window = new LatencyWindow();
  window.add(5000, T0);
  window.add(100, T0 + 10 * 60_000);
  window.add(200, T0 + 20 * 60_000);
  assert.deepEqual(window.percentiles(T0 + HOUR, [100]), { p100: 5000 }, "exactly an hour old");
  assert.deepEqual(window.percentiles(T0 + HOUR + 1, [100]), { p100: 200 });
  assert.equal(window.count(T0 + HOUR + 10 * 60_000 + 1), 1);
  assert.equal(window.count(T0 + 2 * HOUR), 0);
  window.add(7, T0 + 2 * HOUR);
  assert.deepEqual(window.percentiles(T0 + 2 * HOUR, [50]), { p50: 7 });
});

Deno.test("LatencyWindow wraps its ring buffer many times", () => {
  const window = new LatencyWindow({ maxSamples: 8, maxAgeMs: 100 });
  for (let i = 0; i < 1000; i++) window.add(i, T0 + i);
  assert.equal(window.count(T0 + 999), 8);
  assert.deepEqual(window.percentiles(T0 + 999, [0, 50, 100]), { p0: 992, p50: 995, p100: 999 });
  assert.deepEqual(window.percentiles(T0 + 1095, [0]), { p0: 995 });
});

Deno.test("LatencyWindow rejects bad options and samples with the value", () => {
  assert.throws(
    () => new LatencyWindow({ maxSamples: 0 }),
    new RangeError(
      "Cannot create LatencyWindow as 'maxSamples' must be a positive integer: current value is 0",
    ),
  );
  assert.throws(() => new LatencyWindow({ maxAgeMs: 0 }), /'maxAgeMs' must be positive/);
  const window = new LatencyWindow();
  assert.throws(
    () => window.add(-1, T0),
    /'ms' must be a non-negative finite number: current value is -1/,
  );
  assert.throws(() => window.add(NaN, T0), RangeError);
  assert.throws(() => window.percentiles(T0, [50, 200]), /current value is 200/);
});

Deno.test("LatencyWindow.forEach visits the kept samples with their times, oldest first", () => {
  const window = new LatencyWindow({ maxSamples: 3 });
  for (let i = 0; i < 5; i++) window.add(i * 10, T0 + i);
  const seen: [number, number][] = [];
  window.forEach(T0 + 4, (ms, at) => seen.push([ms, at - T0]));
  assert.deepEqual(seen, [[20, 2], [30, 3], [40, 4]]);
});
