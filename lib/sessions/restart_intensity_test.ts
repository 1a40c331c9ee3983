import assert from "node:assert/strict";
import { RestartIntensity } from "./restart_intensity.ts";

const T0 = 1_790_000_000_000;

Deno.test("RestartIntensity allows maxRestarts in the period, refuses one more", () => {
  const intensity = new RestartIntensity();
  for (let i = 0; i < 5; i++) assert.equal(intensity.record(T0 + i * 1000), true, `restart ${i}`);
  assert.equal(intensity.count(T0 + 5000), 5);
  assert.equal(intensity.record(T0 + 5000), false);
});

Deno.test("RestartIntensity forgets restarts older than periodMs (inclusive edge, as OTP)", () => {
  const intensity = new RestartIntensity({ maxRestarts: 2, periodMs: 1000 });
  assert.equal(intensity.record(T0), true);
  assert.equal(intensity.record(T0 + 500), true);
  assert.equal(intensity.count(T0 + 1000), 2, "a restart exactly periodMs old still counts");
  assert.equal(intensity.count(T0 + 1001), 1);
  assert.equal(intensity.record(T0 + 1001), true);
  assert.equal(intensity.count(T0 + 1001), 2);
  assert.equal(intensity.count(T0 + 5000), 0);
});

Deno.test("RestartIntensity spread-out restarts never exceed it", () => {
  const intensity = new RestartIntensity({ maxRestarts: 1, periodMs: 1000 });
  for (let i = 0; i < 100; i++) assert.equal(intensity.record(T0 + i * 1001), true);
});

Deno.test("RestartIntensity keeps refusing while a restart loop continues", () => {
  const intensity = new RestartIntensity({ maxRestarts: 3, periodMs: 10_000 });
  const results = Array.from({ length: 1000 }, (_, i) => intensity.record(T0 + i));
  assert.deepEqual(results.slice(0, 4), [true, true, true, false]);
  assert.ok(results.slice(3).every((ok) => !ok));
  assert.equal(intensity.count(T0 + 999), 4, "count saturates at maxRestarts + 1");
  assert.equal(intensity.record(T0 + 999 + 10_001), true, "the window slides past the loop");
});

Deno.test("RestartIntensity with maxRestarts 0 refuses any restart", () => {
  const intensity = new RestartIntensity({ maxRestarts: 0 });
  assert.equal(intensity.record(T0), false);
  assert.equal(intensity.record(T0 + 10 * 60_000), false);
});

Deno.test("RestartIntensity rejects bad options with the value", () => {
  assert.throws(
    () => new RestartIntensity({ maxRestarts: -1 }),
    new RangeError(
      "Cannot create RestartIntensity as 'maxRestarts' must be a non-negative integer: current value is -1",
    ),
  );
  assert.throws(
    () => new RestartIntensity({ periodMs: 0 }),
    /'periodMs' must be positive: current value is 0/,
  );
});
