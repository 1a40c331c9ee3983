/**
 * Time as a dependency: code that waits takes a {@link Clock}, so tests advance a
 * {@link ManualClock} instead of sleeping.
 *
 * @module
 */

/** A timer handle: a number in Deno, an object where Node's typings are in scope. */
export type TimerId = ReturnType<typeof setTimeout> | number;

/** The three things time-dependent code needs. */
export interface Clock {
  /** Epoch ms now. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): TimerId;
  /** Cancels a timer that has not fired; does nothing for `undefined` or a fired one. */
  clearTimeout(id: TimerId | undefined): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * A clock that moves only when told; its timers fire in time order during {@link ManualClock.tick}.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(0);
 * clock.setTimeout(() => console.log("5 s later"), 5000);
 * await clock.tick(5000);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  /** Creates a clock that reads `start` (epoch ms) until it is ticked. */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The clock's time in ms: `start` plus every tick so far. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` in `ms` milliseconds, to fire during {@link ManualClock.tick}. */
  setTimeout(callback: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  /** Cancels a timer that has not fired; ids it did not hand out are ignored. */
  clearTimeout(id: TimerId | undefined): void {
    if (typeof id === "number") this.#timers.delete(id);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between. */
  async tick(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    while (true) {
      let nextId: number | undefined;
      let next: { at: number; callback: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && (!next || timer.at < next.at)) {
          next = timer;
          nextId = id;
        }
      }
      if (!next) break;
      this.#timers.delete(nextId!);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets queued promise callbacks run (several macrotask turns, for chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
