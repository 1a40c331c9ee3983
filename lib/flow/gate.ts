/**
 * The gate: what the bot does with a Discord message, decided before any work is done. Ignore
 * it, answer it with a fixed text, summarise the channel, or begin a chat turn.
 *
 * Pure but for the per-user limiter it is handed, so it is tested without a running bot.
 *
 * @module
 */
import { type ChatMessage, shouldAnswer, stripMention } from "../discord/mod.ts";
import type { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { text } from "../text/strings_ko.ts";
import { parseSummaryCommand, type SummaryRequest } from "../summary/mod.ts";

/** What to do with a message. */
export type GateDecision =
  | { action: "ignore" }
  /** Reply with `text` and do nothing else. */
  | { action: "reply"; text: string }
  | { action: "summary"; request: SummaryRequest }
  /**
   * Begin a chat turn with `line`: the author's name and what they said to the bot (possibly
   * nothing, when the message brings files or replies to one).
   */
  | { action: "chat"; line: string; mentioned: boolean };

/** What the gate reads besides the message. */
export interface GateContext {
  /** The bot's own user id. */
  botId: string;
  /** True once shutdown has begun: people are told, not answered. */
  stopping: boolean;
  /** The per-user limit; every command counts, a summary costs more than a chat turn. */
  limiter: SlidingWindowLimiter;
  /** Epoch ms now, for the limiter. */
  now: number;
  /** The channel is in `always` mode (`/settings channel`): every message is for the bot. */
  alwaysAnswer?: boolean;
  /** The server turned summaries off (`/settings summaries`): `!요약` is told so. */
  summariesOff?: boolean;
}

const IGNORE: GateDecision = { action: "ignore" };

/**
 * Decides what to do with `message`.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
 * const message = {
 *   id: "1", channelId: "2", guildId: "3", content: "<@9> 안녕", authorId: "4",
 *   authorName: "민수", authorIsBot: false, type: 0, mentionedUserIds: ["9"], mentionedRoleIds: [],
 *   mentionsEveryone: false,
 * };
 * const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 60_000 });
 * deepStrictEqual(gate(message, { botId: "9", stopping: false, limiter, now: 0 }), {
 *   action: "chat",
 *   line: "민수: 안녕",
 *   mentioned: true,
 * });
 * ```
 */
export function gate(message: ChatMessage, context: GateContext): GateDecision {
  const isFromPerson = !message.authorIsBot && !message.webhookId;
  const isTypedMessage = message.type === 0 || message.type === 19;
  if (!isFromPerson || !isTypedMessage) return IGNORE;
  const content = stripMention(message.content, context.botId, { roleId: message.botRoleId });
  const summary = parseSummaryCommand(content);
  const isHelp = content === text.textCommands.help;
  const isMentioned = shouldAnswer(message, context.botId);
  // In an `always` channel everything people say is for the bot, but a message with nothing to
  // answer (a sticker, a picture alone) is not worth "you called?".
  const saysSomething = content.length > 0 || message.forwarded !== undefined;
  const isAddressed = isMentioned || (context.alwaysAnswer === true && saysSomething);
  if (!summary && !isHelp && !isAddressed) return IGNORE;
  if (context.stopping) return { action: "reply", text: text.stopping };
  const limit = context.limiter.hit(message.authorId, context.now);
  if (!limit.allowed) {
    // Told once; further messages inside the window are ignored.
    if (!limit.firstRejection) return IGNORE;
    return { action: "reply", text: text.rateLimited(Math.ceil(limit.retryAfterMs / 1000)) };
  }
  if (summary && context.summariesOff) return { action: "reply", text: text.summariesOff };
  if (summary && !summary.ok) return { action: "reply", text: summary.error };
  if (summary) return { action: "summary", request: summary.request };
  if (isHelp) return { action: "reply", text: text.help };
  // A file, or a message replied to, is something to talk about even without words.
  // A forward (its text in the snapshot, its own content empty) is something said too.
  const hasContext = (message.attachments?.length ?? 0) > 0 || message.replyTo !== undefined ||
    message.replyReference !== undefined || message.forwarded !== undefined;
  if (content.length === 0 && !hasContext) return { action: "reply", text: text.emptyMention };
  return { action: "chat", line: `${message.authorName}: ${content}`, mentioned: isMentioned };
}
