/**
 * The port the message flow needs from the session layer: begin a chat turn in a channel, get
 * its window on loan, and hand back what the user saw. The actors implement it
 * (`actors/sessions/sessions.ts`); the flow and its tests see only this.
 *
 * @module
 */
import type { Content, Exchange, ModelPart } from "./window.ts";

/**
 * What a committed turn records: the text the user saw, or that text with the answer's parts as
 * Gemini sent them (signatures included) when the user saw the whole answer; `undefined` records
 * nothing.
 */
export type Shown = string | { text: string; parts: ModelPart[] } | undefined;

/** The text of what was shown, and the model's parts when there are some. */
export function shownParts(shown: Shown): { text: string | undefined; parts?: ModelPart[] } {
  if (typeof shown === "object") return { text: shown.text, parts: shown.parts };
  return { text: shown };
}

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
   * `undefined`; `parts`, the answer as Gemini sent it, go with it when the user saw all of it,
   * so the model's turn goes back to Gemini as received. Resolves once it is recorded; never
   * rejects.
   */
  commit(shown: string | undefined, parts?: ModelPart[]): Promise<CommitResult>;
}

/** How a turn began. */
export type BeginResult = { ok: true; lease: Lease } | { ok: false; error: SessionError };

/**
 * Exchanges that left a channel's window, handed to the turn that saw them leave, to fold into the
 * channel's running memory through the broker. The session waits for the result
 * ({@link SessionsPort.remember}) before it hands out another.
 */
export interface FoldTask {
  /** Names this fold when its result is handed back. */
  id: string;
  /** The channel's running memory now; empty before the first fold. */
  memory: string;
  /** The exchanges to fold, oldest first. */
  exchanges: Exchange[];
}

/** How a turn ended. */
export type CommitResult =
  /**
   * `unsaved`: the store holds the exchange in memory until its disk takes writes again. `fold`:
   * exchanges are waiting to be folded into the memory, and this turn is to do it.
   */
  | { ok: true; recorded: boolean; unsaved: boolean; fold?: FoldTask }
  | { ok: false; error: SessionError; message?: string };

/** The session layer, as the message flow sees it. */
export interface SessionsPort {
  /** Begins turn `id` (the user's message id) with `line` in `channelId`'s session. */
  begin(channelId: string, id: string, line: string): Promise<BeginResult>;
  /** Forgets `channelId`'s conversation, in memory and in the store. */
  reset(channelId: string, id: string): Promise<{ ok: true } | { ok: false; error: SessionError }>;
  /**
   * Hands back the new memory of fold `foldId` ({@link FoldTask.id}), or `undefined` when the fold
   * failed: the session then keeps its old memory and offers the fold again at a later commit. A
   * fold that began before a `/reset` is dropped.
   */
  remember(
    channelId: string,
    foldId: string,
    memory: string | undefined,
  ): Promise<{ ok: true } | { ok: false; error: SessionError }>;
  /** Live sessions, for `/status`. */
  readonly liveSessions: number;
}
