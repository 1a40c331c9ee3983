/**
 * Gateway payloads in, the bot's own shapes out: a MESSAGE_CREATE becomes a {@linkcode ChatMessage},
 * an INTERACTION_CREATE a {@linkcode SlashCommand}.
 *
 * This is the edge where ids from outside are checked: an id that is not a snowflake, or an
 * interaction token that is not URL-safe, never reaches code that builds a Discord URL.
 *
 * @module
 */
import type { Attachment } from "../attachments/mod.ts";
import type { IncomingMessage } from "./mention.ts";
import { isSnowflake, isUrlSafeToken } from "../snowflake.ts";

/** A gateway event's `d`, as JSON gave it: nothing in it is trusted. */
export type Payload = Readonly<Record<string, unknown>>;

/** The fields of a MESSAGE_CREATE's `d` that the bot reads; any may be missing or malformed. */
interface MessagePayload {
  id?: unknown;
  channel_id?: unknown;
  guild_id?: unknown;
  author?: {
    id?: unknown;
    username?: unknown;
    global_name?: unknown;
    bot?: unknown;
    system?: unknown;
  };
  member?: { nick?: unknown };
  content?: unknown;
  webhook_id?: unknown;
  type?: unknown;
  mentions?: unknown;
  mention_roles?: unknown;
  mention_everyone?: unknown;
  attachments?: unknown;
  message_reference?: { type?: unknown; message_id?: unknown; channel_id?: unknown };
  referenced_message?: MessagePayload | null;
  /** A forward's copy of the message forwarded (content, attachments; no author). */
  message_snapshots?: unknown;
}

/** The fields of an INTERACTION_CREATE's `d` that the bot reads; any may be missing. */
interface InteractionPayload {
  id?: unknown;
  type?: unknown;
  token?: unknown;
  channel_id?: unknown;
  guild_id?: unknown;
  member?: { user?: { id?: unknown }; permissions?: unknown };
  user?: { id?: unknown };
  data?: {
    name?: unknown;
    options?: unknown;
    resolved?: unknown;
    custom_id?: unknown;
    component_type?: unknown;
  };
  message?: { id?: unknown };
}

/** A message that arrived through the gateway, in the shape the bot's logic reads. */
export interface ChatMessage extends IncomingMessage {
  /** The message's snowflake id, for replies. */
  id: string;
  /** The channel (or DM) it was posted in. */
  channelId: string;
  /** The name people see: guild nickname, else global display name, else username. */
  authorName: string;
  /** The files on the message, as Discord described them; absent or empty when none. */
  attachments?: Attachment[];
  /** The message this one replies to, when Discord embedded it in the event. */
  replyTo?: ReferencedMessage;
  /**
   * The message this one replies to, by id, when Discord did not embed it (`referenced_message`
   * absent): fetch it to read it. Absent when it was embedded, or deleted (sent as null).
   */
  replyReference?: { channelId: string; messageId: string };
  /**
   * What this message forwards, from `message_snapshots[0].message`: a forward's own `content`
   * is empty. Absent when it is not a forward.
   */
  forwarded?: ForwardedMessage;
}

/** The copy of a forwarded message a forward carries: no author, its text and files. */
export interface ForwardedMessage {
  /** Its text; empty when it has only attachments or embeds. */
  content: string;
  /** Its files, under the same rules and limits as any message's. */
  attachments: Attachment[];
}

/** A message replied to: who wrote it, what it says, what it carries. */
export interface ReferencedMessage {
  /** Its snowflake id. */
  id: string;
  /** Its author's user id. */
  authorId: string;
  /** The name people see for its author. */
  authorName: string;
  /** Its text; empty when it has only attachments or embeds. */
  content: string;
  /** Its files. */
  attachments: Attachment[];
  /** The channel it is in, when the payload said. */
  channelId?: string;
  /** True when it is itself a forward: `content` and `attachments` are the forwarded message's. */
  forwarded?: boolean;
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
  /** The values given, by option name (a subcommand's own options, when it has one). */
  options: Record<string, string | number | boolean>;
  /** The subcommand used, such as `persona` in `/settings persona`; absent when none. */
  subcommand?: string;
  /**
   * The member's permissions in the channel, a bit set as a string of digits (Discord's
   * `member.permissions`); absent in a DM or when Discord sent none.
   */
  memberPermissions?: string;
  /**
   * The server of each channel given as an option, by channel id, as Discord resolved it
   * (`data.resolved.channels[id].guild_id`); a channel Discord did not resolve is absent.
   */
  channelGuilds?: Record<string, string | undefined>;
}

/** A press of a button on one of the bot's messages (an INTERACTION_CREATE of type 3). */
export interface ComponentPress {
  /** The interaction's id, needed for its first response. */
  id: string;
  /** The interaction token, valid for 15 minutes of replies and follow-ups. */
  token: string;
  /** The button's `custom_id`, as the bot set it; at most 100 characters. */
  customId: string;
  /** The message the button is on. */
  messageId?: string;
  /** The channel of that message; absent when the payload named no valid channel. */
  channelId?: string;
  /** Absent in a DM. */
  guildId?: string;
  /** The user who pressed it; empty when Discord sent none. */
  userId: string;
  /** The member's permissions in the channel, as for {@link SlashCommand.memberPermissions}. */
  memberPermissions?: string;
}

/** A payload turned into the bot's shape, or the reason it was refused. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Type 2 is APPLICATION_COMMAND; pings and modals are not ours. */
const APPLICATION_COMMAND = 2;
/** Type 3 is MESSAGE_COMPONENT: a button pressed. */
const MESSAGE_COMPONENT = 3;
/** Option types that nest options: SUB_COMMAND and SUB_COMMAND_GROUP. */
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;

/**
 * Reads a MESSAGE_CREATE's `d`. `botRoleIn` names the bot's managed role in a guild, if known.
 * Refused when an id the bot may put in a URL (message, channel, guild, author) is not a snowflake.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const d = {
 *   id: "1600000000000000001",
 *   channel_id: "../../users/@me",
 *   author: { id: "1200000000000000001", username: "u" },
 *   content: "hi",
 * };
 * strictEqual(chatMessageFrom(d, () => undefined).ok, false);
 * ```
 */
export function chatMessageFrom(
  payload: Payload,
  botRoleIn: (guildId: string) => string | undefined,
): Parsed<ChatMessage> {
  const d = payload as MessagePayload;
  const { id, channel_id: channelId, guild_id: guildId, author = {} } = d;
  const authorId = author.id;
  // A guild id that is present but malformed must not turn a guild message into a "DM".
  const guildIdOk = guildId === undefined || isSnowflake(guildId);
  if (!isSnowflake(id) || !isSnowflake(channelId) || !isSnowflake(authorId) || !guildIdOk) {
    const malformed = [
      isSnowflake(id) ? undefined : "id",
      isSnowflake(channelId) ? undefined : "channel_id",
      guildIdOk ? undefined : "guild_id",
      isSnowflake(authorId) ? undefined : "author.id",
    ].filter((field) => field !== undefined);
    return { ok: false, reason: `${malformed.join(", ")} not a Discord id` };
  }
  const inGuild = isSnowflake(guildId) ? guildId : undefined;
  const referencedAuthor = d.referenced_message?.author?.id;
  const replyTo = d.referenced_message ? referencedMessageFrom(d.referenced_message) : undefined;
  const reference = d.message_reference;
  // Type 0 (or none) is a reply; 1 is a forward, whose message is not the one replied to.
  const isReply = reference !== undefined && (reference.type ?? 0) === 0;
  const replyReference = isReply && d.referenced_message === undefined &&
      isSnowflake(reference.message_id) && isSnowflake(reference.channel_id ?? channelId)
    ? { channelId: (reference.channel_id ?? channelId) as string, messageId: reference.message_id }
    : undefined;
  const attachments = attachmentsFrom(d.attachments);
  const forwarded = forwardedIn(d);
  return {
    ok: true,
    value: {
      id,
      channelId,
      guildId: inGuild,
      content: textOr(d.content, ""),
      authorId,
      authorName: textOr(d.member?.nick, "") || textOr(author.global_name, "") ||
        textOr(author.username, ""),
      authorIsBot: author.bot === true || author.system === true,
      webhookId: typeof d.webhook_id === "string" ? d.webhook_id : undefined,
      // An unknown type is never one people type, so the bot does not answer it.
      type: typeof d.type === "number" ? d.type : -1,
      mentionedUserIds: listOf(d.mentions).map((u) => (u as { id?: unknown })?.id)
        .filter(isSnowflake),
      mentionedRoleIds: listOf(d.mention_roles).filter(isSnowflake),
      botRoleId: inGuild === undefined ? undefined : botRoleIn(inGuild),
      mentionsEveryone: d.mention_everyone === true,
      replyToAuthorId: isSnowflake(referencedAuthor) ? referencedAuthor : undefined,
      ...(attachments.length > 0 ? { attachments } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(replyReference ? { replyReference } : {}),
      ...(forwarded ? { forwarded } : {}),
    },
  };
}

/**
 * The message a forward carries (`message_snapshots[0].message`), or undefined when `d` is not
 * a forward.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const d = { message_reference: { type: 1 }, message_snapshots: [{ message: { content: "hi" } }] };
 * deepStrictEqual(forwardedIn(d), { content: "hi", attachments: [] });
 * ```
 */
export function forwardedIn(payload: unknown): ForwardedMessage | undefined {
  const d = (payload ?? {}) as MessagePayload;
  const snapshot = listOf(d.message_snapshots)[0] as { message?: MessagePayload } | undefined;
  const message = snapshot?.message;
  if (typeof message !== "object" || message === null) return undefined;
  return {
    content: textOr(message.content, ""),
    attachments: attachmentsFrom(message.attachments),
  };
}

/**
 * Reads a message replied to: a MESSAGE_CREATE's `referenced_message`, or the body of
 * `GET /channels/{id}/messages/{id}`. Undefined when its id or its author's is not a snowflake.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const d = { id: "1600000000000000001", author: { id: "1200000000000000001", username: "u" } };
 * strictEqual(referencedMessageFrom(d)?.authorName, "u");
 * ```
 */
export function referencedMessageFrom(payload: unknown): ReferencedMessage | undefined {
  const d = (payload ?? {}) as MessagePayload;
  const author = d.author ?? {};
  if (!isSnowflake(d.id) || !isSnowflake(author.id)) return undefined;
  // A reply to a forward: what it says is in the snapshot, its own content being empty.
  const forwarded = forwardedIn(d);
  const own = attachmentsFrom(d.attachments);
  return {
    id: d.id,
    authorId: author.id,
    authorName: textOr(d.member?.nick, "") || textOr(author.global_name, "") ||
      textOr(author.username, ""),
    content: [textOr(d.content, ""), forwarded?.content ?? ""].filter((t) => t !== "").join("\n"),
    attachments: [...own, ...(forwarded?.attachments ?? [])],
    ...(isSnowflake(d.channel_id) ? { channelId: d.channel_id } : {}),
    ...(forwarded ? { forwarded: true } : {}),
  };
}

/**
 * The well-formed entries of an `attachments` array: a snowflake id, a file name, a size and a
 * URL. Others are left out. Whatever the URL (another host, `ftp:`, not a URL at all), the file is
 * kept: the fetch refuses it by name, so a reply to the bot that brings only such a file is told
 * so, as a mention is, rather than answered as if it brought nothing.
 */
function attachmentsFrom(value: unknown): Attachment[] {
  const attachments: Attachment[] = [];
  for (const item of listOf(value)) {
    const a = (item ?? {}) as Record<string, unknown>;
    const { id, filename, size, url, content_type: contentType } = a;
    const isSize = typeof size === "number" && Number.isSafeInteger(size) && size >= 0;
    const isUrl = typeof url === "string" && url.length > 0;
    if (!isSnowflake(id) || typeof filename !== "string" || !filename || !isSize || !isUrl) {
      continue;
    }
    attachments.push({
      id,
      filename,
      size,
      url,
      ...(typeof contentType === "string" ? { contentType } : {}),
    });
  }
  return attachments;
}

/**
 * Reads an INTERACTION_CREATE's `d`: undefined for what is not an application command, refused
 * when its id or token cannot go into a URL (then it cannot be answered at all). A command
 * without a valid channel id is still returned, so that it can be answered.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const d = { id: "1700000000000000001", token: "a/../b", type: 2 };
 * strictEqual(slashCommandFrom(d)?.ok, false);
 * ```
 */
export function slashCommandFrom(payload: Payload): Parsed<SlashCommand> | undefined {
  const d = payload as InteractionPayload;
  if (d.type !== APPLICATION_COMMAND) return undefined;
  if (!isSnowflake(d.id)) return { ok: false, reason: "id not a Discord id" };
  if (!isUrlSafeToken(d.token)) return { ok: false, reason: "token not URL-safe" };
  // A subcommand arrives as the one option of type 1 (inside a group, of type 2), its own
  // options nested in it.
  let given = listOf(d.data?.options);
  let subcommand: string | undefined;
  for (let depth = 0; depth < 2; depth++) {
    const nested = (given[0] ?? {}) as { type?: unknown; name?: unknown; options?: unknown };
    if (nested.type !== SUB_COMMAND && nested.type !== SUB_COMMAND_GROUP) break;
    if (typeof nested.name === "string") {
      subcommand = subcommand === undefined ? nested.name : `${subcommand} ${nested.name}`;
    }
    given = listOf(nested.options);
  }
  const options: Record<string, string | number | boolean> = {};
  for (const option of given) {
    const { name, value } = (option ?? {}) as { name?: unknown; value?: unknown };
    const isValue = typeof value === "string" || typeof value === "number" ||
      typeof value === "boolean";
    if (typeof name === "string" && isValue) options[name] = value;
  }
  const userId = d.member?.user?.id ?? d.user?.id;
  const permissions = d.member?.permissions;
  const channelGuilds = resolvedChannelGuilds(d.data?.resolved);
  return {
    ok: true,
    value: {
      id: d.id,
      token: d.token,
      name: textOr(d.data?.name, ""),
      channelId: isSnowflake(d.channel_id) ? d.channel_id : undefined,
      guildId: isSnowflake(d.guild_id) ? d.guild_id : undefined,
      userId: isSnowflake(userId) ? userId : "",
      options,
      ...(subcommand === undefined ? {} : { subcommand }),
      ...(typeof permissions === "string" && /^\d{1,20}$/.test(permissions)
        ? { memberPermissions: permissions }
        : {}),
      ...(channelGuilds ? { channelGuilds } : {}),
    },
  };
}

/**
 * Reads an INTERACTION_CREATE's `d` as a button press: undefined for any other interaction,
 * refused when its id or token cannot go into a URL.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const d = { id: "1700000000000000001", token: "t", type: 3, data: { custom_id: "stop:1:2" } };
 * const parsed = componentPressFrom(d);
 * strictEqual(parsed?.ok && parsed.value.customId, "stop:1:2");
 * ```
 */
export function componentPressFrom(payload: Payload): Parsed<ComponentPress> | undefined {
  const d = payload as InteractionPayload;
  if (d.type !== MESSAGE_COMPONENT) return undefined;
  if (!isSnowflake(d.id)) return { ok: false, reason: "id not a Discord id" };
  if (!isUrlSafeToken(d.token)) return { ok: false, reason: "token not URL-safe" };
  const userId = d.member?.user?.id ?? d.user?.id;
  const permissions = d.member?.permissions;
  const messageId = d.message?.id;
  return {
    ok: true,
    value: {
      id: d.id,
      token: d.token,
      customId: textOr(d.data?.custom_id, "").slice(0, 100),
      ...(isSnowflake(messageId) ? { messageId } : {}),
      ...(isSnowflake(d.channel_id) ? { channelId: d.channel_id } : {}),
      ...(isSnowflake(d.guild_id) ? { guildId: d.guild_id } : {}),
      userId: isSnowflake(userId) ? userId : "",
      ...(typeof permissions === "string" && /^\d{1,20}$/.test(permissions)
        ? { memberPermissions: permissions }
        : {}),
    },
  };
}

/** The server of each resolved channel, by id; undefined when none was resolved. */
function resolvedChannelGuilds(resolved: unknown): Record<string, string | undefined> | undefined {
  const channels = (resolved as { channels?: unknown } | undefined)?.channels;
  if (typeof channels !== "object" || channels === null) return undefined;
  const guilds: Record<string, string | undefined> = {};
  for (const [id, channel] of Object.entries(channels)) {
    if (!isSnowflake(id)) continue;
    const guildId = (channel as { guild_id?: unknown } | null)?.guild_id;
    guilds[id] = isSnowflake(guildId) ? guildId : undefined;
  }
  return guilds;
}

function textOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
