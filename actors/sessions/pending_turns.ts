/**
 * The turns `Sessions` has sent to a host and not seen done: each one's stage in the loan
 * protocol (`begun` → `lent` → `committed`), the promises its owner waits on, and what becomes of
 * it when its host dies (begun again on the new host, or failed after a second try).
 *
 * @module
 */
import type { BeginResult, CommitResult, SessionError, Shown } from "../../lib/sessions/port.ts";
import type { SessionResult } from "./actor.ts";
import type { ToHost } from "./host.ts";

/** How a turn, reset or fold's result ended, as its owner is told. */
export type PendingOutcome = SessionResult | { ok: false; error: SessionError };

/** A turn, reset or fold's result sent to a host and not yet done. */
export interface Pending {
  /** The channel it belongs to. */
  channelId: string;
  /** What was sent to the host; sent again after a host restart. */
  message: Extract<ToHost, { type: "begin" | "reset" | "remember" }>;
  /** `begun`: waiting for the window; `lent`: the turn holds it; `committed`: sent back. */
  stage: "begun" | "lent" | "committed";
  /** What the user saw, once committed (with the answer's parts when they saw all of it). */
  shown?: Shown;
  /** Times it has been sent to a host. */
  attempts: number;
  /** The loan its owner waits on after `begin`. */
  lent: PromiseWithResolvers<BeginResult>;
  /** The end its owner waits on after `commit` (or a reset's or fold's only answer). */
  done: PromiseWithResolvers<PendingOutcome>;
}

/** The outcome of everything still pending when the session layer stops. */
export const STOPPING_OUTCOME: PendingOutcome = { ok: false, error: "stopping" };

/** A fresh pending entry for `message`, sent once. */
export function newPending(message: Pending["message"]): Pending {
  return {
    channelId: message.channelId,
    message,
    stage: "begun",
    attempts: 1,
    lent: Promise.withResolvers(),
    done: Promise.withResolvers(),
  };
}

/** Settles whichever promise the turn's owner is waiting on. */
export function settlePending(pending: Pending, result: PendingOutcome): void {
  if (pending.stage === "begun" && pending.message.type === "begin") {
    // The turn never got its window; a successful end without a loan cannot happen.
    pending.lent.resolve({ ok: false, error: result.ok ? "crashed" : sessionError(result) });
  }
  pending.done.resolve(result);
}

/**
 * A turn's end as `commit` answers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(commitResultOf({ ok: false, error: "stopping" }), {
 *   ok: false,
 *   error: "stopping",
 *   message: undefined,
 * });
 * ```
 */
export function commitResultOf(result: PendingOutcome): CommitResult {
  return result.ok
    ? {
      ok: true,
      recorded: result.recorded === true,
      unsaved: result.unsaved === true,
      ...(result.fold ? { fold: result.fold } : {}),
    }
    : { ok: false, error: sessionError(result), message: crashMessage(result) };
}

/**
 * What becomes of each pending entry of a dead host (`onHost`), in arrival order: a turn still
 * waiting for its window after a second try fails; everything else is begun again, its attempt
 * counted, so the channel's later turns queue behind it on the new host.
 */
export function afterHostDied(
  pending: ReadonlyMap<string, Pending>,
  onHost: (channelId: string) => boolean,
): { id: string; pending: Pending; resend: boolean }[] {
  const plan = [];
  for (const [id, entry] of pending) {
    if (!onHost(entry.channelId)) continue;
    const resend = !(entry.stage === "begun" && entry.attempts >= 2);
    if (resend) entry.attempts++;
    plan.push({ id, pending: entry, resend });
  }
  return plan;
}

/** The error a failed outcome reports to its owner: a bounced message counts as a crash. */
export function sessionError(
  result: Exclude<SessionResult, { ok: true }> | { error: SessionError },
): SessionError {
  return result.error === "bounced" ? "crashed" : result.error;
}

function crashMessage(result: PendingOutcome): string | undefined {
  return !result.ok && "message" in result ? result.message : undefined;
}
