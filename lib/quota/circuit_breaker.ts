/**
 * A circuit breaker: after repeated failures, stop calling a dependency for a while, then let one
 * probe through to test whether it has recovered. Time is passed in as `now` (ms).
 *
 * @module
 */

/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default {5}
   */
  failureThreshold?: number;
  /**
   * Milliseconds the circuit stays open before a probe is let through.
   * @default {30000}
   */
  openMs?: number;
}

/** The state of a {@linkcode CircuitBreaker}. */
export type CircuitState = "closed" | "open" | "half_open";

/**
 * A circuit breaker: closed lets every call pass; `failureThreshold` consecutive failures open it;
 * open refuses calls until `openMs` has passed; then half-open lets exactly one probe through,
 * whose `success` closes the circuit and whose `failure` opens it again for another `openMs`.
 * A probe that reports nothing for `openMs` counts as lost, and another probe is let through.
 *
 * @example Usage
 * ```ts
 * import { CircuitBreaker } from "./circuit_breaker.ts";
 * import assert from "node:assert/strict";
 *
 * const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1000 });
 * breaker.failure(0);
 * breaker.failure(0);
 * assert.equal(breaker.canPass(500), false);
 * assert.equal(breaker.canPass(1000), true); // the probe
 * breaker.success(1100);
 * assert.equal(breaker.state, "closed");
 * ```
 */
export class CircuitBreaker {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** Milliseconds the circuit stays open before a probe is let through. */
  readonly openMs: number;
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probeSentAt = 0;

  /** Creates a closed circuit breaker. */
  constructor(options: CircuitBreakerOptions = {}) {
    const { failureThreshold = 5, openMs = 30_000 } = options;
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
      throw new RangeError(
        `Cannot create CircuitBreaker as 'failureThreshold' must be a positive integer: current value is ${failureThreshold}`,
      );
    }
    if (!Number.isFinite(openMs) || openMs < 0) {
      throw new RangeError(
        `Cannot create CircuitBreaker as 'openMs' must be a non-negative number: current value is ${openMs}`,
      );
    }
    this.failureThreshold = failureThreshold;
    this.openMs = openMs;
  }

  /** The current state; "open" turns "half_open" only when `canPass` lets the probe through. */
  get state(): CircuitState {
    return this.#state;
  }

  /** Returns true if a call may go ahead at `now`; in half-open, true once, for the probe. */
  canPass(now: number): boolean {
    switch (this.#state) {
      case "closed":
        return true;
      case "open":
        if (now - this.#openedAt < this.openMs) return false;
        this.#state = "half_open";
        this.#probeSentAt = now;
        return true;
      case "half_open":
        if (now - this.#probeSentAt < this.openMs) return false;
        this.#probeSentAt = now; // the previous probe never reported: send another
        return true;
    }
  }

  /**
   * While open: milliseconds from `now` until `canPass` lets the probe through (0 once it may).
   * Otherwise 0: a closed circuit lets calls pass, and a half-open one waits on a probe whose
   * answer has no known time.
   */
  msUntilProbe(now: number): number {
    return this.#state === "open" ? Math.max(0, this.#openedAt + this.openMs - now) : 0;
  }

  /** Reports a call that succeeded: closes a half-open circuit and resets the failure count. */
  success(_now: number): void {
    if (this.#state === "open") return; // a late report from before the circuit opened
    this.#state = "closed";
    this.#failures = 0;
  }

  /** Reports a call that failed: may open a closed circuit, and reopens a half-open one. */
  failure(now: number): void {
    switch (this.#state) {
      case "closed":
        this.#failures += 1;
        if (this.#failures >= this.failureThreshold) this.#open(now);
        return;
      case "half_open":
        this.#open(now);
        return;
      case "open":
        return; // a late report from before the circuit opened
    }
  }

  #open(now: number): void {
    this.#state = "open";
    this.#openedAt = now;
    this.#failures = 0;
  }
}
