/**
 * Which role in each guild is the bot's own managed role: the one Discord creates when the bot
 * joins, marked by `tags.bot_id`. People often mention it instead of the bot.
 *
 * @module
 */
import { isSnowflake } from "../snowflake.ts";

/** A role as gateway events carry it; only what identifies a bot's managed role. */
export interface GatewayRole {
  /** The role's id. */
  id: string;
  /** Set on managed roles; `bot_id` names the bot the role belongs to. */
  tags?: { bot_id?: string };
}

/**
 * The bot's managed role per guild, kept from GUILD_CREATE and GUILD_ROLE_* events.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const roles = new ManagedRoles("1100000000000000001");
 * roles.guildSeen({
 *   id: "1300000000000000001",
 *   roles: [{ id: "1500000000000000001", tags: { bot_id: "1100000000000000001" } }],
 * });
 * strictEqual(roles.roleIn("1300000000000000001"), "1500000000000000001");
 * ```
 */
export class ManagedRoles {
  readonly #botId: string;
  readonly #byGuild = new Map<string, string>();

  /** Tracks the managed role of the bot whose user id is `botId`. */
  constructor(botId: string) {
    this.#botId = botId;
  }

  /** The bot's managed role in `guildId`, if one has been seen. */
  roleIn(guildId: string | undefined): string | undefined {
    return guildId === undefined ? undefined : this.#byGuild.get(guildId);
  }

  /** GUILD_CREATE: the guild's full role list. */
  guildSeen(guild: { id?: unknown; roles?: unknown }): void {
    if (!isSnowflake(guild.id) || !Array.isArray(guild.roles)) return;
    for (const role of guild.roles) this.roleSeen(guild.id, role);
  }

  /** GUILD_ROLE_CREATE and GUILD_ROLE_UPDATE: one role, which may be the bot's. */
  roleSeen(guildId: unknown, role: unknown): void {
    const { id, tags } = (role ?? {}) as Partial<GatewayRole>;
    if (!isSnowflake(guildId) || !isSnowflake(id) || tags?.bot_id !== this.#botId) return;
    this.#byGuild.set(guildId, id);
  }

  /** GUILD_ROLE_DELETE. */
  roleDeleted(guildId: unknown, roleId: unknown): void {
    if (typeof guildId === "string" && this.#byGuild.get(guildId) === roleId) {
      this.#byGuild.delete(guildId);
    }
  }

  /** GUILD_DELETE for a guild the bot left (not an outage, which Discord marks `unavailable`). */
  guildGone(guildId: unknown): void {
    if (typeof guildId === "string") this.#byGuild.delete(guildId);
  }
}
