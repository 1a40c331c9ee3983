/**
 * A sliding window of amounts (requests, or tokens): what entries made in the last `windowMs`
 * add up to, when more fits under a limit, and corrections to an entry already counted.
 *
 * No I/O: time is passed in.
 *
 * @module
 */

/**
 * A sliding window of amounts: entries leave it `windowMs` after they were added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const window = new SlidingWindow(60_000);
 * window.add(3, 0);
 * assert.equal(window.used(59_999), 3);
 * assert.equal(window.used(60_000), 0);
 * ```
 */
export class SlidingWindow {
  #entries: { at: number; amount: number }[] = [];
  #sum = 0;
  /** How long an entry stays in the window. */
  readonly windowMs: number;

  /** A window `windowMs` long. */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** What the window holds at `now`. */
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

  /** Counts `amount` at `now`. */
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
    // All fit now (a window far from its limit, as a paid tier's usually is): no simulation, whose
    // list of every unit in the window cost the broker O(window) on each request's end.
    if (this.used(now) + count <= limit) return new Array<number>(count).fill(now);
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
