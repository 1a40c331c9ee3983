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
   */
  append(channelId: string, exchange: Exchange, keep: number): Promise<void>;
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
  // Index 3 (the fourth migration): the running memory a fold writes. Another branch adds a
  // migration for pending turns at index 2; the lead orders them when merging, and this one only
  // needs to come after the exchanges table.
  `CREATE TABLE memories (
     channel_id TEXT    PRIMARY KEY,
     text       TEXT    NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,
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
    this.#selectMemory = db.prepare("SELECT text FROM memories WHERE channel_id = ?");
    this.#upsertMemory = db.prepare(
      `INSERT INTO memories (channel_id, text, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (channel_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
    );
    this.#deleteMemory = db.prepare("DELETE FROM memories WHERE channel_id = ?");
  }

  /** Opens (creating and migrating if needed) the database at `path`. */
  static open(path: string): SqliteStore {
    const db = new DatabaseSync(path);
    // Several hosts write the same file: wait for the lock instead of failing with SQLITE_BUSY.
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a killed process; only a power cut can lose the last commits.
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db);
    return new SqliteStore(db);
  }

  /** The schema version the database is at. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  load(channelId: string): Promise<Exchange[]> {
    const rows = this.#select.all(channelId) as unknown as Row[];
    return Promise.resolve(
      rows.map(({ user, model, at, command_id }) =>
        command_id === null ? { user, model, at } : { user, model, at, id: command_id }
      ),
    );
  }

  append(channelId: string, exchange: Exchange, keep: number): Promise<void> {
    // One transaction: a crash leaves either the old window or the new one, never half.
    this.#transaction(() => {
      this.#insert.run(
        channelId,
        exchange.user,
        exchange.model,
        Math.round(exchange.at),
        exchange.id ?? null,
      );
      this.#trim.run(channelId, keep);
    });
    return Promise.resolve();
  }

  loadMemory(channelId: string): Promise<string> {
    const row = this.#selectMemory.get(channelId) as { text: string } | undefined;
    return Promise.resolve(row?.text ?? "");
  }

  saveMemory(channelId: string, memory: string, keep: number): Promise<void> {
    this.#transaction(() => {
      this.#upsertMemory.run(channelId, memory, Date.now());
      this.#trim.run(channelId, keep);
    });
    return Promise.resolve();
  }

  delete(channelId: string): Promise<void> {
    this.#transaction(() => {
      this.#delete.run(channelId);
      this.#deleteMemory.run(channelId);
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }

  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
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
