/**
 * The status page's chart: first visible text over the last hour, as an inline SVG (no script).
 *
 * @module
 */
import type { LatencySlot } from "./latency_summary.ts";
import { clock, ms } from "./status_format.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { LatencySlot } from "./latency_summary.ts";

const CHART_W = 1100;
const CHART_H = 220;
const PAD = { left: 56, right: 28, top: 12, bottom: 26 };

/**
 * A line chart of p50/p90/p99 first-text latency per slot, with its legend; gaps where a slot has
 * no samples, and a note when none has.
 *
 * @example
 * ```ts
 * import { latencyChart } from "./latency_chart.ts";
 * import assert from "node:assert/strict";
 *
 * const slot = { start: 0, p50: NaN, p90: NaN, p99: NaN, count: 0 };
 * assert.match(latencyChart([slot, { ...slot, start: 300_000 }]), /no answers in the last hour/);
 * ```
 */
export function latencyChart(slots: readonly LatencySlot[]): string {
  const width = CHART_W - PAD.left - PAD.right;
  const height = CHART_H - PAD.top - PAD.bottom;
  const highest = Math.max(100, ...slots.flatMap((s) => [s.p99].filter(Number.isFinite)));
  const top = niceCeiling(highest);
  const x = (i: number) => PAD.left + (slots.length <= 1 ? 0 : (i / (slots.length - 1)) * width);
  const y = (v: number) => PAD.top + height - (v / top) * height;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = top * f;
    return `<line x1="${PAD.left}" x2="${PAD.left + width}" y1="${y(v)}" y2="${y(v)}" ` +
      `stroke="#e3e6eb"/><text x="${PAD.left - 8}" y="${y(v) + 4}" text-anchor="end">${
        ms(v)
      }</text>`;
  }).join("");
  const labels = slots.map((s, i) =>
    i % 2 === 0 || i === slots.length - 1
      ? `<text x="${x(i)}" y="${CHART_H - 6}" text-anchor="middle">${clock(s.start)}</text>`
      : ""
  ).join("");
  const series = (["p50", "p90", "p99"] as const).map((key) => {
    const points = slots.map((s, i) => Number.isFinite(s[key]) ? [x(i), y(s[key])] : undefined);
    const path = points.map((p, i) =>
      p ? `${i > 0 && points[i - 1] ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}` : ""
    ).join("");
    const dots = points.map((p) =>
      p
        ? `<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3" fill="var(--${key})"/>`
        : ""
    ).join("");
    return `<path d="${path}" fill="none" stroke="var(--${key})" stroke-width="2"/>${dots}`;
  }).join("");
  const empty = slots.every((s) => s.count === 0)
    ? `<text x="${PAD.left + width / 2}" y="${PAD.top + height / 2}" text-anchor="middle">` +
      `no answers in the last hour</text>`
    : "";
  return `<div class="legend"><span><i style="background:var(--p50)"></i>p50</span>` +
    `<span><i style="background:var(--p90)"></i>p90</span>` +
    `<span><i style="background:var(--p99)"></i>p99</span>` +
    `<span>first visible text, 5-minute slots (UTC)</span></div>` +
    `<svg class="chart" id="latency-chart" viewBox="0 0 ${CHART_W} ${CHART_H}" role="img" ` +
    `aria-label="First visible text latency over the last hour">${grid}${labels}${series}${empty}</svg>`;
}

/** Rounds up to 1, 2 or 5 times a power of ten, for a chart's top line. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}
