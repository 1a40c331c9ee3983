import assert from "node:assert/strict";
import { nextPacificMidnight, pacificDayKey } from "./pacific_day.ts";

const HOUR = 3_600_000;
const utc = (iso: string) => Date.parse(iso);

Deno.test("nextPacificMidnight() on an ordinary winter day (PST, UTC-8)", () => {
  assert.equal(
    nextPacificMidnight(utc("2026-11-24T20:00:00Z")),
    utc("2026-11-25T08:00:00Z"),
  );
});

Deno.test("nextPacificMidnight() on an ordinary summer day (PDT, UTC-7)", () => {
  assert.equal(
    nextPacificMidnight(utc("2026-07-04T19:00:00Z")),
    utc("2026-07-05T07:00:00Z"),
  );
});

Deno.test("nextPacificMidnight() around midnight is strictly after now", () => {
  const midnight = utc("2026-11-25T08:00:00Z");
  assert.equal(nextPacificMidnight(midnight - 1), midnight);
  assert.equal(nextPacificMidnight(midnight), midnight + 24 * HOUR);
  assert.equal(nextPacificMidnight(midnight + 1), midnight + 24 * HOUR);
});

Deno.test("nextPacificMidnight() across spring forward (2026-03-08 is 23 hours)", () => {
  const mar8 = utc("2026-03-08T08:00:00Z"); // 00:00 PST
  const mar9 = utc("2026-03-09T07:00:00Z"); // 00:00 PDT
  assert.equal(nextPacificMidnight(utc("2026-03-07T20:00:00Z")), mar8);
  assert.equal(nextPacificMidnight(mar8), mar9);
  assert.equal(mar9 - mar8, 23 * HOUR);
  assert.equal(nextPacificMidnight(utc("2026-03-08T09:59:59Z")), mar9, "01:59:59 PST");
  assert.equal(nextPacificMidnight(utc("2026-03-08T10:00:00Z")), mar9, "03:00 PDT");
  assert.equal(nextPacificMidnight(mar9 - 1), mar9);
  assert.equal(nextPacificMidnight(mar9), utc("2026-03-10T07:00:00Z"));
});

Deno.test("nextPacificMidnight() across fall back (2026-11-01 is 25 hours)", () => {
  const nov1 = utc("2026-11-01T07:00:00Z"); // 00:00 PDT
  const nov2 = utc("2026-11-02T08:00:00Z"); // 00:00 PST
  assert.equal(nextPacificMidnight(utc("2026-10-31T20:00:00Z")), nov1);
  assert.equal(nextPacificMidnight(nov1), nov2);
  assert.equal(nov2 - nov1, 25 * HOUR);
  assert.equal(nextPacificMidnight(utc("2026-11-01T08:30:00Z")), nov2, "first 01:30 (PDT)");
  assert.equal(nextPacificMidnight(utc("2026-11-01T09:30:00Z")), nov2, "second 01:30 (PST)");
  assert.equal(nextPacificMidnight(nov2 - 1), nov2);
});

Deno.test("nextPacificMidnight() over a month and a year end", () => {
  assert.equal(nextPacificMidnight(utc("2026-12-31T12:00:00Z")), utc("2027-01-01T08:00:00Z"));
  assert.equal(nextPacificMidnight(utc("2028-02-28T12:00:00Z")), utc("2028-02-29T08:00:00Z"));
  assert.equal(nextPacificMidnight(utc("2026-05-31T12:00:00Z")), utc("2026-06-01T07:00:00Z"));
});

Deno.test("nextPacificMidnight() always lands on a 00:00 a day later", () => {
  let now = utc("2026-01-01T00:00:00Z");
  const end = utc("2027-01-01T00:00:00Z");
  while (now < end) {
    const next = nextPacificMidnight(now);
    assert.ok(next > now && next - now <= 25 * HOUR, `from ${new Date(now).toISOString()}`);
    assert.notEqual(pacificDayKey(next), pacificDayKey(next - 1));
    assert.equal(pacificDayKey(next), pacificDayKey(next + 23 * HOUR - 1));
    now += 7 * HOUR + 13 * 60_000;
  }
});

Deno.test("pacificDayKey() changes at Pacific midnight, not UTC midnight", () => {
  assert.equal(pacificDayKey(utc("2026-11-24T07:59:59.999Z")), "2026-11-23");
  assert.equal(pacificDayKey(utc("2026-11-24T08:00:00Z")), "2026-11-24");
  assert.equal(pacificDayKey(utc("2026-11-25T00:00:00Z")), "2026-11-24");
  assert.equal(pacificDayKey(utc("2026-07-05T06:59:59Z")), "2026-07-04");
  assert.equal(pacificDayKey(utc("2026-07-05T07:00:00Z")), "2026-07-05");
});

Deno.test("pacificDayKey() across DST changes", () => {
  assert.equal(pacificDayKey(utc("2026-03-08T07:59:59Z")), "2026-03-07");
  assert.equal(pacificDayKey(utc("2026-03-08T08:00:00Z")), "2026-03-08");
  assert.equal(pacificDayKey(utc("2026-03-09T06:59:59Z")), "2026-03-08");
  assert.equal(pacificDayKey(utc("2026-03-09T07:00:00Z")), "2026-03-09");
  assert.equal(pacificDayKey(utc("2026-11-01T06:59:59Z")), "2026-10-31");
  assert.equal(pacificDayKey(utc("2026-11-01T07:00:00Z")), "2026-11-01");
  assert.equal(pacificDayKey(utc("2026-11-02T07:59:59Z")), "2026-11-01");
  assert.equal(pacificDayKey(utc("2026-11-02T08:00:00Z")), "2026-11-02");
});

Deno.test("pacific_day rejects a bad now with the value", () => {
  assert.throws(
    () => nextPacificMidnight(NaN),
    new RangeError(
      "Cannot compute next Pacific midnight as 'now' must be a finite number of ms: current value is NaN",
    ),
  );
  assert.throws(() => pacificDayKey(Infinity), /current value is Infinity/);
});

Deno.test("answers do not depend on the instant asked about before", () => {
  const instants = [
    utc("2026-11-25T07:59:59Z"), // 23:59:59 PST, 2026-11-24
    utc("2026-03-08T09:59:59Z"), // 01:59:59 PST, the 23-hour day
    utc("2026-11-25T08:00:00Z"), // 00:00 PST, 2026-11-25
    utc("2026-11-01T09:30:00Z"), // the second 01:30 of the 25-hour day
    utc("2026-11-25T07:59:59Z"),
  ];
  const expected = [
    ["2026-11-24", utc("2026-11-25T08:00:00Z")],
    ["2026-03-08", utc("2026-03-09T07:00:00Z")],
    ["2026-11-25", utc("2026-11-26T08:00:00Z")],
    ["2026-11-01", utc("2026-11-02T08:00:00Z")],
    ["2026-11-24", utc("2026-11-25T08:00:00Z")],
  ];
  for (const order of [instants, [...instants].reverse()]) {
    for (const now of order) {
      const [key, midnight] = expected[instants.indexOf(now)];
      assert.equal(pacificDayKey(now), key, new Date(now).toISOString());
      assert.equal(nextPacificMidnight(now), midnight, new Date(now).toISOString());
    }
  }
});
