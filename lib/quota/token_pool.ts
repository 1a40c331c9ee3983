/**
 * Token pool: the Gemini quota of one or more API keys, as request, input-token and daily budgets.
 *
 * A call reserves one request and its estimated tokens on a key with room before it starts, and
 * the reservation is corrected from `usageMetadata` afterwards. Minute budgets are sliding
 * windows rather than refilling buckets: a bucket that starts full lets a burst of `rpm` through
 * and then refills, which can exceed the server's per-minute count, while a sliding window never
 * holds more than the budget in any minute, however the server aligns its own.
 *
 * The configured budgets are a ceiling, not a promise: when the server answers a per-minute 429
 * with a `QuotaFailure`, the pool learns that the key's real limit is what it has in flight in the
 * window, stays under that (but not below a quarter of the budget) for `holdMs`, then creeps back
 * up by 5% of the budget a window, so a wrong `GEMINI_RPM` costs a handful of 429s instead of one
 * every minute.
 *
 * Gemini counts quota per Google Cloud project, not per key: keys of one project, given as one
 * group (`projects`), share one budget (minute windows, day count, learned limits and rests),
 * while each key keeps its own refusals and circuit breaker.
 *
 * In memory for one process. Several processes share one quota through a {@link QuotaShare}
 * (leases from Redis, or 1/N each without it): the pool asks it before each reservation and tells
 * it what was spent, refunded, throttled or spent for the day, so the interface stays synchronous.
 *
 * @module
 */
import { type KeyState, keyStates } from "./pool_keys.ts";
import { nextPacificMidnight, pacificDayCache, pacificDayKey } from "../pacific_day.ts";
import {
  learnLimit,
  probeLimits,
  type ProjectQuota,
  quotaWaitMs,
  rollDay,
} from "./project_quota.ts";
import type { QuotaShare } from "./share.ts";

import type {
  KeyBudget,
  KeyStatus,
  QuotaDimension,
  Reservation,
  ReserveResult,
  TokenPool,
} from "./port.ts";

/** Re-exported: the port this pool implements, so importers of the pool need no other module. */
export type { KeyBudget, KeyStatus, QuotaDimension, Reservation, ReserveResult, TokenPool };

/** Options for {@linkcode MemoryTokenPool}. */
export interface MemoryTokenPoolOptions {
  /** Circuit breaker: consecutive failures that open it. @default 5 */
  failureThreshold?: number;
  /** Circuit breaker: how long it stays open. @default 30000 */
  openMs?: number;
  /**
   * Length of the "minute" window. A second more than a minute, because the server counts a
   * request when it arrives, a little after the pool counted it. @default 61000
   */
  windowMs?: number;
  /** How long a limit learned from a 429 is kept before probing upwards. @default 10 windows */
  holdMs?: number;
  /**
   * The project (key group) of each key, by position: keys of one project share one budget, as
   * Gemini counts their requests together. An undefined or missing entry is a key of its own.
   * @default every key its own project
   */
  projects?: readonly (string | undefined)[];
  /**
   * This process's part of a quota shared with other processes: consulted before each
   * reservation, told of every spend and correction. @default none (the whole budget is ours)
   */
  share?: QuotaShare;
}

/**
 * How soon to ask again when room depends on an answer with no known time: a circuit breaker's
 * probe or a disabled key's check in flight. Their answers wake the broker anyway; this is a floor
 * so that a caller never spins.
 */
const PENDING_CHECK_MS = 1000;

/**
 * An in-memory {@link TokenPool}.
 *
 * @example
 * ```ts
 * import { MemoryTokenPool } from "./token_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new MemoryTokenPool(["k1", "k2"], { rpm: 10, tpm: 250_000, rpd: 250 });
 * const got = pool.reserve(500, Date.now());
 * assert.equal(got.ok && got.reservation.keyId, "key1");
 * ```
 */
export class MemoryTokenPool implements TokenPool {
  #keys: KeyState[];
  #budget: KeyBudget;
  #windowMs: number;
  /** The Pacific day of a time, worked out once a day: Intl is slow for the reserve path. */
  #dayAt = pacificDayCache();
  #holdMs: number;
  #share: QuotaShare | undefined;

  /** Creates a pool over `keys`, all sharing `budget`; throws a RangeError on bad input. */
  constructor(
    keys: readonly string[],
    budget: KeyBudget,
    options: MemoryTokenPoolOptions = {},
  ) {
    if (keys.length === 0) throw new RangeError("Cannot create MemoryTokenPool without API keys");
    for (const [name, value] of Object.entries(budget)) {
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new RangeError(
          `Cannot create MemoryTokenPool as '${name}' must be a positive integer: current value is ${value}`,
        );
      }
    }
    this.#budget = budget;
    this.#windowMs = options.windowMs ?? 61_000;
    this.#holdMs = options.holdMs ?? 10 * this.#windowMs;
    this.#share = options.share;
    this.#keys = keyStates(keys, budget, this.#windowMs, options);
  }

  keys(): readonly { keyId: string; key: string }[] {
    return this.#keys.map(({ keyId, key }) => ({ keyId, key }));
  }

  reserve(tokens: number, now: number): ReserveResult {
    let best: KeyState | undefined;
    let bestRoom = -Infinity;
    let waitMs = Infinity;
    /** Usable keys whose day is not spent. */
    let openDays = 0;
    let allDisabled = true;
    for (const state of this.#keys) {
      this.#rollDay(state, now);
      probeLimits(state.quota, this.#budget, now, this.#windowMs);
      if (state.disabled) {
        waitMs = Math.min(waitMs, Math.max(PENDING_CHECK_MS, state.checkAt - now));
        continue;
      }
      allDisabled = false;
      if (state.quota.requestsToday >= state.quota.learnedRpd) {
        waitMs = Math.min(waitMs, nextPacificMidnight(now) - now);
        continue;
      }
      openDays++;
      // A prompt larger than the whole minute budget could never fit; let it through alone.
      const need = Math.min(tokens, state.quota.learned.tpm);
      const wait = quotaWaitMs(state.quota, need, now);
      if (wait > 0) {
        waitMs = Math.min(waitMs, wait);
        continue;
      }
      // Asked only when the key has room here, so a full key takes no share from the others.
      const shared = this.#share?.room(state.shareId, need, now) ?? 0;
      if (shared === "day") {
        // Spent for every process: the same as the server saying so here.
        state.quota.requestsToday = Math.max(state.quota.requestsToday, state.quota.learnedRpd);
        openDays--;
        waitMs = Math.min(waitMs, nextPacificMidnight(now) - now);
        continue;
      }
      if (shared > 0) {
        waitMs = Math.min(waitMs, shared);
        continue;
      }
      if (state.breaker.state !== "closed") {
        // canPass claims the single half-open probe, so a key that passes is taken at once.
        if (!state.breaker.canPass(now)) {
          // Open: the breaker knows when it lets a probe through, and a wait that long is shown.
          const open = state.breaker.msUntilProbe(now);
          waitMs = Math.min(waitMs, open > 0 ? open : PENDING_CHECK_MS);
          continue;
        }
        best = state;
        break;
      }
      const room = state.quota.learned.rpm - state.quota.requests.used(now);
      if (room > bestRoom) {
        best = state;
        bestRoom = room;
      }
    }
    if (!best) {
      return {
        ok: false,
        waitMs,
        dayExhausted: openDays === 0 && !allDisabled,
        allDisabled,
      };
    }
    const need = Math.min(tokens, best.quota.learned.tpm);
    best.quota.requests.add(1, now);
    best.quota.tokens.add(need, now);
    best.quota.requestsToday++;
    this.#share?.spent(best.shareId, need, now);
    return { ok: true, reservation: { key: best.key, keyId: best.keyId, tokens: need, at: now } };
  }

  /**
   * Best guesses of when the next `count` requests could start, ascending (for countdowns): the
   * free slots of every usable key now, then the moments old requests leave the window.
   */
  forecast(count: number, now: number): number[] {
    // A project's slots once, from the soonest of its usable keys: its keys share them.
    const soonest = new Map<ProjectQuota, number>();
    for (const state of this.#keys) {
      this.#rollDay(state, now);
      if (state.disabled || state.quota.requestsToday >= state.quota.learnedRpd) continue;
      const from = Math.max(now, state.quota.parkedUntil, now + state.breaker.msUntilProbe(now));
      soonest.set(state.quota, Math.min(soonest.get(state.quota) ?? Infinity, from));
    }
    const slots: number[] = [];
    for (const [quota, from] of soonest) {
      const left = Math.min(count, quota.learnedRpd - quota.requestsToday);
      for (const at of quota.requests.slots(left, quota.learned.rpm, now)) {
        slots.push(Math.max(at, from));
      }
    }
    // One project's slots are ascending already (the common case: no sort, no copy).
    if (soonest.size <= 1) return slots;
    slots.sort((a, b) => a - b);
    return slots.slice(0, count);
  }

  settle(reservation: Reservation, actualTokens: number, now: number): void {
    const state = this.#state(reservation.keyId);
    if (!state) return;
    state.quota.tokens.correct(reservation.at, actualTokens - reservation.tokens);
    this.#share?.corrected(
      state.shareId,
      reservation.at,
      0,
      actualTokens - reservation.tokens,
      now,
    );
  }

  throttled(
    reservation: Reservation,
    until: number,
    dimension: QuotaDimension | undefined,
    now: number,
  ): void {
    const state = this.#state(reservation.keyId);
    if (!state) return;
    state.quota.requests.correct(reservation.at, -1);
    state.quota.tokens.correct(reservation.at, -reservation.tokens);
    // Nor did the server count it against the day: a run of 429s must not spend the local RPD.
    if (state.quota.day === pacificDayKey(reservation.at)) {
      state.quota.requestsToday = Math.max(0, state.quota.requestsToday - 1);
    }
    state.quota.parkedUntil = Math.max(state.quota.parkedUntil, until);
    this.#share?.corrected(state.shareId, reservation.at, -1, -reservation.tokens, now);
    this.#share?.throttled(state.shareId, until, dimension, now);
    if (dimension === undefined) return;
    // The server let through at most what was sent before the refused request (calls before
    // it that are refused too lower this further when their own 429 arrives).
    learnLimit(state.quota, this.#budget, dimension, reservation.at, now, this.#holdMs);
  }

  disable(keyId: string, checkAt: number): void {
    const state = this.#state(keyId);
    if (!state) return;
    state.disabled = true;
    state.checkAt = checkAt;
  }

  enable(keyId: string): void {
    const state = this.#state(keyId);
    if (state) state.disabled = false;
  }

  exhaustDay(keyId: string, now: number, dailyLimit?: number): void {
    const state = this.#state(keyId);
    if (!state) return;
    this.#rollDay(state, now);
    if (dailyLimit !== undefined && Number.isInteger(dailyLimit) && dailyLimit >= 1) {
      state.quota.learnedRpd = Math.min(this.#budget.rpd, dailyLimit);
    }
    state.quota.requestsToday = Math.max(state.quota.requestsToday, state.quota.learnedRpd);
    this.#share?.dayExhausted(state.shareId, now);
  }

  report(keyId: string, ok: boolean, now: number): void {
    const breaker = this.#state(keyId)?.breaker;
    if (ok) breaker?.success(now);
    else breaker?.failure(now);
  }

  status(now: number): KeyStatus[] {
    return this.#keys.map((state) => {
      this.#rollDay(state, now);
      return {
        keyId: state.keyId,
        ...(state.project === undefined ? {} : { project: state.project }),
        requestsLastMinute: state.quota.requests.used(now),
        tokensLastMinute: state.quota.tokens.used(now),
        requestsToday: state.quota.requestsToday,
        budget: this.#budget,
        effective: { ...state.quota.learned, rpd: state.quota.learnedRpd },
        parkedUntil: state.quota.parkedUntil > now ? state.quota.parkedUntil : undefined,
        disabledUntil: state.disabled ? Math.max(now, state.checkAt) : undefined,
        breaker: state.breaker.state,
      };
    });
  }

  #state(keyId: string): KeyState | undefined {
    return this.#keys.find((k) => k.keyId === keyId);
  }

  #rollDay(state: KeyState, now: number): void {
    rollDay(state.quota, this.#dayAt(now));
  }
}
