/**
 * Session store: where each channel's history window survives eviction, crashes and restarts.
 *
 * The interface is small and async so that a Redis backend can stand beside SQLite for
 * scale-out. The SQLite backend is embedded (`node:sqlite`), one file in `DATA_DIR`, in WAL mode
 * so that several worker hosts can hold connections to it at once.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { Exchange } from "./history_window.ts";

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

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     channel_id TEXT PRIMARY KEY,
     window     TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,
  // One row per exchange: a message writes its own ~600 bytes instead of rewriting a 12 KB
  // window, and the trim is a range delete on the primary key.
  `CREATE TABLE exchanges (
     channel_id TEXT    NOT NULL,
     seq        INTEGER NOT NULL,
     user       TEXT    NOT NULL,
     model      TEXT    NOT NULL,
     at         INTEGER NOT NULL,
     command_id TEXT,
     PRIMARY KEY (channel_id, seq)
   ) STRICT, WITHOUT ROWID;
   -- A damaged window must not make the upgrade, and so every start, fail: what can't be read
   -- is left behind, as the actor would have failed to read it anyway.
   INSERT INTO exchanges (channel_id, seq, user, model, at)
     SELECT s.channel_id, e.key + 1, e.value ->> '$.user', e.value ->> '$.model',
            CAST(COALESCE(e.value ->> '$.at', 0) AS INTEGER)
     FROM sessions AS s, json_each(CASE WHEN json_valid(s.window) THEN s.window ELSE '[]' END) AS e
     WHERE e.type = 'object'
       AND typeof(e.value ->> '$.user') = 'text' AND typeof(e.value ->> '$.model') = 'text';
   DROP TABLE sessions;`,
  // Turns being answered, noted before the Gemini call: a process killed mid-answer leaves them
  // here, and the next start tells each channel its last message went unanswered.
  `CREATE TABLE turns (
     channel_id TEXT    NOT NULL,
     id         TEXT    NOT NULL,
     at         INTEGER NOT NULL,
     PRIMARY KEY (channel_id, id)
   ) STRICT, WITHOUT ROWID`,
  // The running memory a fold writes, beside the exchanges it was folded from.
  `CREATE TABLE memories (
     channel_id TEXT    PRIMARY KEY,
     text       TEXT    NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,
  // Per-server settings (/settings), read and written by lib/settings_store.ts on the main
  // thread: a server's own persona (NULL for the default) and whether summaries work there,
  // and the channels where the bot answers every message. A row exists only once an admin
  // changed something; a channel row only for a mode other than the default "mention".
  `CREATE TABLE guild_settings (
     guild_id   TEXT    PRIMARY KEY,
     persona    TEXT,
     summaries  INTEGER NOT NULL DEFAULT 1,
     updated_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE channel_settings (
     channel_id TEXT    PRIMARY KEY,
     guild_id   TEXT    NOT NULL,
     mode       TEXT    NOT NULL CHECK (mode IN ('always')),
     updated_at INTEGER NOT NULL
   ) STRICT;`,
];

/** The schema version a database is at once migrated: how many migrations there are. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** A stored exchange, as SQLite returns it. */
interface Row {
  user: string;
  model: string;
  at: number;
  command_id: string | null;
}

/** The file name of the SQLite database inside `DATA_DIR`. */
export const DATABASE_FILE = "soyebot.db";

/**
 * A {@link SessionStore} on embedded SQLite.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open(":memory:");
 * await store.append("1", { user: "hi", model: "yo", at: 0 }, 20);
 * ```
 */
export class SqliteStore implements SessionStore {
  #db: DatabaseSync;
  #select;
  #insert;
  #trim;
  #delete;
  #beginTurn;
  #endTurn;
  #unanswered;
  #selectMemory;
  #upsertMemory;
  #deleteMemory;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#select = db.prepare(
      "SELECT user, model, at, command_id FROM exchanges WHERE channel_id = ? ORDER BY seq",
    );
    this.#insert = db.prepare(
      `INSERT INTO exchanges (channel_id, seq, user, model, at, command_id)
       VALUES (?1, COALESCE((SELECT MAX(seq) FROM exchanges WHERE channel_id = ?1), 0) + 1,
               ?2, ?3, ?4, ?5)`,
    );
    this.#trim = db.prepare(
      `DELETE FROM exchanges WHERE channel_id = ?1
       AND seq <= (SELECT MAX(seq) FROM exchanges WHERE channel_id = ?1) - ?2`,
    );
    this.#delete = db.prepare("DELETE FROM exchanges WHERE channel_id = ?");
    this.#beginTurn = db.prepare(
      "INSERT OR IGNORE INTO turns (channel_id, id, at) VALUES (?, ?, ?)",
    );
    this.#endTurn = db.prepare("DELETE FROM turns WHERE channel_id = ? AND id = ?");
    this.#unanswered = db.prepare(
      "DELETE FROM turns RETURNING channel_id AS channelId, id, at",
    );
    this.#selectMemory = db.prepare("SELECT text FROM memories WHERE channel_id = ?");
    this.#upsertMemory = db.prepare(
      `INSERT INTO memories (channel_id, text, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (channel_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
    );
    this.#deleteMemory = db.prepare("DELETE FROM memories WHERE channel_id = ?");
  }

  /** Opens (creating and migrating if needed) the database at `path`. */
  static open(path: string): SqliteStore {
    return SqliteStore.over(new DatabaseSync(path));
  }

  /**
   * Makes the store on a connection the caller opened, and may tune (a size cap, say); the
   * connection is set up and migrated as {@link SqliteStore.open} does, and closed with the store.
   */
  static over(db: DatabaseSync): SqliteStore {
    prepareDatabase(db);
    return new SqliteStore(db);
  }

  /** The schema version the database is at. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  load(channelId: string): Promise<Exchange[]> {
    return settled(() => {
      const rows = this.#select.all(channelId) as unknown as Row[];
      return rows.map(({ user, model, at, command_id }) =>
        command_id === null ? { user, model, at } : { user, model, at, id: command_id }
      );
    });
  }

  append(channelId: string, exchange: Exchange, keep: number): Promise<WriteOutcome> {
    // One transaction: a crash leaves either the old window or the new one, never half.
    return settled(() => {
      inTransaction(this.#db, () => {
        this.#insert.run(
          channelId,
          exchange.user,
          exchange.model,
          Math.round(exchange.at),
          exchange.id ?? null,
        );
        this.#trim.run(channelId, keep);
        if (exchange.id !== undefined) this.#endTurn.run(channelId, exchange.id);
      });
      return "saved" as const;
    });
  }

  /**
   * Writes the schema version back unchanged: a real write that changes nothing, so it throws
   * SQLite's own error when the file can't be written (read-only, disk full).
   */
  probeWrite(): void {
    const version = schemaVersion(this.#db);
    inTransaction(this.#db, () => this.#db.exec(`PRAGMA user_version = ${version}`));
  }

  beginTurn(channelId: string, id: string, at: number): Promise<void> {
    return settled(() => void this.#beginTurn.run(channelId, id, Math.round(at)));
  }

  endTurn(channelId: string, id: string): Promise<void> {
    return settled(() => void this.#endTurn.run(channelId, id));
  }

  takeUnanswered(): Promise<UnansweredTurn[]> {
    return settled(() => {
      const rows = this.#unanswered.all() as unknown as (UnansweredTurn & { at: number })[];
      rows.sort((a, b) => a.at - b.at);
      return rows.map(({ channelId, id }) => ({ channelId, id }));
    });
  }

  loadMemory(channelId: string): Promise<string> {
    return settled(() => {
      const row = this.#selectMemory.get(channelId) as { text: string } | undefined;
      return row?.text ?? "";
    });
  }

  saveMemory(channelId: string, memory: string, keep: number): Promise<void> {
    return settled(() =>
      inTransaction(this.#db, () => {
        this.#upsertMemory.run(channelId, memory, Date.now());
        this.#trim.run(channelId, keep);
      })
    );
  }

  delete(channelId: string): Promise<void> {
    return settled(() =>
      inTransaction(this.#db, () => {
        this.#delete.run(channelId);
        this.#deleteMemory.run(channelId);
      })
    );
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

/**
 * Sets up a connection to the bot's database as every user of the file must (lock waits, WAL)
 * and migrates it; closes it and throws when that fails. Shared with lib/settings_store.ts,
 * which keeps its own connection to the same file.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * const db = new DatabaseSync(":memory:");
 * prepareDatabase(db);
 * db.close();
 * ```
 */
export function prepareDatabase(db: DatabaseSync): void {
  try {
    // Several hosts write the same file: wait for the lock instead of failing with SQLITE_BUSY.
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a killed process; only a power cut can lose the last commits.
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

function migrate(db: DatabaseSync): void {
  // BEGIN IMMEDIATE takes the write lock first, so two hosts opening a new file don't both migrate.
  inTransaction(db, () => {
    for (let v = schemaVersion(db); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
  });
}

/** `fn`'s result as a promise, and its error as a rejection: a store's callers await, never catch. */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Runs `fn` in a write transaction and commits it. On failure the error thrown is SQLite's own:
 * a full disk or an I/O error makes SQLite roll the transaction back by itself, and a ROLLBACK
 * after that would throw "no transaction is active" in its place.
 */
function inTransaction(db: DatabaseSync, fn: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    fn();
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

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

/**
 * Opens the database at `path` (creating and migrating it) and writes to it once, then closes
 * it; throws SQLite's error when the file can't be created or written.
 *
 * @example
 * ```ts ignore
 * checkWritable("data/soyebot.db"); // throws "unable to open database file" on a read-only disk
 * ```
 */
export function checkWritable(path: string): void {
  const store = SqliteStore.open(path);
  try {
    store.probeWrite();
  } finally {
    void store.close();
  }
}
