/**
 * The token pool's port: what the broker reserves quota through ({@link TokenPool}), and the
 * shapes it speaks (budgets, reservations, each key's status). {@link MemoryTokenPool} in
 * `lib/quota/token_pool.ts` implements it.
 *
 * @module
 */
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
