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
import { CircuitBreaker } from "./circuit_breaker.ts";
import { nextPacificMidnight, pacificDayKey } from "./pacific_day.ts";
import type { QuotaShare } from "./quota_share.ts";

/** Budgets of one key, or of one key group (a project's keys share them). */
export interface KeyBudget {
  /** Requests per minute. */
  rpm: number;
  /** Input tokens per minute. */
  tpm: number;
  /** Requests per day (resets at midnight Pacific). */
  rpd: number;
}

/** A request's hold on a key's budget. */
export interface Reservation {
  /** The API key; never log it, log `keyId`. */
  key: string;
  /** The key's name for logs and status (`key1`, `key2`, …). */
  keyId: string;
  /** Input tokens held: the estimate, capped at the key's per-minute limit. */
  tokens: number;
  /** Epoch ms when it was made; `settle` and `throttled` correct the window from there. */
  at: number;
}

/** The result of asking for room. */
export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | {
    ok: false;
    /**
     * Milliseconds until some key may have room: its minute window moves, its rest or open
     * circuit ends, its day resets, or a disabled key is checked (at least a second when that
     * depends on an answer in flight).
     */
    waitMs: number;
    /** Every usable key's daily quota is spent: `waitMs` runs to midnight Pacific or a check. */
    dayExhausted: boolean;
    /** Every key was refused by the server: `waitMs` runs to the next check of one of them. */
    allDisabled: boolean;
  };

/** Which per-minute limit a 429 was about. */
export type QuotaDimension = "requests" | "tokens";

/** A key's state, for `/status` and metrics (without the key itself). */
export interface KeyStatus {
  /** The key's name (`key1`, `key2`, …), safe to show. */
  keyId: string;
  /**
   * The key group (project) it shares its quota with, as configured; absent for a key of its
   * own. The counts below are the project's, the same for every key of the group.
   */
  project?: string;
  /** Requests counted in the sliding minute window now. */
  requestsLastMinute: number;
  /** Input tokens counted in the sliding minute window now. */
  tokensLastMinute: number;
  /** Requests since the last midnight Pacific. */
  requestsToday: number;
  /** The configured budget, the same for every key. */
  budget: KeyBudget;
  /**
   * The limits in force now: the budget, or lower after the server's 429s taught otherwise
   * (`rpd` from a per-day 429's `quotaValue`).
   */
  effective: { rpm: number; tpm: number; rpd: number };
  /** Epoch ms until which the key rests after a per-minute 429; unset when it is not resting. */
  parkedUntil: number | undefined;
  /**
   * While the server's refusal keeps the key out of use: epoch ms of its next check (it stays
   * out until a check passes, so this is never in the past); unset when the key is usable.
   */
  disabledUntil: number | undefined;
  /** The key's circuit breaker: open after repeated failed calls (timeouts, 5xx, network). */
  breaker: "closed" | "open" | "half_open";
}

/** Shared quota across keys. */
export interface TokenPool {
  /** The keys, for start-up checks; log `keyId`, never `key`. */
  keys(): readonly { keyId: string; key: string }[];
  /** Reserves one request and `tokens` input tokens on a key with room, or says how long to wait. */
  reserve(tokens: number, now: number): ReserveResult;
  /** Corrects a reservation with the input tokens actually billed. */
  settle(reservation: Reservation, actualTokens: number, now: number): void;
  /**
   * The server refused a reservation with a per-minute 429: the request is given back (the
   * server did not count it), the key rests until `until`, and when `dimension` is known (the
   * 429 named its quota) the key's limit is lowered to what the server actually let through.
   */
  throttled(
    reservation: Reservation,
    until: number,
    dimension: QuotaDimension | undefined,
    now: number,
  ): void;
  /**
   * The server refused the key (401, 403, invalid key): out of use until {@link TokenPool.enable}.
   * `checkAt` is when it will next be checked, for `status` and for `reserve`'s wait.
   */
  disable(keyId: string, checkAt: number): void;
  /** A disabled key passed its check: back in use. */
  enable(keyId: string): void;
  /**
   * Marks a key's daily quota spent until midnight Pacific. `dailyLimit`, when the per-day 429
   * stated one (`quotaValue`), is the key's real daily limit: the pool keeps to it from then on
   * (never above the configured budget).
   */
  exhaustDay(keyId: string, now: number, dailyLimit?: number): void;
  /** Feeds a key's circuit breaker. */
  report(keyId: string, ok: boolean, now: number): void;
  /** Every key's state. */
  status(now: number): KeyStatus[];
  /**
   * Best guesses of when the next `count` requests could start, ascending; optional (for
   * countdowns: a backend without it gets the head of the queue's wait for everyone).
   */
  forecast?(count: number, now: number): number[];
}

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

/** Sliding window of amounts. */
class SlidingWindow {
  #entries: { at: number; amount: number }[] = [];
  #sum = 0;
  readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  used(now: number): number {
    while (this.#entries.length > 0 && this.#entries[0].at <= now - this.windowMs) {
      this.#sum -= this.#entries.shift()!.amount;
    }
    return this.#sum;
  }

  /** What the window holds from entries made at or before `at`. */
  usedUpTo(at: number, now: number): number {
    this.used(now);
    let sum = 0;
    for (const entry of this.#entries) if (entry.at <= at) sum += entry.amount;
    return sum;
  }

  add(amount: number, now: number): void {
    this.#entries.push({ at: now, amount });
    this.#sum += amount;
  }

  /** Milliseconds until `amount` more fits under `limit`. */
  waitMs(amount: number, limit: number, now: number): number {
    let excess = this.used(now) + amount - limit;
    if (excess <= 0) return 0;
    for (const entry of this.#entries) {
      excess -= entry.amount;
      if (excess <= 0) return entry.at + this.windowMs - now;
    }
    return this.windowMs;
  }

  /** Times at which the next `count` single units fit under `limit` (ascending), simulated. */
  slots(count: number, limit: number, now: number): number[] {
    this.used(now);
    const expiries: number[] = [];
    for (const entry of this.#entries) {
      for (let k = 0; k < entry.amount; k++) expiries.push(entry.at + this.windowMs);
    }
    const out: number[] = [];
    let head = 0;
    let t = now;
    while (out.length < count) {
      if (expiries.length - head < limit) {
        out.push(t);
        expiries.push(t + this.windowMs);
      } else {
        t = Math.max(t, expiries[head++]);
      }
    }
    return out;
  }

  /** Adjusts an entry made at `at` (a reservation's correction or refund). */
  correct(at: number, delta: number): void {
    const entry = this.#entries.findLast((e) => e.at === at);
    if (!entry) return; // already outside the window: nothing left to correct
    const applied = Math.max(-entry.amount, delta);
    entry.amount += applied;
    this.#sum += applied;
  }
}

/**
 * How soon to ask again when room depends on an answer with no known time: a circuit breaker's
 * probe or a disabled key's check in flight. Their answers wake the broker anyway; this is a floor
 * so that a caller never spins.
 */
const PENDING_CHECK_MS = 1000;

/**
 * The quota of one Google Cloud project: Gemini counts requests and tokens per project, so keys
 * of one project (a key group) share one of these, and a plain key has its own.
 */
interface ProjectQuota {
  requests: SlidingWindow;
  tokens: SlidingWindow;
  day: string;
  requestsToday: number;
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

interface KeyState {
  key: string;
  keyId: string;
  /** The project's quota; shared with the other keys of its group. */
  quota: ProjectQuota;
  /** The group's name as configured; undefined for a key of its own. */
  project: string | undefined;
  /** What the shared quota is counted under: the project's, which its keys share. */
  shareId: string;
  /** Refused by the server: out of use until enabled again. */
  disabled: boolean;
  /** When a disabled key is next checked. */
  checkAt: number;
  breaker: CircuitBreaker;
}

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
  #day = "";
  #dayStarts = Infinity;
  #dayEnds = -Infinity;
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
    const quotas = new Map<string, ProjectQuota>();
    const newQuota = (): ProjectQuota => ({
      requests: new SlidingWindow(this.#windowMs),
      tokens: new SlidingWindow(this.#windowMs),
      day: "",
      requestsToday: 0,
      parkedUntil: 0,
      learned: { rpm: budget.rpm, tpm: budget.tpm },
      learnedRpd: budget.rpd,
      probeAt: 0,
    });
    this.#keys = keys.map((key, i) => {
      const project = options.projects?.[i];
      let quota = project === undefined ? newQuota() : quotas.get(project);
      if (quota === undefined) quotas.set(project!, quota = newQuota());
      return {
        key,
        keyId: `key${i + 1}`,
        quota,
        project,
        shareId: project === undefined ? `key${i + 1}` : `project:${project}`,
        disabled: false,
        checkAt: 0,
        breaker: new CircuitBreaker(options),
      };
    });
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
      this.#probe(state, now);
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
      const wait = Math.max(
        state.quota.parkedUntil - now,
        state.quota.requests.waitMs(1, state.quota.learned.rpm, now),
        state.quota.tokens.waitMs(need, state.quota.learned.tpm, now),
        0,
      );
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
    // A floor of a quarter of the budget: a 429 with little of ours in the window means others
    // share the project, and the server's retry delay already keeps this key quiet meanwhile.
    const [limit, window] = dimension === "requests"
      ? ["rpm" as const, state.quota.requests]
      : ["tpm" as const, state.quota.tokens];
    state.quota.learned[limit] = Math.max(
      Math.ceil(this.#budget[limit] / 4),
      Math.min(state.quota.learned[limit], window.usedUpTo(reservation.at, now)),
    );
    state.quota.probeAt = now + this.#holdMs;
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

  /** Raises learned limits back towards the budget, 5% a window, once the hold has passed. */
  #probe(state: KeyState, now: number): void {
    const below = state.quota.learned.rpm < this.#budget.rpm ||
      state.quota.learned.tpm < this.#budget.tpm;
    if (!below || now < state.quota.probeAt) return;
    for (const limit of ["rpm", "tpm"] as const) {
      const budget = this.#budget[limit];
      state.quota.learned[limit] = Math.min(
        budget,
        state.quota.learned[limit] + Math.ceil(budget / 20),
      );
    }
    state.quota.probeAt = now + this.#windowMs;
  }

  #rollDay(state: KeyState, now: number): void {
    const day = this.#dayAt(now);
    if (state.quota.day !== day) {
      state.quota.day = day;
      state.quota.requestsToday = 0;
    }
  }

  /** The Pacific day of `now`, worked out once a day: Intl is slow for the reserve path. */
  #dayAt(now: number): string {
    if (now < this.#dayStarts || now >= this.#dayEnds) {
      this.#day = pacificDayKey(now);
      this.#dayEnds = nextPacificMidnight(now);
      // The day before the next midnight starts at the previous one: find it from a day earlier.
      this.#dayStarts = nextPacificMidnight(this.#dayEnds - 26 * 3_600_000);
    }
    return this.#day;
  }
}
