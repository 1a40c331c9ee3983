import assert from "node:assert/strict";
import { sideBySide } from "./report.ts";

Deno.test("sideBySide: labels left, figures right under headings wider than 14, a rule below", () => {
  const text = sideBySide(["", "a", "a design named at length"], [["rss", "1.0", "2.0"]]);
  const [header, rule, row] = text.split("\n");
  assert.equal(header, "".padEnd(36) + "a".padStart(14) + "a design named at length".padStart(26));
  assert.equal(rule, "-".repeat(36 + 14 + 26));
  assert.equal(row, "rss".padEnd(36) + "1.0".padStart(14) + "2.0".padStart(26));
});
