/**
 * A channel summary, for `!요약` and `/summarize`: read the messages, ask the broker with a
 * ⏳ countdown while it waits for quota, and show the summary.
 *
 * @module
 */
import type { BrokerRequest, BrokerResult } from "../broker/mod.ts";
import type { ChatMessage, DiscordPort } from "../discord/mod.ts";
import type { Logger } from "../log.ts";
import { ReplyStream } from "../reply/mod.ts";
import { text } from "../text/strings_ko.ts";
import { summarize, type SummaryCache, type SummaryRequest } from "../summary/mod.ts";
import { countdownIn, waitOn } from "./replies.ts";
import { startTyping } from "./typing.ts";

/** What a summary crosses. */
export interface SummaryDeps {
  /** Reads the channel and shows the summary. */
  discord: DiscordPort;
  /** Asks Gemini through the broker; never rejects. */
  generate(request: BrokerRequest): Promise<BrokerResult>;
  /** The most messages read (SUMMARY_MAX_MESSAGES). */
  maxMessages: number;
  /** Where failures are logged. */
  logger: Logger;
  /** Summaries made in the last few minutes, answered again without Gemini. */
  summaryCache?: SummaryCache;
}

/**
 * A summary of `channelId`, with a ⏳ countdown while it waits for quota. Never throws: a failure
 * is logged and becomes a notice. `commandMessageId` is replied to and left out.
 */
export async function summaryText(
  channelId: string,
  request: SummaryRequest,
  deps: SummaryDeps,
  commandMessageId?: string,
): Promise<string> {
  const countdown = countdownIn(deps.discord, deps.logger, channelId, commandMessageId);
  try {
    return await summarize(channelId, request, {
      discord: deps.discord,
      generate: deps.generate,
      maxMessages: deps.maxMessages,
      excludeId: commandMessageId,
      onWait: waitOn(countdown),
      cache: deps.summaryCache,
    });
  } catch (error) {
    deps.logger.error("Summary failed: {error}", { error: String(error) });
    return text.summaryFailed;
  } finally {
    await countdown.clear();
  }
}

/** Answers a `!요약` message with the summary, as a reply to it. */
export async function summaryReply(
  message: ChatMessage,
  request: SummaryRequest,
  deps: SummaryDeps,
): Promise<void> {
  const typing = startTyping(deps.discord, message.channelId);
  const summary = await summaryText(message.channelId, request, deps, message.id);
  typing.stop();
  const stream = new ReplyStream({
    discord: deps.discord,
    channelId: message.channelId,
    replyTo: message.id,
    onError: (error) => deps.logger.warn("Summary post failed: {error}", { error: String(error) }),
  });
  await stream.finish(summary);
}
