/**
 * The session store's port: what a backend (SQLite, Redis, the retrying wrapper) does for the
 * session actors, and how its failures read: an outage that may heal, or a bug.
 *
 * @module
 */
import type { Exchange } from "../sessions/mod.ts";

/**
 * Persists one history window per channel: its exchanges not folded yet (the window's and the
 * pending ones, see `HistoryWindow.storedSize`) and its running memory.
 */
export interface SessionStore {
  /** The stored exchanges of a channel, oldest first; empty when there is none. */
  load(channelId: string): Promise<Exchange[]>;
  /**
   * Adds one exchange and keeps only the newest `keep` (the window's `storedSize`), so the store
   * never outgrows the window.
   * Ends the turn `exchange.id` noted by `beginTurn`, in the same write. Resolves "saved" once it
   * is on disk, or "unsaved" when it is not: a store that retries holds it in memory to write when
   * the disk takes it again (or, past its bound, has logged dropping it).
   */
  append(channelId: string, exchange: Exchange, keep: number): Promise<WriteOutcome>;
  /** Notes that turn `id` (the user's message id) is being answered: it is in flight. */
  beginTurn(channelId: string, id: string, at: number): Promise<void>;
  /** Ends an in-flight turn that recorded nothing. */
  endTurn(channelId: string, id: string): Promise<void>;
  /**
   * The turns still in flight, oldest first, forgotten as they are read: at start, those a killed
   * process never answered.
   */
  takeUnanswered(): Promise<UnansweredTurn[]>;
  /** The running memory of a channel; empty when there is none. */
  loadMemory(channelId: string): Promise<string>;
  /**
   * Saves a fold in one transaction: `memory` replaces the running memory and only the newest
   * `keep` exchanges stay (the window's `storedSize` after `commitFold`), so a crash leaves the
   * folded exchanges either in the memory or still stored, never lost and never twice.
   */
  saveMemory(channelId: string, memory: string, keep: number): Promise<void>;
  /** Forgets a channel: its exchanges and its memory. */
  delete(channelId: string): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/** A turn that was in flight when its process ended. */
export interface UnansweredTurn {
  /** The channel it was asked in. */
  channelId: string;
  /** The user's message id. */
  id: string;
}

/** Whether an appended exchange reached the disk. */
export type WriteOutcome = "saved" | "unsaved";

/**
 * True for an error SQLite raised (node:sqlite marks them `ERR_SQLITE_ERROR`): the file or the
 * disk refused, which may heal. Anything else thrown by a store is a bug.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isSqliteError(new TypeError("x")), false);
 * ```
 */
export function isSqliteError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

/**
 * A store's backend is away (Redis unreachable, not answering, or not serving for a while): the
 * write may succeed later. Backends other than SQLite throw this for an outage.
 */
export class StoreUnavailableError extends Error {
  /** Marks it for {@link isStoreOutage}, as node:sqlite marks its errors. */
  readonly code = "ERR_STORE_UNAVAILABLE";
  /** Makes the error; `message` says what the backend answered (never a secret). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * True for a refusal that may heal: SQLite's own error (see {@link isSqliteError}) or a
 * {@link StoreUnavailableError} from another backend. A store that retries holds these writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isStoreOutage(new StoreUnavailableError("Redis: Connection is closed.")), true);
 * ```
 */
export function isStoreOutage(error: unknown): error is Error {
  return isSqliteError(error) ||
    (error instanceof Error && (error as { code?: unknown }).code === "ERR_STORE_UNAVAILABLE");
}
