/**
 * The supervisor's policy, written as data: how often a host may be restarted (OTP's intensity
 * and period; hosts restart alone, one_for_one), and how many sessions stay live for how long.
 * The one source of these numbers: configuration defaults read them from here.
 *
 * @module
 */

/** What the supervisor restarts, when, and how often; and how many sessions it keeps live. */
export interface SupervisorPolicy {
  /** Most host restarts within `periodMs`; one more and the supervisor gives up. */
  readonly intensity: number;
  /** The sliding window, in ms, in which restarts are counted. */
  readonly periodMs: number;
  /** Most live sessions; past it the least recently used idle one is evicted. */
  readonly maxSessions: number;
  /** How long, in ms, a session may sit unused before it is reaped. */
  readonly idleMs: number;
  /** How often, in ms, the idle sweep runs; 0 turns the timer off. */
  readonly sweepMs: number;
}

/**
 * The default policy: 5 restarts a minute, 1000 live sessions, reaped after 10 idle minutes by a
 * sweep every minute.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(DEFAULT_SUPERVISOR_POLICY.maxSessions, 1000);
 * ```
 */
export const DEFAULT_SUPERVISOR_POLICY: SupervisorPolicy = {
  intensity: 5,
  periodMs: 60_000,
  maxSessions: 1000,
  idleMs: 600_000,
  sweepMs: 60_000,
};
