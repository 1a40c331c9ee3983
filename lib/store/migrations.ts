/**
 * The bot's SQLite database file: its schema as data (migrations applied in order, counted in
 * `PRAGMA user_version`), and the connection settings every user of the file needs.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

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
  // Per-server settings (/settings), read and written by lib/store/settings.ts on the main
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
  // The model's turn as Gemini sent it (JSON of its parts: thought signatures, and any other part
  // such as a search tool call), sent back as received. NULL on older rows and when the user saw
  // less than the whole answer: those go back as their text.
  `ALTER TABLE exchanges ADD COLUMN model_parts TEXT`,
  // A server's Google Search switch (/settings search): off unless an admin turns it on.
  `ALTER TABLE guild_settings ADD COLUMN search INTEGER NOT NULL DEFAULT 0`,
];

/** The schema version a database is at once migrated: how many migrations there are. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Sets up a connection to the bot's database as every user of the file must (lock waits, WAL)
 * and migrates it; closes it and throws when that fails. Shared with lib/store/settings.ts,
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

/** How many migrations the database at `db` has had (`PRAGMA user_version`). */
export function schemaVersion(db: DatabaseSync): number {
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

/**
 * Runs `fn` in a write transaction and commits it. On failure the error thrown is SQLite's own:
 * a full disk or an I/O error makes SQLite roll the transaction back by itself, and a ROLLBACK
 * after that would throw "no transaction is active" in its place.
 */
export function inTransaction(db: DatabaseSync, fn: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    fn();
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
