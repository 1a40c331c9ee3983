import assert from "node:assert/strict";
import { latencyChart } from "./latency_chart.ts";

Deno.test("the chart draws a line per percentile, leaves gaps for empty slots, and labels its top", () => {
  const empty = { start: 0, p50: NaN, p90: NaN, p99: NaN, count: 0 };
  const slots = [
    { start: 0, p50: 400, p90: 900, p99: 1800, count: 5 },
    { ...empty, start: 300_000 },
    { start: 600_000, p50: 500, p90: 1000, p99: 1900, count: 3 },
  ];
  const svg = latencyChart(slots);
  assert.equal(svg.match(/<path d="M[^"]*"/g)?.length, 3);
  assert.equal(svg.match(/<circle /g)?.length, 6, "two points per line: the empty slot has none");
  assert.ok(!svg.includes("no answers in the last hour"));
  assert.ok(svg.includes(">2.00 s</text>"), "the top line rounds 1.9 s up to 2 s");
});
