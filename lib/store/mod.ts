/**
 * The store: what survives a restart.
 *
 * Owns the session store's port, SQLite (the default, with its migrations) and Redis as its
 * implementations, the retrying store that holds writes the disk refused, and the per-server settings.
 * Builds on sessions/ for the shape of what it keeps.
 *
 * @module
 */
export { KEY_PREFIX, RedisStore } from "./redis.ts";
export type { RedisStoreConfig } from "./redis.ts";
export type { StoreHealth } from "./retrying.ts";
export { SettingsStore } from "./settings.ts";
export type { ChannelMode, GuildSettings, SettingsPort } from "./settings.ts";
export { checkWritable, DATABASE_FILE, SqliteStore } from "./sqlite.ts";
export type { UnansweredTurn } from "./sqlite.ts";
