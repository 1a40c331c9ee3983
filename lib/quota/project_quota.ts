/**
 * The quota of one Google Cloud project as the token pool counts it: Gemini counts requests and
 * tokens per project, so the keys of one project (a key group) share one {@link ProjectQuota},
 * and a plain key has its own. Minute windows, the day's count, a rest after a 429, and the
 * limits learned from the server's 429s (lowered at once, raised back slowly).
 *
 * No I/O: time is passed in.
 *
 * @module
 */
import { SlidingWindow } from "./sliding_window.ts";
import type { KeyBudget, QuotaDimension } from "./port.ts";

/** One project's counts and the limits in force on it. */
export interface ProjectQuota {
  /** Requests in the minute window. */
  requests: SlidingWindow;
  /** Input tokens in the minute window. */
  tokens: SlidingWindow;
  /** The Pacific day `requestsToday` counts. */
  day: string;
  /** Requests counted against `day`. */
  requestsToday: number;
  /** Epoch ms until which the project rests after a per-minute 429. */
  parkedUntil: number;
  /** The limits in force: the budget's, or lower after the server's 429s. */
  learned: { rpm: number; tpm: number };
  /**
   * Requests a day in force: the budget's, or the `quotaValue` of a per-day 429. Kept, not
   * probed upwards: a project's daily limit changes with its tier, not from one day to the next.
   */
  learnedRpd: number;
  /** When the learned limits may next be raised. */
  probeAt: number;
}

/**
 * A fresh quota with the budget's limits and windows `windowMs` long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const quota = newProjectQuota({ rpm: 10, tpm: 1000, rpd: 100 }, 61_000);
 * assert.equal(quotaWaitMs(quota, 500, 0), 0);
 * ```
 */
export function newProjectQuota(budget: KeyBudget, windowMs: number): ProjectQuota {
  return {
    requests: new SlidingWindow(windowMs),
    tokens: new SlidingWindow(windowMs),
    day: "",
    requestsToday: 0,
    parkedUntil: 0,
    learned: { rpm: budget.rpm, tpm: budget.tpm },
    learnedRpd: budget.rpd,
    probeAt: 0,
  };
}

/** Milliseconds until one request of `tokens` fits the quota's rest and minute windows; 0 now. */
export function quotaWaitMs(quota: ProjectQuota, tokens: number, now: number): number {
  return Math.max(
    quota.parkedUntil - now,
    quota.requests.waitMs(1, quota.learned.rpm, now),
    quota.tokens.waitMs(tokens, quota.learned.tpm, now),
    0,
  );
}

/** Starts a new day's count when `day` is not the one counted. */
export function rollDay(quota: ProjectQuota, day: string): void {
  if (quota.day === day) return;
  quota.day = day;
  quota.requestsToday = 0;
}

/**
 * A per-minute 429 named `dimension`: the server let through at most what was sent before the
 * refused request made at `at`, so that becomes the limit, held for `holdMs`.
 *
 * A floor of a quarter of the budget: a 429 with little of ours in the window means others
 * share the project, and the server's retry delay already keeps the key quiet meanwhile.
 */
export function learnLimit(
  quota: ProjectQuota,
  budget: KeyBudget,
  dimension: QuotaDimension,
  at: number,
  now: number,
  holdMs: number,
): void {
  const [limit, window] = dimension === "requests"
    ? ["rpm" as const, quota.requests]
    : ["tpm" as const, quota.tokens];
  quota.learned[limit] = Math.max(
    Math.ceil(budget[limit] / 4),
    Math.min(quota.learned[limit], window.usedUpTo(at, now)),
  );
  quota.probeAt = now + holdMs;
}

/** Raises learned limits back towards the budget, 5% a window, once the hold has passed. */
export function probeLimits(
  quota: ProjectQuota,
  budget: KeyBudget,
  now: number,
  windowMs: number,
): void {
  const below = quota.learned.rpm < budget.rpm || quota.learned.tpm < budget.tpm;
  if (!below || now < quota.probeAt) return;
  for (const limit of ["rpm", "tpm"] as const) {
    quota.learned[limit] = Math.min(
      budget[limit],
      quota.learned[limit] + Math.ceil(budget[limit] / 20),
    );
  }
  quota.probeAt = now + windowMs;
}
