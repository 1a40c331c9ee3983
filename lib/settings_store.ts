/**
 * Per-server settings (`/settings`): a server's own persona, the channels where the bot answers
 * every message, whether summaries work there, and whether answers may search Google.
 *
 * Kept in the sessions' SQLite file (tables from the same migrations in `store.ts`), on a
 * connection of the main thread's own: every setting is loaded into memory when the bot starts,
 * so that the gate reads it synchronously, and each change is written through before it takes
 * effect, so what an admin was told was saved survives a restart.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { prepareDatabase } from "./store.ts";

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
  /** Sets (or, with undefined, clears) the server's own persona. */
  setPersona(guildId: string, persona: string | undefined): void;
  /** Sets how the bot listens in `channelId` of `guildId`. */
  setChannelMode(guildId: string, channelId: string, mode: ChannelMode): void;
  /** Turns summaries on or off in the server. */
  setSummaries(guildId: string, enabled: boolean): void;
  /** Turns Google Search grounding on or off in the server. */
  setSearch(guildId: string, enabled: boolean): void;
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

/**
 * A {@link SettingsPort} on the bot's SQLite file, held in memory and written through.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const settings = SettingsStore.open(":memory:");
 * settings.setPersona("1", "너는 해적이야.");
 * strictEqual(settings.forGuild("1").persona, "너는 해적이야.");
 * strictEqual(settings.forGuild("2").persona, undefined);
 * settings.close();
 * ```
 */
export class SettingsStore implements SettingsPort {
  #db: DatabaseSync;
  #guilds = new Map<string, MutableSettings>();
  #upsertPersona;
  #upsertSummaries;
  #upsertSearch;
  #setAlways;
  #clearChannel;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#upsertPersona = db.prepare(
      `INSERT INTO guild_settings (guild_id, persona, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (guild_id) DO UPDATE SET persona = excluded.persona,
         updated_at = excluded.updated_at`,
    );
    this.#upsertSummaries = db.prepare(
      `INSERT INTO guild_settings (guild_id, summaries, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (guild_id) DO UPDATE SET summaries = excluded.summaries,
         updated_at = excluded.updated_at`,
    );
    this.#upsertSearch = db.prepare(
      `INSERT INTO guild_settings (guild_id, search, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (guild_id) DO UPDATE SET search = excluded.search,
         updated_at = excluded.updated_at`,
    );
    this.#setAlways = db.prepare(
      `INSERT INTO channel_settings (channel_id, guild_id, mode, updated_at)
       VALUES (?1, ?2, 'always', ?3)
       ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id,
         mode = excluded.mode, updated_at = excluded.updated_at`,
    );
    this.#clearChannel = db.prepare("DELETE FROM channel_settings WHERE channel_id = ?");
    this.#load();
  }

  /** Opens (creating and migrating if needed) the database at `path` and loads every setting. */
  static open(path: string): SettingsStore {
    const db = new DatabaseSync(path);
    prepareDatabase(db);
    try {
      return new SettingsStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  forGuild(guildId: string | undefined): GuildSettings {
    return (guildId === undefined ? undefined : this.#guilds.get(guildId)) ??
      DEFAULT_GUILD_SETTINGS;
  }

  setPersona(guildId: string, persona: string | undefined): void {
    this.#upsertPersona.run(guildId, persona ?? null, Date.now());
    this.#guild(guildId).persona = persona;
  }

  setChannelMode(guildId: string, channelId: string, mode: ChannelMode): void {
    if (mode === "always") this.#setAlways.run(channelId, guildId, Date.now());
    else this.#clearChannel.run(channelId);
    // A channel id is unique across Discord: it belongs to one server only.
    for (const settings of this.#guilds.values()) settings.alwaysChannels.delete(channelId);
    if (mode === "always") this.#guild(guildId).alwaysChannels.add(channelId);
  }

  setSummaries(guildId: string, enabled: boolean): void {
    this.#upsertSummaries.run(guildId, enabled ? 1 : 0, Date.now());
    this.#guild(guildId).summaries = enabled;
  }

  setSearch(guildId: string, enabled: boolean): void {
    this.#upsertSearch.run(guildId, enabled ? 1 : 0, Date.now());
    this.#guild(guildId).search = enabled;
  }

  /** Closes the connection. */
  close(): void {
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
