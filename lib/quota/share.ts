/**
 * Quota shares: the part of a Gemini quota one process may spend when several processes share
 * it (Gemini counts per project, not per process).
 *
 * A {@link MemoryTokenPool} given a share asks it before each reservation, on top of its own
 * windows. `RedisQuotaShare` leases chunks of each key's budget from Redis; {@link LocalQuotaShare}
 * is the safe share without Redis: 1/N of what is left of each budget for N processes. "What is
 * left" is the budget less what the processes had in the window at the last look at Redis (a
 * {@link QuotaSnapshot}), and each process counts its own sends since that look against its 1/N:
 * so N processes that lose Redis together stay within the budget, however unevenly they had used
 * it (short of what others leased after this process's last look, one chunk each at most).
 * Without Redis at all there is no snapshot, and each process has 1/N of the whole budget.
 *
 * No I/O: time is passed in.
 *
 * @module
 */
import { nextPacificMidnight, pacificDayCache } from "../pacific_day.ts";
import type { KeyBudget } from "./token_pool.ts";

/**
 * A process's part of a shared quota, as a {@link MemoryTokenPool} consults and feeds it.
 * Keys are named as the pool counts their quota: a key of its own by its `keyId` (`key1`, `key2`,
 * …, in the configured order), the keys of a project group together as `project:<name>`.
 */
export interface QuotaShare {
  /**
   * 0 when this process may start a request of `tokens` input tokens on the key now; else the
   * milliseconds until it should ask again, or `"day"` when the key's daily quota is spent for
   * every process.
   */
  room(keyId: string, tokens: number, now: number): number | "day";
  /** A request of `tokens` started on the key (the pool reserved it). */
  spent(keyId: string, tokens: number, now: number): void;
  /**
   * A request started at `at` is corrected: `requests` -1 when the server refused it (it did not
   * count), `tokens` the difference between billed and reserved.
   */
  corrected(keyId: string, at: number, requests: number, tokens: number, now: number): void;
  /**
   * The server answered a per-minute 429: the key rests until `until`, and, when the 429 named
   * its quota, its limit is lowered (never below `floor`) for every process.
   */
  throttled(
    keyId: string,
    until: number,
    dimension: "requests" | "tokens" | undefined,
    now: number,
  ): void;
  /** The server said the key's daily quota is spent: for every process, until midnight Pacific. */
  dayExhausted(keyId: string, now: number): void;
}

/** What every process held on one key when this one last looked at Redis. */
export interface QuotaSnapshot {
  /** Epoch ms of the look. */
  at: number;
  /** What was held in the window, each with the epoch ms it leaves the window. */
  entries: readonly { expiresAt: number; requests: number; tokens: number }[];
  /** Requests counted against the day so far (leased ones included). */
  today: number;
}

/** What one process sent on one key, in its window and today. */
export interface OwnUsage {
  /** Requests sent in the window ending now. */
  requests: number;
  /** Input tokens billed in the window ending now. */
  tokens: number;
  /** Epoch ms of the newest of them; 0 when there is none. */
  lastAt: number;
  /** Requests sent since midnight Pacific. */
  today: number;
}

/** Options for {@linkcode LocalQuotaShare}. */
export interface LocalQuotaShareOptions {
  /** Processes sharing the budget: each may use 1/`processes` of it. */
  processes: number;
  /** Length of the minute window, the pool's. @default 61000 */
  windowMs?: number;
}

interface Sent {
  at: number;
  tokens: number;
  /** False once refused by the server: it did not count. */
  counted: boolean;
}

interface KeyLog {
  sent: Sent[];
  day: string;
  today: number;
  /** The last look at Redis, if it was today. */
  snapshot: QuotaSnapshot | undefined;
  /** Requests sent today since that look. */
  todaySince: number;
}

/**
 * 1/N of each key's budget, counted against this process's own sends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalQuotaShare } from "./share.ts";
 *
 * const share = new LocalQuotaShare({ rpm: 4, tpm: 1000, rpd: 100 }, { processes: 2 });
 * share.spent("key1", 10, 0);
 * share.spent("key1", 10, 0);
 * assert.ok((share.room("key1", 10, 1) as number) > 0); // 2 of 4: this process's half is used
 * ```
 */
export class LocalQuotaShare implements QuotaShare {
  #budget: KeyBudget;
  #processes: number;
  #windowMs: number;
  #keys = new Map<string, KeyLog>();
  #dayOf = pacificDayCache();

  /** A share of `budget` for one of `options.processes` processes. */
  constructor(budget: KeyBudget, options: LocalQuotaShareOptions) {
    if (!(Number.isInteger(options.processes) && options.processes >= 1)) {
      throw new RangeError(
        `Cannot share a quota as 'processes' must be a positive integer: current value is ${options.processes}`,
      );
    }
    this.#budget = budget;
    this.#processes = options.processes;
    this.#windowMs = options.windowMs ?? 61_000;
  }

  /** This process's part of each budget without a snapshot: 1/N, rounded down. */
  get limits(): KeyBudget {
    const n = this.#processes;
    const b = this.#budget;
    return { rpm: Math.floor(b.rpm / n), tpm: Math.floor(b.tpm / n), rpd: Math.floor(b.rpd / n) };
  }

  room(keyId: string, tokens: number, now: number): number {
    const log = this.#log(keyId, now);
    const n = this.#processes;
    const { snapshot } = log;
    const held = (snapshot?.entries ?? []).filter((e) => e.expiresAt > now);
    const since = log.sent.filter((s) => s.counted && s.at > (snapshot?.at ?? -Infinity));
    const heldRequests = held.reduce((sum, e) => sum + e.requests, 0);
    const heldTokens = held.reduce((sum, e) => sum + e.tokens, 0);
    const b = this.#budget;
    const rpd = snapshot ? Math.floor((b.rpd - snapshot.today) / n) : Math.floor(b.rpd / n);
    if ((snapshot ? log.todaySince : log.today) + 1 > rpd) return nextPacificMidnight(now) - now;
    const rpm = Math.floor((b.rpm - heldRequests) / n);
    const tpm = Math.floor((b.tpm - heldTokens) / n);
    // A prompt larger than the whole share could never fit; it may go alone.
    const need = Math.min(tokens, Math.max(tpm, 0));
    const sentTokens = since.reduce((sum, s) => sum + s.tokens, 0);
    if (since.length + 1 <= rpm && sentTokens + need <= tpm) return 0;
    // Room comes back when something leaves the window: a held entry or one of our sends.
    const leaving = [
      ...held.map((e) => e.expiresAt),
      ...since.map((s) => s.at + this.#windowMs),
    ].filter((at) => at > now);
    return leaving.length === 0 ? this.#windowMs : Math.max(1, Math.min(...leaving) - now);
  }

  /**
   * Notes what every process held on the key, as Redis answered at `snapshot.at`: the 1/N
   * this share gives while Redis is away is of what was left then.
   */
  observe(keyId: string, snapshot: QuotaSnapshot): void {
    const log = this.#log(keyId, snapshot.at);
    log.snapshot = snapshot;
    log.todaySince = 0;
  }

  spent(keyId: string, tokens: number, now: number): void {
    const log = this.#log(keyId, now);
    log.sent.push({ at: now, tokens, counted: true });
    log.today++;
    log.todaySince++;
  }

  corrected(keyId: string, at: number, requests: number, tokens: number, now: number): void {
    const log = this.#log(keyId, now);
    const sent = log.sent.findLast((s) => s.at === at && s.counted);
    if (!sent) return; // already outside the window
    sent.tokens = Math.max(0, sent.tokens + tokens);
    if (requests < 0) {
      sent.counted = false;
      if (this.#dayOf(at) === log.day) log.today = Math.max(0, log.today - 1);
      if (log.snapshot && at > log.snapshot.at) log.todaySince = Math.max(0, log.todaySince - 1);
    }
  }

  throttled(): void {
    // Alone, nothing to tell: the pool already rests the key and lowers its limit.
  }

  dayExhausted(): void {
    // Alone, nothing to tell: the pool already marks the day spent.
  }

  /** What this process sent on the key in the window ending now, and today. */
  usage(keyId: string, now: number): OwnUsage {
    const log = this.#log(keyId, now);
    const counted = log.sent.filter((s) => s.counted);
    return {
      requests: counted.length,
      tokens: counted.reduce((sum, s) => sum + s.tokens, 0),
      lastAt: counted.at(-1)?.at ?? 0,
      today: log.today,
    };
  }

  #log(keyId: string, now: number): KeyLog {
    const day = this.#dayOf(now);
    let log = this.#keys.get(keyId);
    if (!log) {
      this.#keys.set(keyId, log = { sent: [], day, today: 0, snapshot: undefined, todaySince: 0 });
    }
    while (log.sent.length > 0 && log.sent[0].at <= now - this.#windowMs) log.sent.shift();
    if (log.day !== day) {
      log.day = day;
      log.today = 0;
      log.snapshot = undefined;
      log.todaySince = 0;
    }
    return log;
  }
}
