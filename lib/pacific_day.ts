/**
 * Days in Pacific time (America/Los_Angeles), when Gemini's daily quotas reset. Daylight saving
 * time comes from the runtime's time zone data through `Intl.DateTimeFormat`.
 *
 * @module
 */

const FORMAT = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function checkNow(name: string, now: number): void {
  if (!Number.isFinite(now)) {
    throw new RangeError(
      `Cannot compute ${name} as 'now' must be a finite number of ms: current value is ${now}`,
    );
  }
}

/** The Pacific wall-clock time at the instant `now`. */
function wallClock(now: number): WallClock {
  const clock: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const { type, value } of FORMAT.formatToParts(now)) {
    if (type in clock) clock[type as keyof WallClock] = Number(value);
  }
  return clock;
}

/** Pacific offset from UTC at the instant `t`, in ms (e.g. -8 h in winter, -7 h in summer). */
function offsetMs(t: number): number {
  const { year, month, day, hour, minute, second } = wallClock(t);
  const wholeSecond = Math.floor(t / 1000) * 1000;
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond;
}

/**
 * Returns the epoch ms of the next 00:00 in America/Los_Angeles strictly after `now`, when
 * Gemini's per-day quotas reset; correct across daylight saving changes (days of 23 or 25 hours).
 *
 * @example Usage
 * ```ts
 * import { nextPacificMidnight } from "./pacific_day.ts";
 * import assert from "node:assert/strict";
 *
 * const now = Date.UTC(2026, 10, 24, 20, 0); // 2026-11-24 12:00 PST
 * assert.equal(nextPacificMidnight(now), Date.UTC(2026, 10, 25, 8, 0));
 * ```
 */
export function nextPacificMidnight(now: number): number {
  checkNow("next Pacific midnight", now);
  return dayAround(now).ends;
}

/**
 * Returns the Pacific calendar day of `now` as "YYYY-MM-DD", a key for per-day quota counters.
 *
 * @example Usage
 * ```ts
 * import { pacificDayKey } from "./pacific_day.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pacificDayKey(Date.UTC(2026, 10, 25, 7, 59)), "2026-11-24"); // 23:59 PST
 * assert.equal(pacificDayKey(Date.UTC(2026, 10, 25, 8, 0)), "2026-11-25");
 * ```
 */
export function pacificDayKey(now: number): string {
  checkNow("Pacific day key", now);
  return dayAround(now).key;
}

/** One Pacific day: `[starts, ends)` in epoch ms, and its "YYYY-MM-DD". */
interface PacificDay {
  starts: number;
  ends: number;
  key: string;
}

/**
 * The day last asked about. Nearly every call (each Gemini call, each metrics update) asks about
 * the same day as the one before, and Intl's formatting is the slow part: work a day out once.
 */
let lastDay: PacificDay | undefined;

/** The Pacific day that contains the instant `now`. */
function dayAround(now: number): PacificDay {
  if (lastDay && now >= lastDay.starts && now < lastDay.ends) return lastDay;
  const { year, month, day } = wallClock(now);
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const ends = midnightAfter(now);
  // Days last 23 to 25 hours, so 26 hours before this day ends lies in the day before it.
  const starts = midnightAfter(ends - 26 * 3_600_000);
  lastDay = { starts, ends, key: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}` };
  return lastDay;
}

/** The epoch ms of the first Pacific 00:00 strictly after `now`, worked out with Intl. */
function midnightAfter(now: number): number {
  const { year, month, day } = wallClock(now);
  // Midnight of the next day as if it were UTC; Date.UTC rolls over months and years.
  const localMidnight = Date.UTC(year, month - 1, day + 1);
  // Pacific DST changes happen at 02:00, so midnight always exists and is unique; the second
  // pass corrects the offset when a change falls between `now` and that midnight.
  const guess = localMidnight - offsetMs(localMidnight);
  return localMidnight - offsetMs(guess);
}

/**
 * A {@link pacificDayKey} that works the day out once a day: Intl is slow for a path that runs
 * per request. Times may come in any order.
 *
 * @example Usage
 * ```ts
 * import { pacificDayCache } from "./pacific_day.ts";
 * import assert from "node:assert/strict";
 *
 * const dayOf = pacificDayCache();
 * assert.equal(dayOf(Date.UTC(2026, 10, 25, 7, 59)), "2026-11-24");
 * assert.equal(dayOf(Date.UTC(2026, 10, 25, 8, 0)), "2026-11-25");
 * ```
 */
export function pacificDayCache(): (now: number) => string {
  let day = "";
  let starts = Infinity;
  let ends = -Infinity;
  return (now) => {
    if (now < starts || now >= ends) {
      day = pacificDayKey(now);
      ends = nextPacificMidnight(now);
      // The day before the next midnight starts at the previous one: find it from a day earlier.
      starts = nextPacificMidnight(ends - 26 * 3_600_000);
    }
    return day;
  };
}
