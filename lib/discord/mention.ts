/**
 * When the bot answers a Discord message, and what it reads of it.
 *
 * A mention counts, and is stripped, only outside code: `<@bot>` inside a user's code block is
 * part of the code the model should see, and Discord does not ping from inside code either.
 *
 * @module
 */

/** The parts of a Discord message that decide whether the bot answers. */
export interface IncomingMessage {
  /** The text as typed, mentions included as `<@id>`. */
  content: string;
  /** The author's user id. */
  authorId: string;
  /** True for bots and Discord's system user; the bot never answers them. */
  authorIsBot: boolean;
  /** Set when a webhook posted the message; the bot never answers those. */
  webhookId?: string;
  /** 0 DEFAULT and 19 REPLY are what people type; other types are system messages. */
  type: number;
  /** Users the message mentions, by id. */
  mentionedUserIds: string[];
  /** Roles the message mentions, by id. */
  mentionedRoleIds: string[];
  /**
   * The bot's managed role in this message's guild (the role Discord made for it), when known.
   * Mentioning it is a common slip for mentioning the bot, and counts as addressing it.
   */
  botRoleId?: string;
  /** True for @everyone or @here, which alone does not make the bot answer. */
  mentionsEveryone: boolean;
  /** The author of the message this one replies to. */
  replyToAuthorId?: string;
  /** Absent in a DM. */
  guildId?: string;
}

/** Options for {@linkcode stripMention}. */
export interface StripMentionOptions {
  /** The bot's managed role in the guild; its `<@&id>` mentions are stripped too. */
  roleId?: string;
}

const DEFAULT_TYPE = 0;
const REPLY_TYPE = 19;

/**
 * True when a person addresses the bot: a direct mention (of the bot or of its managed role), a
 * reply to the bot's message, or a DM.
 *
 * Never for bots (the bot itself included), webhooks, system messages, or @everyone/@here alone.
 * A mention written inside code does not count.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const message = {
 *   content: "<@111> 안녕",
 *   authorId: "222",
 *   authorIsBot: false,
 *   type: 0,
 *   mentionedUserIds: ["111"],
 *   mentionedRoleIds: [],
 *   mentionsEveryone: false,
 *   guildId: "333",
 * };
 * strictEqual(shouldAnswer(message, "111"), true);
 * ```
 */
export function shouldAnswer(message: IncomingMessage, botId: string): boolean {
  const isPerson = !message.authorIsBot && message.webhookId === undefined &&
    message.authorId !== botId;
  const isTyped = message.type === DEFAULT_TYPE || message.type === REPLY_TYPE;
  if (!isPerson || !isTyped) return false;
  const isDm = message.guildId === undefined;
  const roleId = message.botRoleId;
  const mentionsBot = message.mentionedUserIds.includes(botId) ||
    (roleId !== undefined && message.mentionedRoleIds.includes(roleId)) ||
    mentionsOutsideCode(message.content, mentionPattern(botId, roleId));
  const repliesToBot = message.replyToAuthorId === botId;
  return isDm || mentionsBot || repliesToBot;
}

/**
 * Removes the mentions that address the bot (`<@botId>`, `<@!botId>`, and `<@&roleId>` for its
 * managed role) outside code, tidies the whitespace around them, then trims.
 *
 * Whitespace away from a mention is kept, so code indentation and line breaks survive; mentions
 * inside code spans and blocks are the user's text and stay.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(stripMention("<@111>  오늘 <@!111> 날씨 어때?", "111"), "오늘 날씨 어때?");
 * strictEqual(stripMention("<@&5> 봐줘 `<@111>`", "111", { roleId: "5" }), "봐줘 `<@111>`");
 * ```
 */
export function stripMention(
  content: string,
  botId: string,
  options: StripMentionOptions = {},
): string {
  const mention = mentionPattern(botId, options.roleId).source;
  const pattern = new RegExp(`(?:[ \\t]*(?:${mention}))+[ \\t]*`, "g");
  const code = codeRanges(content);
  return content.replace(pattern, (match, offset: number, whole: string) => {
    // A match holds no backtick, so it lies wholly inside or wholly outside each code range.
    if (code.some(([start, end]) => offset >= start && offset < end)) return match;
    const atLineStart = offset === 0 || whole[offset - 1] === "\n";
    const end = offset + match.length;
    const atLineEnd = end === whole.length || whole[end] === "\n";
    return atLineStart || atLineEnd ? "" : " ";
  }).trim();
}

/**
 * The [start, end) ranges of Discord's code: fenced blocks (```), then inline spans of one or two
 * backticks. An unclosed fence or span is plain text, as Discord shows it.
 */
function codeRanges(content: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (const match of content.matchAll(/```[\s\S]*?```|``[\s\S]+?``|`[^`]+`/g)) {
    ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

function mentionsOutsideCode(content: string, mention: RegExp): boolean {
  const code = codeRanges(content);
  const all = new RegExp(mention.source, "g");
  for (const match of content.matchAll(all)) {
    if (!code.some(([start, end]) => match.index >= start && match.index < end)) return true;
  }
  return false;
}

/** Matches one mention of `botId`, with or without the nickname `!`, or of its role. */
function mentionPattern(botId: string, roleId?: string): RegExp {
  const user = `<@!?${escape(botId)}>`;
  return new RegExp(roleId === undefined ? user : `${user}|<@&${escape(roleId)}>`);
}

function escape(id: string): string {
  return id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
