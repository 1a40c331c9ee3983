/**
 * Per-server settings (`/settings`): a server's own persona, the channels where the bot answers
 * every message, whether summaries work there, and whether answers may search Google.
 *
 * Kept in the sessions' SQLite file (tables from the same migrations in `lib/store/sqlite.ts`): every setting
 * is loaded into memory when the bot starts, so that the gate reads it synchronously, and each
 * change is written through before it takes effect, so what an admin was told was saved survives
 * a restart. The writes run on a thread of their own (`lib/store/settings_writer_worker.ts`): a write that
 * waits for another connection's lock never stalls the gateway's event loop. Every change is
 * keyed by its server.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { prepareDatabase } from "./sqlite.ts";
import { type SettingsWrite, writeSetting } from "./settings_writes.ts";

/** How the bot listens in a channel: only when addressed (the default), or to every message. */
export type ChannelMode = "mention" | "always";

/** The settings of one server, defaults filled in. */
export interface GuildSettings {
  /** The server's own persona, or undefined for the bot's default one. */
  persona: string | undefined;
  /** Channels where the bot answers every message, without a mention. */
  alwaysChannels: ReadonlySet<string>;
  /** Whether `!요약` and `/summarize` work in the server. */
  summaries: boolean;
  /** Whether chat answers may search Google there (`/settings search`); off by default. */
  search: boolean;
}

/** What `/settings`, the gate and `/status` read and write. */
export interface SettingsPort {
  /** The settings of `guildId`; the defaults for a DM or a server that changed nothing. */
  forGuild(guildId: string | undefined): GuildSettings;
  /** Sets (or, with undefined, clears) the server's own persona; rejects when not saved. */
  setPersona(guildId: string, persona: string | undefined): Promise<void>;
  /** Sets how the bot listens in `channelId` of `guildId` (a channel of that server only). */
  setChannelMode(guildId: string, channelId: string, mode: ChannelMode): Promise<void>;
  /** Turns summaries on or off in the server; rejects when not saved. */
  setSummaries(guildId: string, enabled: boolean): Promise<void>;
  /** Turns Google Search grounding on or off in the server; rejects when not saved. */
  setSearch(guildId: string, enabled: boolean): Promise<void>;
}

/** The settings a server has before an admin changes any. */
export const DEFAULT_GUILD_SETTINGS: GuildSettings = Object.freeze({
  persona: undefined,
  alwaysChannels: Object.freeze(new Set<string>()),
  summaries: true,
  search: false,
});

interface MutableSettings {
  persona: string | undefined;
  alwaysChannels: Set<string>;
  summaries: boolean;
  search: boolean;
}

/** Where the writes go: a thread of their own, or (for `:memory:`) this one. */
interface Writer {
  write(change: SettingsWrite): Promise<void>;
  close(): Promise<void>;
}

/**
 * A {@link SettingsPort} on the bot's SQLite file, held in memory and written through.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const settings = SettingsStore.open(":memory:");
 * await settings.setPersona("1", "너는 해적이야.");
 * strictEqual(settings.forGuild("1").persona, "너는 해적이야.");
 * strictEqual(settings.forGuild("2").persona, undefined);
 * await settings.close();
 * ```
 */
export class SettingsStore implements SettingsPort {
  #db: DatabaseSync;
  #writer: Writer;
  #guilds = new Map<string, MutableSettings>();

  private constructor(db: DatabaseSync, writer: Writer) {
    this.#db = db;
    this.#writer = writer;
    this.#load();
  }

  /**
   * Opens (creating and migrating if needed) the database at `path` and loads every setting;
   * its writes then go through a worker of their own (`:memory:` writes on this thread).
   */
  static open(path: string): SettingsStore {
    const db = new DatabaseSync(path);
    prepareDatabase(db);
    try {
      const writer = path === ":memory:" ? inThread(db) : writerThread(path);
      return new SettingsStore(db, writer);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  forGuild(guildId: string | undefined): GuildSettings {
    return (guildId === undefined ? undefined : this.#guilds.get(guildId)) ??
      DEFAULT_GUILD_SETTINGS;
  }

  async setPersona(guildId: string, persona: string | undefined): Promise<void> {
    await this.#writer.write({ kind: "persona", guildId, persona: persona ?? null });
    this.#guild(guildId).persona = persona;
  }

  async setChannelMode(guildId: string, channelId: string, mode: ChannelMode): Promise<void> {
    await this.#writer.write({ kind: mode, guildId, channelId });
    const channels = this.#guild(guildId).alwaysChannels;
    if (mode === "always") channels.add(channelId);
    else channels.delete(channelId);
  }

  async setSummaries(guildId: string, enabled: boolean): Promise<void> {
    await this.#writer.write({ kind: "summaries", guildId, enabled });
    this.#guild(guildId).summaries = enabled;
  }

  async setSearch(guildId: string, enabled: boolean): Promise<void> {
    await this.#writer.write({ kind: "search", guildId, enabled });
    this.#guild(guildId).search = enabled;
  }

  /** Waits for the writes under way, then closes the connections. */
  async close(): Promise<void> {
    await this.#writer.close();
    if (this.#db.isOpen) this.#db.close();
  }

  #guild(guildId: string): MutableSettings {
    let settings = this.#guilds.get(guildId);
    if (!settings) {
      settings = { persona: undefined, alwaysChannels: new Set(), summaries: true, search: false };
      this.#guilds.set(guildId, settings);
    }
    return settings;
  }

  #load(): void {
    const guilds = this.#db.prepare(
      "SELECT guild_id, persona, summaries, search FROM guild_settings",
    ).all() as unknown as {
      guild_id: string;
      persona: string | null;
      summaries: number;
      search: number;
    }[];
    for (const row of guilds) {
      const settings = this.#guild(row.guild_id);
      settings.persona = row.persona ?? undefined;
      settings.summaries = row.summaries !== 0;
      settings.search = row.search !== 0;
    }
    const channels = this.#db.prepare("SELECT channel_id, guild_id FROM channel_settings")
      .all() as unknown as { channel_id: string; guild_id: string }[];
    for (const row of channels) this.#guild(row.guild_id).alwaysChannels.add(row.channel_id);
  }
}

/** Writes on this thread: for `:memory:`, which another connection could not see. */
function inThread(db: DatabaseSync): Writer {
  return {
    write: (change) => Promise.resolve().then(() => writeSetting(db, change, Date.now())),
    close: () => Promise.resolve(),
  };
}

/**
 * How long the writer thread outlives its last write. Settings change rarely and a Web Worker
 * costs about 11 MB, so the thread starts with a write and ends when idle.
 */
const WRITER_IDLE_MS = 30_000;

/**
 * Writes on a worker with its own connection to `path`, one after another. The worker starts with
 * the first write and stops {@link WRITER_IDLE_MS} after the last one has settled.
 */
function writerThread(path: string, idleMs = WRITER_IDLE_MS): Writer {
  let worker: Worker | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const waiting = new Map<number, PromiseWithResolvers<void>>();
  let nextId = 0;
  const stop = () => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    worker?.terminate();
    worker = undefined;
  };
  const stopWhenIdle = () => {
    if (waiting.size > 0 || idleTimer !== undefined) return;
    idleTimer = setTimeout(stop, idleMs);
    // An idle writer never keeps the process alive.
    Deno.unrefTimer(idleTimer);
  };
  const start = (): Worker => {
    const started = new Worker(new URL("./settings_writer_worker.ts", import.meta.url), {
      type: "module",
    });
    started.postMessage({ path });
    started.onmessage = (event: MessageEvent<{ id: number; error?: string }>) => {
      const { id, error } = event.data;
      const pending = waiting.get(id);
      waiting.delete(id);
      if (error === undefined) pending?.resolve();
      else pending?.reject(new Error(error));
      stopWhenIdle();
    };
    started.onerror = (event) => {
      event.preventDefault();
      for (const pending of waiting.values()) pending.reject(new Error(event.message));
      waiting.clear();
      stop();
    };
    return started;
  };
  return {
    write(change) {
      clearTimeout(idleTimer);
      idleTimer = undefined;
      worker ??= start();
      const pending = Promise.withResolvers<void>();
      const id = ++nextId;
      waiting.set(id, pending);
      worker.postMessage({ id, write: change });
      return pending.promise;
    },
    async close() {
      await Promise.allSettled([...waiting.values()].map((p) => p.promise));
      stop();
    },
  };
}
