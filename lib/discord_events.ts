/**
 * Gateway payloads in, the bot's own shapes out: a MESSAGE_CREATE becomes a {@linkcode ChatMessage},
 * an INTERACTION_CREATE a {@linkcode SlashCommand}.
 *
 * This is the edge where ids from outside are checked: an id that is not a snowflake, or an
 * interaction token that is not URL-safe, never reaches code that builds a Discord URL.
 *
 * @module
 */
import type { DiscordInteraction, DiscordMessage } from "discordeno";
import type { IncomingMessage } from "./mention.ts";
import { isSnowflake, isUrlSafeToken } from "./snowflake.ts";

/** A message that arrived through the gateway, in the shape the bot's logic reads. */
export interface ChatMessage extends IncomingMessage {
  /** The message's snowflake id, for replies. */
  id: string;
  /** The channel (or DM) it was posted in. */
  channelId: string;
  /** The name people see: guild nickname, else global display name, else username. */
  authorName: string;
}

/** A slash command invocation. */
export interface SlashCommand {
  /** The interaction's id, needed for its first response. */
  id: string;
  /** The interaction token, valid for 15 minutes of replies and follow-ups. */
  token: string;
  /** The command's name, such as `summarize`; empty when Discord sent none. */
  name: string;
  /** The channel the command was used in; absent when the payload named no valid channel. */
  channelId?: string;
  /** Absent in a DM. */
  guildId?: string;
  /** The user who used the command. */
  userId: string;
  /** The values given, by option name. */
  options: Record<string, string | number | boolean>;
}

/** A payload turned into the bot's shape, or the reason it was refused. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Type 2 is APPLICATION_COMMAND; pings, components and modals are not ours. */
const APPLICATION_COMMAND = 2;

/**
 * Reads a MESSAGE_CREATE's `d`. `botRoleIn` names the bot's managed role in a guild, if known.
 * Refused when an id the bot may put in a URL (message, channel, guild, author) is not a snowflake.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import type { DiscordMessage } from "discordeno";
 * const d = {
 *   id: "1600000000000000001",
 *   channel_id: "../../users/@me",
 *   author: { id: "1200000000000000001", username: "u" },
 *   content: "hi",
 * } as unknown as DiscordMessage;
 * strictEqual(chatMessageFrom(d, () => undefined).ok, false);
 * ```
 */
export function chatMessageFrom(
  d: DiscordMessage,
  botRoleIn: (guildId: string) => string | undefined,
): Parsed<ChatMessage> {
  const malformed = [
    isSnowflake(d.id) ? undefined : "id",
    isSnowflake(d.channel_id) ? undefined : "channel_id",
    // A guild id that is present but malformed must not turn a guild message into a "DM".
    d.guild_id === undefined || isSnowflake(d.guild_id) ? undefined : "guild_id",
    isSnowflake(d.author?.id) ? undefined : "author.id",
  ].filter((field) => field !== undefined);
  if (malformed.length > 0) {
    return { ok: false, reason: `${malformed.join(", ")} not a Discord id` };
  }
  const referencedAuthor = d.referenced_message?.author?.id;
  return {
    ok: true,
    value: {
      id: d.id,
      channelId: d.channel_id,
      guildId: d.guild_id,
      content: typeof d.content === "string" ? d.content : "",
      authorId: d.author.id,
      authorName: d.member?.nick || d.author.global_name || d.author.username,
      authorIsBot: d.author.bot === true || d.author.system === true,
      webhookId: d.webhook_id,
      type: d.type,
      mentionedUserIds: (d.mentions ?? []).map((u) => u?.id).filter(isSnowflake),
      mentionedRoleIds: (d.mention_roles ?? []).filter(isSnowflake),
      botRoleId: d.guild_id === undefined ? undefined : botRoleIn(d.guild_id),
      mentionsEveryone: d.mention_everyone === true,
      replyToAuthorId: isSnowflake(referencedAuthor) ? referencedAuthor : undefined,
    },
  };
}

/**
 * Reads an INTERACTION_CREATE's `d`: undefined for what is not an application command, refused
 * when its id or token cannot go into a URL (then it cannot be answered at all). A command
 * without a valid channel id is still returned, so that it can be answered.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import type { DiscordInteraction } from "discordeno";
 * const d = { id: "1700000000000000001", token: "a/../b", type: 2 } as DiscordInteraction;
 * strictEqual(slashCommandFrom(d)?.ok, false);
 * ```
 */
export function slashCommandFrom(d: DiscordInteraction): Parsed<SlashCommand> | undefined {
  if (d.type !== APPLICATION_COMMAND) return undefined;
  if (!isSnowflake(d.id)) return { ok: false, reason: "id not a Discord id" };
  if (!isUrlSafeToken(d.token)) return { ok: false, reason: "token not URL-safe" };
  const options: Record<string, string | number | boolean> = {};
  for (const option of d.data?.options ?? []) {
    if (option.value !== undefined) {
      options[option.name] = option.value as string | number | boolean;
    }
  }
  const userId = d.member?.user?.id ?? d.user?.id;
  return {
    ok: true,
    value: {
      id: d.id,
      token: d.token,
      name: typeof d.data?.name === "string" ? d.data.name : "",
      channelId: isSnowflake(d.channel_id) ? d.channel_id : undefined,
      guildId: isSnowflake(d.guild_id) ? d.guild_id : undefined,
      userId: isSnowflake(userId) ? userId : "",
      options,
    },
  };
}
