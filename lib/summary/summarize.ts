/**
 * A channel summary, from a request to the text to post: the messages it covers, one Gemini call
 * with the summariser's instruction, and a header saying what was summarised.
 *
 * @module
 */
import type { BrokerRequest, BrokerResult } from "../broker/mod.ts";
import type { DiscordPort } from "../discord/mod.ts";
import { SUMMARY_INSTRUCTION } from "../text/prompts.ts";
import { failureText, text } from "../text/strings_ko.ts";
import { type SummaryCache, summaryCacheKey } from "./cache.ts";
import type { SummaryRequest } from "./request.ts";
import { buildTranscript, collectMessages } from "./source.ts";

/** Re-exported because {@link SummarizeOptions.generate} takes and returns them. */
export type { BrokerRequest, BrokerResult };

/** The most transcript characters sent for one summary; older lines are cut first. */
const SUMMARY_MAX_CHARS = 60_000;

/** Where {@linkcode summarize} reads and asks. */
export interface SummarizeOptions {
  /** Reads the channel's history. */
  discord: Pick<DiscordPort, "getMessages">;
  /** Asks Gemini (the broker). */
  generate(request: BrokerRequest): Promise<BrokerResult>;
  /** The most messages read (SUMMARY_MAX_MESSAGES). */
  maxMessages: number;
  /** The command's own message, left out of the summary. */
  excludeId?: string;
  /** Told while the call waits for quota, as {@linkcode BrokerRequest.onWait} is. */
  onWait?(startsAt: number | undefined): void;
  /** The present, in epoch ms: where a summary with no end message stops. @default Date.now() */
  now?: number;
  /** Summaries made recently: the same range again is answered from here. @default none */
  cache?: SummaryCache;
}

/**
 * Writes a summary of `channelId`: the header and the bullets, or a short notice when there is
 * nothing to summarise or Gemini gave no answer. Discord's errors are thrown.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { text } from "../text/strings_ko.ts";
 * const discord = { getMessages: () => Promise.resolve([]) };
 * const generate = () => Promise.reject(new Error("not asked"));
 * const reply = await summarize("42", { kind: "recent", minutes: 30 }, {
 *   discord,
 *   generate,
 *   maxMessages: 300,
 * });
 * strictEqual(reply, text.summaryNothing);
 * ```
 */
export async function summarize(
  channelId: string,
  request: SummaryRequest,
  options: SummarizeOptions,
): Promise<string> {
  const now = options.now ?? Date.now();
  const messages = await collectMessages(options.discord, channelId, request, {
    now,
    max: options.maxMessages,
    excludeId: options.excludeId,
  });
  if (messages.length === 0) return text.summaryNothing;
  // The same messages asked for again within a few minutes: the summary made then, said so.
  // An edit changes what there is to summarise: the newest edit is part of the key.
  const edits = messages.flatMap((m) => m.editedAt === undefined ? [] : [m.editedAt]);
  const newestEdit = edits.length > 0 ? Math.max(...edits) : undefined;
  const key = summaryCacheKey(request, messages.at(-1)!.id, messages.length, newestEdit);
  const cached = await options.cache?.get(channelId, key, now);
  if (cached) {
    return `${cached.text}\n${text.summaryCached(Math.floor((now - cached.at) / 60_000))}`;
  }
  const { transcript, included } = buildTranscript(messages, SUMMARY_MAX_CHARS);
  const result = await options.generate({
    priority: "summary",
    systemInstruction: SUMMARY_INSTRUCTION,
    contents: [{ role: "user", parts: [{ text: transcript }] }],
    onWait: options.onWait,
  });
  const answered = result.ok && result.text.trim().length > 0;
  if (!answered) return failureText(result, text.summaryFailed);
  const header = request.kind === "recent"
    ? text.summaryHeaderRecent(request.minutes, included)
    : text.summaryHeaderRange(text.summaryRange(request), included);
  const summary = `${header}\n${result.text.trim()}`;
  await options.cache?.set(channelId, key, { text: summary, at: now });
  return summary;
}
