/**
 * A request pacer: Discord allows about 50 REST requests a second per bot token, typing and
 * every edit included. Requests are spread evenly at `perSecond`, after a small burst, so that no
 * sliding second ever holds more than `burst + perSecond`; when they queue, urgent ones (first
 * posts, final edits) go before the rest (streaming edits, typing), and a stream that waits
 * simply edits less often.
 *
 * Several processes share Discord's budget of one bot token: given a {@link SharedBudget}, each
 * request also takes one of its tokens (leased from Redis by `RedisRequestBudget`), and waits a
 * moment for more when there is none.
 *
 * No I/O: time comes from a {@link Clock}, so it is tested without sleeping.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "./clock.ts";

/** Which requests go first when they queue. */
export type RequestPriority = "urgent" | "background";

/** Tokens of a budget shared with other processes, as the pacer spends them. */
export interface SharedBudget {
  /** Takes one token if there is one now; false asks for more, to try again shortly. */
  tryTake(now: number): boolean;
}

/** How soon a request held back by the shared budget tries again. */
export const SHARED_RETRY_MS = 10;

/** Options for {@linkcode RequestPacer}. */
export interface RequestPacerOptions {
  /** Requests a second, sustained. */
  perSecond: number;
  /** Requests that may go at once after a quiet spell. @default 5 */
  burst?: number;
  /** Time; tests pass a ManualClock. @default systemClock */
  clock?: Clock;
  /** The budget this process shares with others: every request takes from it too. */
  shared?: SharedBudget;
}

/**
 * Paces requests to a rate, urgent ones first.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock(0);
 * const pacer = new RequestPacer({ perSecond: 10, burst: 1, clock });
 * let sent = 0;
 * for (let i = 0; i < 3; i++) pacer.take("urgent").then(() => sent++);
 * await clock.tick(0);
 * strictEqual(sent, 1); // the burst
 * await clock.tick(200);
 * strictEqual(sent, 3); // then one every 100 ms
 * ```
 */
export class RequestPacer {
  #spacing: number;
  #burst: number;
  #clock: Clock;
  /** Tokens left, refilled at `perSecond` up to `burst`. */
  #tokens: number;
  #refilledAt: number;
  #queues: Record<RequestPriority, (() => void)[]> = { urgent: [], background: [] };
  #timer: TimerId | undefined;
  #shared: SharedBudget | undefined;

  /** Starts full: a quiet bot's first `burst` requests go at once. */
  constructor(options: RequestPacerOptions) {
    if (!(options.perSecond > 0)) {
      throw new RangeError(
        `Cannot pace requests as 'perSecond' must be positive: current value is ${options.perSecond}`,
      );
    }
    this.#spacing = 1000 / options.perSecond;
    this.#burst = Math.max(1, options.burst ?? 5);
    this.#clock = options.clock ?? systemClock;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#clock.now();
    this.#shared = options.shared;
  }

  /** Requests waiting for their slot. */
  get waiting(): number {
    return this.#queues.urgent.length + this.#queues.background.length;
  }

  /** Resolves when a request of `priority` may be sent. */
  take(priority: RequestPriority): Promise<void> {
    this.#refill();
    if (this.waiting === 0 && this.#tokens >= 1 && this.#sharedToken()) {
      this.#tokens--;
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#queues[priority].push(resolve);
    this.#arm();
    return promise;
  }

  /** Forgets the queue's timer, so a stopped process can exit; waiting requests stay waiting. */
  close(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #refill(): void {
    const now = this.#clock.now();
    const earned = (now - this.#refilledAt) / this.#spacing;
    this.#tokens = Math.min(this.#burst, this.#tokens + earned);
    this.#refilledAt = now;
  }

  /** Releases queued requests as tokens come, always through a timer: it never spins. */
  #arm(): void {
    if (this.#timer !== undefined) return;
    const local = Math.max(0, (1 - this.#tokens) * this.#spacing);
    // Held back by the shared budget alone: its tokens come in a moment, not at our rate.
    const wait = this.#tokens >= 1 ? SHARED_RETRY_MS : local;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#tokens >= 1 && this.waiting > 0 && this.#sharedToken()) {
        this.#tokens--;
        (this.#queues.urgent.shift() ?? this.#queues.background.shift())!();
      }
      if (this.waiting > 0) this.#arm();
    }, Math.ceil(wait));
  }

  /** A token of the shared budget, or true when there is none to share. */
  #sharedToken(): boolean {
    return this.#shared?.tryTake(this.#clock.now()) ?? true;
  }
}
