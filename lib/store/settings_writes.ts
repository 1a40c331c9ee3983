/**
 * The settings' writes as SQL, each keyed by its server: a channel's mode is only ever changed
 * within the server that owns the row, so one server's admin cannot change another's channel.
 * Shared by the writer thread and the in-memory store of tests.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** One change to the settings tables. */
export type SettingsWrite =
  | { kind: "persona"; guildId: string; persona: string | null }
  | { kind: "summaries"; guildId: string; enabled: boolean }
  | { kind: "search"; guildId: string; enabled: boolean }
  | { kind: "always"; guildId: string; channelId: string }
  | { kind: "mention"; guildId: string; channelId: string };

/** Runs `write` on `db` at `now` (epoch ms); throws what SQLite throws. */
export function writeSetting(db: DatabaseSync, write: SettingsWrite, now: number): void {
  switch (write.kind) {
    case "persona":
      return upsertGuild(db, "persona", write.guildId, write.persona, now);
    case "summaries":
    case "search":
      return upsertGuild(db, write.kind, write.guildId, write.enabled ? 1 : 0, now);
    case "always":
      // A row another server owns is left alone.
      db.prepare(
        `INSERT INTO channel_settings (channel_id, guild_id, mode, updated_at)
         VALUES (?1, ?2, 'always', ?3)
         ON CONFLICT (channel_id) DO UPDATE SET mode = excluded.mode,
           updated_at = excluded.updated_at WHERE channel_settings.guild_id = excluded.guild_id`,
      ).run(write.channelId, write.guildId, now);
      return;
    case "mention":
      db.prepare("DELETE FROM channel_settings WHERE channel_id = ?1 AND guild_id = ?2")
        .run(write.channelId, write.guildId);
      return;
  }
}

/** A `guild_settings` column a write sets: named in this file, never taken from input. */
type GuildColumn = "persona" | "summaries" | "search";

/** Sets one column of a server's row, creating the row with the defaults for the rest. */
function upsertGuild(
  db: DatabaseSync,
  column: GuildColumn,
  guildId: string,
  value: string | number | null,
  now: number,
): void {
  db.prepare(
    `INSERT INTO guild_settings (guild_id, ${column}, updated_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (guild_id) DO UPDATE SET ${column} = excluded.${column},
       updated_at = excluded.updated_at`,
  ).run(guildId, value, now);
}
