/**
 * When the bot answers a Discord message, and what it reads of it.
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
  /** True for @everyone or @here, which alone does not make the bot answer. */
  mentionsEveryone: boolean;
  /** The author of the message this one replies to. */
  replyToAuthorId?: string;
  /** Absent in a DM. */
  guildId?: string;
}

const DEFAULT_TYPE = 0;
const REPLY_TYPE = 19;

/**
 * True when a person addresses the bot: a direct mention, a reply to the bot's message, or a DM.
 *
 * Never for bots (the bot itself included), webhooks, system messages, or @everyone/@here alone.
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
  const mentionsBot = message.mentionedUserIds.includes(botId) ||
    mentionPattern(botId).test(message.content);
  const repliesToBot = message.replyToAuthorId === botId;
  return isDm || mentionsBot || repliesToBot;
}

/**
 * Removes every `<@botId>` and `<@!botId>` and tidies the whitespace around them, then trims.
 *
 * Whitespace away from a mention is kept, so code indentation and line breaks survive.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(stripMention("<@111>  오늘 <@!111> 날씨 어때?", "111"), "오늘 날씨 어때?");
 * ```
 */
export function stripMention(content: string, botId: string): string {
  const pattern = new RegExp(`(?:[ \\t]*${mentionPattern(botId).source})+[ \\t]*`, "g");
  return content.replace(pattern, (match, offset: number, whole: string) => {
    const atLineStart = offset === 0 || whole[offset - 1] === "\n";
    const end = offset + match.length;
    const atLineEnd = end === whole.length || whole[end] === "\n";
    return atLineStart || atLineEnd ? "" : " ";
  }).trim();
}

/** Matches one mention of `botId`, with or without the nickname `!`. */
function mentionPattern(botId: string): RegExp {
  const id = botId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`<@!?${id}>`);
}
