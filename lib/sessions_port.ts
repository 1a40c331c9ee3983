/**
 * The port the message flow needs from the session layer: begin a chat turn in a channel, get
 * its window on loan, and hand back what the user saw. The actors implement it
 * (`actors/sessions.ts`); the flow and its tests see only this.
 *
 * @module
 */
import type { Content } from "./history_window.ts";

/** Why a channel's session could not do what was asked. */
export type SessionError =
  /** The channel's actor failed; it is restarted from its stored window. */
  | "crashed"
  /** Its worker host died twice while the turn began. */
  | "host_crashed"
  /** The bot is shutting down. */
  | "stopping";

/** A chat turn holding its channel's window: the channel's next turn waits until it commits. */
export interface Lease {
  /** The channel's history and the new line, as Gemini `contents`. */
  readonly contents: Content[];
  /**
   * Ends the turn: records `shown` (the text the user saw) as the exchange, or nothing when
   * `undefined`. Resolves once it is recorded; never rejects.
   */
  commit(shown: string | undefined): Promise<CommitResult>;
}

/** How a turn began. */
export type BeginResult = { ok: true; lease: Lease } | { ok: false; error: SessionError };

/** How a turn ended. */
export type CommitResult =
  /** `unsaved`: the store holds the exchange in memory until its disk takes writes again. */
  | { ok: true; recorded: boolean; unsaved: boolean }
  | { ok: false; error: SessionError; message?: string };

/** The session layer, as the message flow sees it. */
export interface SessionsPort {
  /** Begins turn `id` (the user's message id) with `line` in `channelId`'s session. */
  begin(channelId: string, id: string, line: string): Promise<BeginResult>;
  /** Forgets `channelId`'s conversation, in memory and in the store. */
  reset(channelId: string, id: string): Promise<{ ok: true } | { ok: false; error: SessionError }>;
  /** Live sessions, for `/status`. */
  readonly liveSessions: number;
}
