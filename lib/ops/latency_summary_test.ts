import assert from "node:assert/strict";
import { hourWindow, latencySlots, latencySummary } from "./latency_summary.ts";

Deno.test("the hour's window keeps the last hour and charts it in 12 slots", () => {
  const series = hourWindow();
  const now = 10 * 3_600_000;
  series.add(5000, now - 2 * 3_600_000); // too old
  for (let i = 1; i <= 100; i++) series.add(i * 10, now - 60_000);
  assert.deepEqual(latencySummary(series, now), { p50: 500, p90: 900, p99: 990, count: 100 });
  const slots = latencySlots(series, now);
  assert.equal(slots.length, 12);
  assert.equal(slots.at(-2)!.count, 100); // the last slot starts at `now`
  assert.ok(Number.isNaN(slots[0].p50));
});
