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
import { type Exchange, modelPartsFrom } from "../sessions/mod.ts";
import { inTransaction, prepareDatabase, schemaVersion } from "./migrations.ts";
import type { SessionStore, UnansweredTurn, WriteOutcome } from "./port.ts";

/** Re-exported: the port and the schema, so importers of the store need no other module. */
export { prepareDatabase, SCHEMA_VERSION } from "./migrations.ts";
/** Re-exported: the errors a store's callers tell apart. */
export { isSqliteError, isStoreOutage, StoreUnavailableError } from "./port.ts";
/** Re-exported: the port SqliteStore implements. */
export type { SessionStore, UnansweredTurn, WriteOutcome } from "./port.ts";

/** A stored exchange, as SQLite returns it. */
interface Row {
  user: string;
  model: string;
  at: number;
  command_id: string | null;
  model_parts: string | null;
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
      "SELECT user, model, at, command_id, model_parts FROM exchanges WHERE channel_id = ? ORDER BY seq",
    );
    this.#insert = db.prepare(
      `INSERT INTO exchanges (channel_id, seq, user, model, at, command_id, model_parts)
       VALUES (?1, COALESCE((SELECT MAX(seq) FROM exchanges WHERE channel_id = ?1), 0) + 1,
               ?2, ?3, ?4, ?5, ?6)`,
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
      return rows.map(({ user, model, at, command_id, model_parts }) => {
        const exchange: Exchange = { user, model, at };
        if (command_id !== null) exchange.id = command_id;
        const parts = modelPartsFrom(model_parts);
        if (parts) exchange.modelParts = parts;
        return exchange;
      });
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
          exchange.modelParts?.length ? JSON.stringify(exchange.modelParts) : null,
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

/** `fn`'s result as a promise, and its error as a rejection: a store's callers await, never catch. */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
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
