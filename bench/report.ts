/**
 * The benchmarks' side-by-side table: one row per figure, one column per run, so that
 * `bench/sessions.ts` and `bench/e2e.ts` print theirs alike.
 *
 * @module
 */

/** Width of the label column; the figure columns fit their heading, at least {@link MIN_WIDTH}. */
const LABEL_WIDTH = 36;
const MIN_WIDTH = 14;

/**
 * Formats a header and rows of cells as a plain-text table: labels left-aligned, figures
 * right-aligned under their column's heading, a rule under the header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = sideBySide(["", "SoyeBot"], [["messages", "20"]]);
 * assert.equal(text.split("\n").at(-1), "messages".padEnd(36) + "20".padStart(14));
 * ```
 */
export function sideBySide(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => i === 0 ? LABEL_WIDTH : Math.max(MIN_WIDTH, h.length + 2));
  const row = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[0]) : c.padStart(widths[i])).join("");
  const rule = "-".repeat(widths.reduce((a, b) => a + b, 0));
  return [row(header), rule, ...body.map(row)].join("\n");
}
