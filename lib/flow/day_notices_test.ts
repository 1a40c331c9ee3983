import assert from "node:assert/strict";
import { DayNotices } from "./day_notices.ts";

const EVENING = Date.UTC(2026, 11, 6, 20); // 12:00 in Los Angeles
const NEXT_DAY = EVENING + 24 * 3600_000;

Deno.test("a spent day is said once per channel per day, and again only to a mention", () => {
  const notices = new DayNotices();
  const quiet = { mentioned: false };
  assert.equal(notices.shouldTell("1", quiet, EVENING), true);
  for (let i = 1; i <= 9; i++) assert.equal(notices.shouldTell("1", quiet, EVENING + i), false);
  assert.equal(notices.shouldTell("1", { mentioned: true }, EVENING + 10), true);
  assert.equal(notices.shouldTell("2", quiet, EVENING + 11), true, "each channel once");
  assert.equal(notices.shouldTell("1", quiet, NEXT_DAY), true, "once again the next day");
  assert.equal(notices.shouldTell("1", quiet, NEXT_DAY + 1), false);
});
