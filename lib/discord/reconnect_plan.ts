/**
 * What to do when a gateway connection closes: resume the session, start a new one, or leave it
 * to discordeno; and how long to wait before the next attempt.
 *
 * Pure: no sockets, no timers. `lib/discord/shard_reconnect.ts` applies it to discordeno's shards.
 *
 * @module
 */
import { GatewayCloseEventCodes, ShardSocketCloseCodes } from "discordeno";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";

/**
 * After a close: `resume` the session (it is still Discord's), `identify` a new one (Discord
 * dropped it), or let `discordeno` handle it (its own deliberate closes, and the fatal codes on
 * which no reconnect can help).
 */
export type ReconnectAction = "resume" | "identify" | "discordeno";

/** Closes discordeno makes itself, before a resume, re-identify or shutdown it drives. */
const OWN_CLOSES: ReadonlySet<number> = new Set([
  ShardSocketCloseCodes.Shutdown,
  ShardSocketCloseCodes.ResumeClosingOldConnection,
  ShardSocketCloseCodes.ZombiedConnection,
  ShardSocketCloseCodes.TestingFinished,
  ShardSocketCloseCodes.Resharded,
  ShardSocketCloseCodes.ReIdentifying,
]);

/** Closes no retry can fix: a bad token, bad sharding, a bad API version or intents. */
const FATAL_CLOSES: ReadonlySet<number> = new Set([
  GatewayCloseEventCodes.AuthenticationFailed,
  GatewayCloseEventCodes.InvalidShard,
  GatewayCloseEventCodes.ShardingRequired,
  GatewayCloseEventCodes.InvalidApiVersion,
  GatewayCloseEventCodes.InvalidIntents,
  GatewayCloseEventCodes.DisallowedIntents,
]);

/** Closes after which Discord says to "reconnect and start a new session". */
const SESSION_GONE_CLOSES: ReadonlySet<number> = new Set([
  GatewayCloseEventCodes.NotAuthenticated,
  GatewayCloseEventCodes.InvalidSeq,
  GatewayCloseEventCodes.SessionTimedOut,
]);

/**
 * Chooses the action for a close `code`. Everything not known to end the session resumes,
 * including what a refused or cut-off connection reports during an outage (1006, or 0 from Deno
 * for a handshake answered with an HTTP error).
 *
 * @example Usage
 * ```ts
 * import { reconnectAction } from "./reconnect_plan.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(reconnectAction(1006), "resume");
 * assert.equal(reconnectAction(4009), "identify");
 * assert.equal(reconnectAction(4014), "discordeno");
 * ```
 */
export function reconnectAction(code: number): ReconnectAction {
  if (OWN_CLOSES.has(code) || FATAL_CLOSES.has(code)) return "discordeno";
  if (SESSION_GONE_CLOSES.has(code)) return "identify";
  return "resume";
}

/**
 * The gateway's reconnect backoff: 1 s doubling to a 30 s cap, each delay shortened by up to a
 * quarter at random so that many shards (or bots) coming back do not arrive in step.
 */
export const GATEWAY_BACKOFF: Readonly<Required<Omit<BackoffOptions, "random">>> = {
  baseMs: 1000,
  maxMs: 30_000,
  jitter: 0.25,
};

/**
 * Counts failed connection attempts in a row and spaces out the next one with capped
 * exponential backoff; a connection that gets back to READY or RESUMED starts it over.
 *
 * @example Usage
 * ```ts
 * import { ReconnectBackoff } from "./reconnect_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const backoff = new ReconnectBackoff({ random: () => 0 });
 * assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [1000, 2000, 4000]);
 * backoff.reset();
 * assert.equal(backoff.next(), 1000);
 * ```
 */
export class ReconnectBackoff {
  readonly #options: BackoffOptions;
  #failures = 0;

  /** Uses {@linkcode GATEWAY_BACKOFF}, with any of its fields (or the randomness) replaced. */
  constructor(options: BackoffOptions = {}) {
    this.#options = { ...GATEWAY_BACKOFF, ...options };
  }

  /** Attempts since the connection was last up. */
  get failures(): number {
    return this.#failures;
  }

  /** The wait before the next attempt; counts one more failure. */
  next(): number {
    return backoffDelay(this.#failures++, this.#options);
  }

  /** The connection is up again: the next outage starts from the base delay. */
  reset(): void {
    this.#failures = 0;
  }
}
