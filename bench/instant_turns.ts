/**
 * The session benchmark's chat turns: each begins in the real `Sessions`, takes the window lent
 * and commits a canned line at once, so that what is timed is the actor system alone.
 *
 * @module
 */
import type { Sessions } from "../actors/sessions/sessions.ts";
import { chatLine } from "./chat_text.ts";

/** The answers of instant turns, and the longest `contents` lent to them. */
export interface InstantTurns {
  /** The next canned answer. */
  shown: () => string;
  /** Notes the `contents` of a loan. */
  lent: (contents: unknown[]) => void;
  /** The most `contents` one loan carried. */
  maxContents(): number;
}

/** The lines the sessions say and are answered with, in turn. */
export const LINES = Array.from({ length: 97 }, (_, i) => chatLine(i));

/** Instant turns: each commits a canned line at once, noting the longest `contents` lent. */
export function instantTurns(): InstantTurns {
  let n = 0;
  let max = 0;
  return {
    shown: () => LINES[n++ % LINES.length],
    lent: (contents) => max = Math.max(max, contents.length),
    maxContents: () => max,
  };
}

/** One whole chat turn in `channelId`'s session: begin, take the loan, commit at once. */
export async function turn(
  sessions: Sessions,
  channelId: string,
  id: string,
  line: string,
  turns: InstantTurns,
  what: string,
): Promise<void> {
  const begun = await sessions.begin(channelId, id, line);
  if (!begun.ok) throw new Error(`${what} not begun: ${JSON.stringify(begun)}`);
  turns.lent(begun.lease.contents);
  const committed = await begun.lease.commit(turns.shown());
  if (!committed.ok || !committed.recorded) {
    throw new Error(`${what} not recorded: ${JSON.stringify(committed)}`);
  }
}
