/**
 * The process-wide budget of attachment bytes in flight: every turn that brings files holds its
 * share from before the first byte is fetched until its Gemini call has settled, so however many
 * turns wait on a slow Gemini, the files they hold together stay under one figure
 * (`ATTACHMENT_BUDGET_BYTES`). A turn that does not fit waits, first come first served, and is
 * told when no room opens in time.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../clock.ts";

/** Gives the bytes back; calling it again does nothing. */
export type ReleaseBytes = () => void;

interface Waiter {
  bytes: number;
  resolve(release: ReleaseBytes | undefined): void;
  timer: TimerId | undefined;
}

/** Bytes of attachments held at once, across every turn of this process. */
export class AttachmentBudget {
  /** Bytes all turns may hold at once. */
  readonly capacity: number;
  #held = 0;
  #waiters: Waiter[] = [];
  #clock: Clock;

  /** A budget of `capacity` bytes. */
  constructor(capacity: number, options: { clock?: Clock } = {}) {
    this.capacity = capacity;
    this.#clock = options.clock ?? systemClock;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /**
   * Takes `bytes` (at most the capacity, so any turn can eventually fit), waiting up to `waitMs`
   * behind earlier turns; undefined when no room opened in time.
   *
   * @example
   * ```ts
   * import { strictEqual } from "node:assert/strict";
   * const budget = new AttachmentBudget(100);
   * const release = await budget.take(80, 0);
   * strictEqual(await budget.take(30, 0), undefined);
   * release!();
   * strictEqual(typeof await budget.take(30, 0), "function");
   * ```
   */
  take(bytes: number, waitMs: number): Promise<ReleaseBytes | undefined> {
    const want = Math.min(Math.max(0, bytes), this.capacity);
    if (this.#waiters.length === 0 && this.#held + want <= this.capacity) {
      return Promise.resolve(this.#grant(want));
    }
    if (waitMs <= 0) return Promise.resolve(undefined);
    const { promise, resolve } = Promise.withResolvers<ReleaseBytes | undefined>();
    const waiter: Waiter = { bytes: want, resolve, timer: undefined };
    waiter.timer = this.#clock.setTimeout(() => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      resolve(undefined);
      // The first in line left: the next may fit now.
      this.#wake();
    }, waitMs);
    this.#waiters.push(waiter);
    return promise;
  }

  #grant(bytes: number): ReleaseBytes {
    this.#held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held -= bytes;
      this.#wake();
    };
  }

  /** Grants waiting turns in order while the first in line fits. */
  #wake(): void {
    while (this.#waiters.length > 0 && this.#held + this.#waiters[0].bytes <= this.capacity) {
      const waiter = this.#waiters.shift()!;
      this.#clock.clearTimeout(waiter.timer);
      waiter.resolve(this.#grant(waiter.bytes));
    }
  }
}
