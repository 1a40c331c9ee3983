/**
 * A request pacer: Discord allows about 50 REST requests a second per bot token, typing and
 * every edit included. Requests are spread evenly at `perSecond`, after a small burst, so that no
 * sliding second ever holds more than `burst + perSecond`. When they queue, what users wait for
 * goes first: posts (an answer's first text), then final edits, then edits of answers still
 * growing; a stream that waits simply edits less often. Typing never queues: it takes a slot only
 * when the budget is idle ({@linkcode RequestPacer.tryTakeIdle}).
 *
 * Several processes share Discord's budget of one bot token: given a {@link SharedBudget}, each
 * request also takes one of its tokens (leased from Redis by `RedisRequestBudget`), and waits a
 * moment for more when there is none.
 *
 * No I/O: time comes from a {@link Clock}, so it is tested without sleeping.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../clock.ts";

/**
 * Which requests go first when they queue, most urgent first: `post` (a first text, and every
 * request that is not an edit of an answer), `final` (an answer's last edit), `edit` (an answer
 * still growing).
 */
export type RequestPriority = "post" | "final" | "edit";

/** The queues in the order they are served. */
const SERVED_FIRST: readonly RequestPriority[] = ["post", "final", "edit"];

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
 * Paces requests to a rate, posts first.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { ManualClock } from "../clock.ts";
 * const clock = new ManualClock(0);
 * const pacer = new RequestPacer({ perSecond: 10, burst: 1, clock });
 * let sent = 0;
 * for (let i = 0; i < 3; i++) pacer.take("post").then(() => sent++);
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
  #queues: Record<RequestPriority, (() => void)[]> = { post: [], final: [], edit: [] };
  #waiting = 0;
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
    return this.#waiting;
  }

  /** Resolves when a request of `priority` may be sent. */
  take(priority: RequestPriority): Promise<void> {
    if (this.tryTakeIdle()) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#queues[priority].push(resolve);
    this.#waiting++;
    this.#arm();
    return promise;
  }

  /**
   * Takes a slot only when the budget is idle (nothing waiting, a token free now) and says
   * whether it did: for requests worth sending only then, such as typing.
   */
  tryTakeIdle(): boolean {
    this.#refill();
    if (this.#waiting > 0 || this.#tokens < 1 || !this.#sharedToken()) return false;
    this.#tokens--;
    return true;
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
      while (this.#tokens >= 1 && this.#waiting > 0 && this.#sharedToken()) {
        this.#tokens--;
        this.#waiting--;
        this.#next()();
      }
      if (this.#waiting > 0) this.#arm();
    }, Math.ceil(wait));
  }

  /** The most urgent waiting request; only called while one waits. */
  #next(): () => void {
    for (const priority of SERVED_FIRST) {
      const release = this.#queues[priority].shift();
      if (release) return release;
    }
    throw new Error("RequestPacer: nothing was waiting");
  }

  /** A token of the shared budget, or true when there is none to share. */
  #sharedToken(): boolean {
    return this.#shared?.tryTake(this.#clock.now()) ?? true;
  }
}
