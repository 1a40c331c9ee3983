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

/** Persists one history window per channel. */
export interface SessionStore {
  /** The stored window of a channel, oldest first; empty when there is none. */
  load(channelId: string): Promise<Exchange[]>;
  /** Replaces a channel's stored window. */
  save(channelId: string, exchanges: readonly Exchange[]): Promise<void>;
  /** Forgets a channel. */
  delete(channelId: string): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     channel_id TEXT PRIMARY KEY,
     window     TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,
];

/** The file name of the SQLite database inside `DATA_DIR`. */
export const DATABASE_FILE = "soyebot.db";

/**
 * A {@link SessionStore} on embedded SQLite.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open(":memory:");
 * await store.save("1", [{ user: "hi", model: "yo", at: 0 }]);
 * ```
 */
export class SqliteStore implements SessionStore {
  #db: DatabaseSync;
  #select;
  #upsert;
  #delete;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#select = db.prepare("SELECT window FROM sessions WHERE channel_id = ?");
    this.#upsert = db.prepare(
      `INSERT INTO sessions (channel_id, window, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (channel_id) DO UPDATE SET window = excluded.window, updated_at = excluded.updated_at`,
    );
    this.#delete = db.prepare("DELETE FROM sessions WHERE channel_id = ?");
  }

  /** Opens (creating and migrating if needed) the database at `path`. */
  static open(path: string, options: { now?: () => number } = {}): SqliteStore {
    const db = new DatabaseSync(path);
    // Several hosts write the same file: wait for the lock instead of failing with SQLITE_BUSY.
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a killed process; only a power cut can lose the last commits.
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db);
    const store = new SqliteStore(db);
    store.#now = options.now ?? Date.now;
    return store;
  }

  #now: () => number = Date.now;

  /** The schema version the database is at. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  load(channelId: string): Promise<Exchange[]> {
    const row = this.#select.get(channelId) as { window: string } | undefined;
    return Promise.resolve(row ? JSON.parse(row.window) as Exchange[] : []);
  }

  save(channelId: string, exchanges: readonly Exchange[]): Promise<void> {
    this.#upsert.run(channelId, JSON.stringify(exchanges), this.#now());
    return Promise.resolve();
  }

  delete(channelId: string): Promise<void> {
    this.#delete.run(channelId);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

function migrate(db: DatabaseSync): void {
  // BEGIN IMMEDIATE takes the write lock first, so two hosts opening a new file don't both migrate.
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let v = schemaVersion(db); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
