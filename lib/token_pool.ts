/**
 * Token pool: the Gemini quota of one or more API keys, as request, input-token and daily budgets.
 *
 * A call reserves one request and its estimated tokens on a key with room before it starts, and
 * the reservation is corrected from `usageMetadata` afterwards. Minute budgets are sliding
 * 60-second windows rather than refilling buckets: a bucket that starts full lets a burst of
 * `rpm` through and then refills, which can exceed the server's per-minute count, while a sliding
 * window never holds more than the budget in any minute, however the server aligns its own.
 *
 * In memory for one process; the interface is small so that a Redis backend can share quota
 * across processes.
 *
 * @module
 */
import { CircuitBreaker } from "./circuit_breaker.ts";
import { nextPacificMidnight, pacificDayKey } from "./pacific_day.ts";

/** Budgets of one key. */
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
  keyId: string;
  tokens: number;
  at: number;
}

/** The result of asking for room. */
export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; waitMs: number; dayExhausted: boolean };

/** A key's state, for `/status` and metrics (without the key itself). */
export interface KeyStatus {
  keyId: string;
  requestsLastMinute: number;
  tokensLastMinute: number;
  requestsToday: number;
  budget: KeyBudget;
  parkedUntil: number | undefined;
  breaker: "closed" | "open" | "half_open";
}

/** Shared quota across keys. */
export interface TokenPool {
  /** Reserves one request and `tokens` input tokens on a key with room, or says how long to wait. */
  reserve(tokens: number, now: number): ReserveResult;
  /** Corrects a reservation with the input tokens actually billed. */
  settle(reservation: Reservation, actualTokens: number, now: number): void;
  /** Keeps a key out of use until `until` (a 429's retry delay, or the daily reset). */
  park(keyId: string, until: number): void;
  /** Marks a key's daily quota spent until midnight Pacific. */
  exhaustDay(keyId: string, now: number): void;
  /** Feeds a key's circuit breaker. */
  report(keyId: string, ok: boolean, now: number): void;
  /** Every key's state. */
  status(now: number): KeyStatus[];
}

const MINUTE = 60_000;

/** Sliding 60-second window of amounts. */
class MinuteWindow {
  #entries: { at: number; amount: number }[] = [];
  #sum = 0;

  used(now: number): number {
    while (this.#entries.length > 0 && this.#entries[0].at <= now - MINUTE) {
      this.#sum -= this.#entries.shift()!.amount;
    }
    return this.#sum;
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
      if (excess <= 0) return entry.at + MINUTE - now;
    }
    return MINUTE;
  }

  /** Adjusts the most recent entry at `at` (a reservation's correction). */
  correct(at: number, delta: number): void {
    const entry = this.#entries.findLast((e) => e.at === at);
    if (!entry) return; // already outside the window: nothing left to correct
    entry.amount += delta;
    this.#sum += delta;
  }
}

interface KeyState {
  key: string;
  keyId: string;
  requests: MinuteWindow;
  tokens: MinuteWindow;
  day: string;
  requestsToday: number;
  parkedUntil: number;
  breaker: CircuitBreaker;
}

/**
 * An in-memory {@link TokenPool}.
 *
 * @example
 * ```ts
 * const pool = new MemoryTokenPool(["k1", "k2"], { rpm: 10, tpm: 250_000, rpd: 250 });
 * const got = pool.reserve(500, Date.now());
 * ```
 */
export class MemoryTokenPool implements TokenPool {
  #keys: KeyState[];
  #budget: KeyBudget;

  constructor(
    keys: readonly string[],
    budget: KeyBudget,
    options: { failureThreshold?: number; openMs?: number } = {},
  ) {
    if (keys.length === 0) throw new RangeError("Cannot create MemoryTokenPool without API keys");
    this.#budget = budget;
    this.#keys = keys.map((key, i) => ({
      key,
      keyId: `key${i + 1}`,
      requests: new MinuteWindow(),
      tokens: new MinuteWindow(),
      day: "",
      requestsToday: 0,
      parkedUntil: 0,
      breaker: new CircuitBreaker(options),
    }));
  }

  reserve(tokens: number, now: number): ReserveResult {
    // A prompt larger than the whole minute budget could never fit; let it through alone.
    const need = Math.min(tokens, this.#budget.tpm);
    let best: KeyState | undefined;
    let bestRoom = -Infinity;
    let waitMs = Infinity;
    let dayExhausted = true;
    for (const state of this.#keys) {
      this.#rollDay(state, now);
      if (state.requestsToday >= this.#budget.rpd) {
        waitMs = Math.min(waitMs, nextPacificMidnight(now) - now);
        continue;
      }
      dayExhausted = false;
      const wait = Math.max(
        state.parkedUntil - now,
        state.requests.waitMs(1, this.#budget.rpm, now),
        state.tokens.waitMs(need, this.#budget.tpm, now),
        0,
      );
      if (wait > 0) {
        waitMs = Math.min(waitMs, wait);
        continue;
      }
      if (state.breaker.state !== "closed") {
        // canPass claims the single half-open probe, so a key that passes is taken at once.
        if (!state.breaker.canPass(now)) {
          waitMs = Math.min(waitMs, 1000);
          continue;
        }
        best = state;
        break;
      }
      const room = this.#budget.rpm - state.requests.used(now);
      if (room > bestRoom) {
        best = state;
        bestRoom = room;
      }
    }
    if (!best) return { ok: false, waitMs, dayExhausted };
    best.requests.add(1, now);
    best.tokens.add(need, now);
    best.requestsToday++;
    return { ok: true, reservation: { key: best.key, keyId: best.keyId, tokens: need, at: now } };
  }

  settle(reservation: Reservation, actualTokens: number, _now: number): void {
    const state = this.#state(reservation.keyId);
    state?.tokens.correct(reservation.at, actualTokens - reservation.tokens);
  }

  park(keyId: string, until: number): void {
    const state = this.#state(keyId);
    if (state) state.parkedUntil = Math.max(state.parkedUntil, until);
  }

  exhaustDay(keyId: string, now: number): void {
    const state = this.#state(keyId);
    if (!state) return;
    this.#rollDay(state, now);
    state.requestsToday = Math.max(state.requestsToday, this.#budget.rpd);
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
        requestsLastMinute: state.requests.used(now),
        tokensLastMinute: state.tokens.used(now),
        requestsToday: state.requestsToday,
        budget: this.#budget,
        parkedUntil: state.parkedUntil > now ? state.parkedUntil : undefined,
        breaker: state.breaker.state,
      };
    });
  }

  #state(keyId: string): KeyState | undefined {
    return this.#keys.find((k) => k.keyId === keyId);
  }

  #rollDay(state: KeyState, now: number): void {
    const day = pacificDayKey(now);
    if (state.day !== day) {
      state.day = day;
      state.requestsToday = 0;
    }
  }
}
