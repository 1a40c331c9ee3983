/**
 * Key checks: a key the server refused (401, 403, invalid) is not written off. It stays out of use
 * in the {@link TokenPool} until a cheap call with it succeeds, tried after 1, 2, 4 … minutes (at
 * most an hour), so a passing refusal costs a minute, not the rest of the day, and a key that is
 * really bad costs one small call an hour.
 *
 * @module
 */
import { backoffDelay } from "../backoff.ts";
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { TokenPool } from "../quota/mod.ts";

/** How one check ended. */
export type KeyCheckOutcome =
  | { ok: true }
  /** The check failed with `error`; the key is tried again in `retryInMs`. */
  | { ok: false; error: unknown; retryInMs: number };

/** Options for {@linkcode KeyChecks}. */
export interface KeyChecksOptions {
  /** Where refused keys are taken out of use and put back. */
  pool: Pick<TokenPool, "keys" | "disable" | "enable">;
  /** Tries `key` with a cheap call: resolves if it works, rejects with the server's refusal. */
  check(key: string): Promise<void>;
  /** Time for the checks' timers; tests pass a fake. @default systemClock */
  clock?: Clock;
  /** Milliseconds from a refusal to the first check. @default 60000 */
  firstMs?: number;
  /** Longest interval between checks; each failed check doubles it up to this. @default 3600000 */
  maxMs?: number;
  /** Told when a check ends, after the pool has been updated. */
  onChecked?(keyId: string, outcome: KeyCheckOutcome): void;
}

interface Schedule {
  /** Checks that failed since the refusal. */
  failures: number;
  timer: TimerId | undefined;
}

/**
 * The checks of refused keys.
 *
 * @example
 * ```ts
 * import { KeyChecks } from "./key_checks.ts";
 * import { ManualClock } from "../clock.ts";
 * import { MemoryTokenPool } from "../quota/token_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(0);
 * const pool = new MemoryTokenPool(["k1"], { rpm: 10, tpm: 100_000, rpd: 100 });
 * const checks = new KeyChecks({ pool, clock, check: () => Promise.resolve() });
 * checks.refused("key1");
 * assert.equal(pool.status(0)[0].disabledUntil, 60_000);
 * await clock.tick(60_000);
 * assert.equal(pool.status(60_000)[0].disabledUntil, undefined);
 * ```
 */
export class KeyChecks {
  #options: KeyChecksOptions;
  #clock: Clock;
  #schedules = new Map<string, Schedule>();
  #running = new Set<Promise<void>>();
  #stopped = false;

  /** Makes the checker; nothing is checked until a key is {@link KeyChecks.refused}. */
  constructor(options: KeyChecksOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * The server refused `keyId`: out of use until a check passes. Returns false when it was out of
   * use already (a call that started before the refusal was refused too): its schedule stays.
   */
  refused(keyId: string): boolean {
    if (this.#schedules.has(keyId)) return false;
    this.#schedules.set(keyId, { failures: 0, timer: undefined });
    this.#schedule(keyId);
    return true;
  }

  /** Cancels the checks not yet started and waits for those running (each under its deadline). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const schedule of this.#schedules.values()) this.#clock.clearTimeout(schedule.timer);
    await Promise.all(this.#running);
  }

  /** Takes the key out until its next check, `firstMs` doubled per failure; returns the delay. */
  #schedule(keyId: string): number {
    const schedule = this.#schedules.get(keyId)!;
    const delayMs = backoffDelay(schedule.failures, {
      baseMs: this.#options.firstMs ?? 60_000,
      maxMs: this.#options.maxMs ?? 3_600_000,
      jitter: 0,
    });
    this.#options.pool.disable(keyId, this.#clock.now() + delayMs);
    this.#clock.clearTimeout(schedule.timer);
    schedule.timer = this.#stopped ? undefined : this.#clock.setTimeout(() => {
      schedule.timer = undefined;
      const running = this.#check(keyId, schedule);
      this.#running.add(running);
      void running.finally(() => this.#running.delete(running));
    }, delayMs);
    return delayMs;
  }

  async #check(keyId: string, schedule: Schedule): Promise<void> {
    const key = this.#options.pool.keys().find((k) => k.keyId === keyId)?.key;
    if (key === undefined) return;
    let outcome: KeyCheckOutcome;
    try {
      await this.#options.check(key);
      if (this.#stopped) return;
      this.#schedules.delete(keyId);
      this.#options.pool.enable(keyId);
      outcome = { ok: true };
    } catch (error) {
      if (this.#stopped) return;
      schedule.failures++;
      outcome = { ok: false, error, retryInMs: this.#schedule(keyId) };
    }
    this.#options.onChecked?.(keyId, outcome);
  }
}
