/**
 * Discord's session start limit, counted on our side: each IDENTIFY starts a session, and a bot
 * that identifies with none left gets its token reset. Pure: the caller passes the time.
 *
 * @module
 */

/** The part of `GET /gateway/bot`'s `session_start_limit` the budget reads (camelCase). */
export interface SessionStartLimit {
  /** Session starts allowed per period. */
  total: number;
  /** Session starts left in this period. */
  remaining: number;
  /** Milliseconds until `remaining` is back to `total`. */
  resetAfter: number;
}

/** Discord's session start period: a day. Used when a reset passes without fresh numbers. */
export const SESSION_START_PERIOD_MS = 86_400_000;

/**
 * Session starts left, and when they come back. `take` spends one or says how long to wait.
 *
 * @example Usage
 * ```ts
 * import { SessionStartBudget } from "./session_start_budget.ts";
 * import assert from "node:assert/strict";
 *
 * const budget = new SessionStartBudget({ total: 1000, remaining: 1, resetAfter: 60_000 }, 0);
 * assert.equal(budget.take(0), 0); // identify now
 * assert.equal(budget.take(10_000), 50_000); // none left: wait for the reset
 * assert.equal(budget.take(60_000), 0); // the period is over
 * ```
 */
export class SessionStartBudget {
  #total = 0;
  #remaining = 0;
  #resetAt = 0;

  /** Starts from `limit` as `GET /gateway/bot` reported it at time `now` (epoch ms). */
  constructor(limit: SessionStartLimit, now: number) {
    this.update(limit, now);
  }

  /** Session starts left, as far as this budget knows, at time `now`. */
  remaining(now: number): number {
    this.#replenish(now);
    return this.#remaining;
  }

  /**
   * Spends one session start and returns 0, or, when none is left, spends nothing and returns
   * the milliseconds until the limit resets.
   */
  take(now: number): number {
    this.#replenish(now);
    if (this.#remaining <= 0) return this.#resetAt - now;
    this.#remaining--;
    return 0;
  }

  /** Replaces what the budget knows with fresh numbers from `GET /gateway/bot`. */
  update(limit: SessionStartLimit, now: number): void {
    for (const [name, value] of Object.entries(limit)) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `Cannot use the session start limit as '${name}' must be a non-negative number: ` +
            `current value is ${value}`,
        );
      }
    }
    this.#total = limit.total;
    this.#remaining = Math.min(limit.remaining, limit.total);
    this.#resetAt = now + limit.resetAfter;
  }

  #replenish(now: number): void {
    if (now < this.#resetAt) return;
    this.#remaining = this.#total;
    this.#resetAt = now + SESSION_START_PERIOD_MS;
  }
}
