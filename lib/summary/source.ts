/**
 * Where a summary's messages come from: paging a channel's history by time or message id, and
 * joining what was said into one transcript.
 *
 * @module
 */
import type { DiscordPort, HistoryMessage } from "../discord/mod.ts";
import { text as strings } from "../text/strings_ko.ts";
import { parseSummaryCommand, type SummaryRequest } from "./request.ts";

/** Discord's epoch, the zero of the timestamp inside every snowflake. */
const DISCORD_EPOCH = 1420070400000n;

/** The time (epoch ms) encoded in a Discord snowflake id. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** The smallest snowflake at a time: a `before`/`after` bound that means "this moment". */
export function snowflakeAt(ms: number): string {
  return String((BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH) << 22n);
}

/** The span a request covers, in epoch ms, and where paging starts. */
interface Span {
  from: number;
  to: number;
  /** Page forward from `after`, or backward from `before`. */
  direction: "forward" | "backward";
  cursor: string | undefined;
}

function spanOf(request: SummaryRequest, now: number): Span {
  switch (request.kind) {
    case "recent":
      return {
        from: now - request.minutes * 60_000,
        to: now,
        direction: "backward",
        cursor: undefined,
      };
    case "after": {
      const start = snowflakeTime(request.messageId);
      const to = request.minutes === undefined ? now : start + request.minutes * 60_000;
      return { from: start, to, direction: "forward", cursor: request.messageId };
    }
    case "before": {
      const end = snowflakeTime(request.messageId);
      return {
        from: end - request.minutes * 60_000,
        to: end,
        direction: "backward",
        cursor: request.messageId,
      };
    }
  }
}

/**
 * Fetches the human messages a summary covers, oldest first: up to `max` (the newest ones for
 * a span that ends now or before a message, the oldest ones for a span after a message), 100 a
 * page. Bots, empty messages and the bot's own commands (`!요약`, `!도움말`) are skipped.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const now = Date.now();
 * const said = { id: snowflakeAt(now - 60_000), authorId: "1", authorName: "민수", authorIsBot: false, content: "안녕", timestamp: now - 60_000 };
 * const discord = { getMessages: () => Promise.resolve([said]) };
 * const messages = await collectMessages(discord, "42", { kind: "recent", minutes: 30 }, { now, max: 300 });
 * strictEqual(messages.length, 1);
 * ```
 */
export async function collectMessages(
  discord: Pick<DiscordPort, "getMessages">,
  channelId: string,
  request: SummaryRequest,
  options: { now: number; max: number; excludeId?: string },
): Promise<HistoryMessage[]> {
  const span = spanOf(request, options.now);
  const kept: HistoryMessage[] = [];
  let cursor = span.cursor;
  // Bounded by pages as well as by `max`: a channel of bot chatter must not page forever.
  const maxPages = Math.ceil(options.max / 100) + 5;
  for (let page = 0; page < maxPages && kept.length < options.max; page++) {
    const query = span.direction === "forward"
      ? { after: cursor ?? snowflakeAt(span.from), limit: 100 }
      : { ...(cursor ? { before: cursor } : {}), limit: 100 };
    const batch = await discord.getMessages(channelId, query);
    if (batch.length === 0) break;
    // Discord pages newest first; walk in the direction of travel.
    const ordered = [...batch].sort((a, b) => compareIds(a.id, b.id));
    if (span.direction === "backward") ordered.reverse();
    let outOfSpan = false;
    for (const message of ordered) {
      const at = snowflakeTime(message.id);
      if (span.direction === "backward" ? at < span.from : at > span.to) {
        outOfSpan = true;
        break;
      }
      if (at > span.to || at < span.from) continue;
      const skip = message.authorIsBot || message.id === options.excludeId ||
        message.content.trim().length === 0 || isCommand(message.content);
      if (skip) continue;
      kept.push(message);
      if (kept.length >= options.max) break;
    }
    cursor = ordered[ordered.length - 1].id;
    if (outOfSpan || batch.length < 100) break;
  }
  return kept.sort((a, b) => compareIds(a.id, b.id));
}

/**
 * Joins messages into `name: content` lines, cutting from the oldest end to fit `maxChars`.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(buildTranscript([{ authorName: "민수", content: "안녕" }], 1000), {
 *   transcript: "민수: 안녕",
 *   included: 1,
 * });
 * ```
 */
export function buildTranscript(
  messages: readonly Pick<HistoryMessage, "authorName" | "content">[],
  maxChars: number,
): { transcript: string; included: number } {
  const lines = messages.map((m) => `${m.authorName}: ${m.content.replace(/\s*\n\s*/g, " ")}`);
  let total = 0;
  let start = lines.length;
  while (start > 0 && total + lines[start - 1].length + 1 <= maxChars) {
    start--;
    total += lines[start].length + 1;
  }
  return { transcript: lines.slice(start).join("\n"), included: lines.length - start };
}

/** The bot's own text commands, which say nothing worth summarising. */
function isCommand(content: string): boolean {
  const text = content.trim();
  return text === strings.textCommands.help || parseSummaryCommand(text) !== undefined;
}

function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
