/**
 * One chat turn, top to bottom: gather (files and the message replied to), begin (the channel's
 * session lends its window and holds the channel's next turn), generate (the broker), show
 * (stream into Discord), commit (the session records what the user saw), and, when the commit
 * asks for it, fold (the exchanges that left the window go into the channel's memory). Each step
 * is a call with a result; nothing finds its way back through a table.
 *
 * This is the one place a failed turn becomes words for the user: every path ends with the
 * answer, a notice, or a log line saying why neither could be shown.
 *
 * @module
 */
import type { BrokerRequest, BrokerResult, ModelPart } from "../broker/mod.ts";
import type { ChatMessage, DiscordPort } from "../discord/mod.ts";
import type { Logger } from "../log.ts";
import { ReplyStream } from "../reply/mod.ts";
import { sourcesLine } from "../gemini/mod.ts";
import type { CommitResult, SessionsPort } from "../sessions/mod.ts";
import { cutShortText, deliveryFailureText, emptyAnswerText, text } from "../text/strings_ko.ts";
import { stopButtonRow, type StoppableTurns } from "./stop_button.ts";
import { inSpan } from "../ops/mod.ts";
import { foldMemory } from "./fold.ts";
import { countdownIn, reply, waitOn } from "./replies.ts";
import { type Gathered, turnFailureText, withTurnParts } from "./turn_input.ts";
import { startTyping } from "./typing.ts";
import type { DayNotices } from "./day_notices.ts";

/** What a chat turn crosses. */
export interface ChatTurnDeps {
  /** The session layer: begin a turn, commit what was shown, take a fold's result. */
  sessions: Pick<SessionsPort, "begin" | "remember">;
  /** Asks Gemini through the broker; never rejects. */
  generate(request: BrokerRequest): Promise<BrokerResult>;
  /** Where the answer is shown. */
  discord: DiscordPort;
  /** Latency figures for metrics and `/status`. */
  metrics: {
    firstText(ms: number): void;
    replyDone(ms: number, outcome: "ok" | "failed"): void;
  };
  /** The turn's logger; the caller's log context carries its ids. */
  logger: Logger;
  /**
   * The persona of the message's server (`/settings persona`), read at each turn so a change
   * applies at once; undefined for the bot's default one. @default none: always the default
   */
  personaFor?(guildId: string | undefined): string | undefined;
  /** Epoch ms now. @default Date.now */
  now?: () => number;
  /**
   * Gathers the reply context and the files (`gatherTurnInput`), before the turn begins.
   * @default the line as it is, with nothing added
   */
  gather?(message: ChatMessage, line: string): Promise<Gathered>;
  /**
   * Where the turn says it runs, so its stop button ("그만") can cancel it; without it, answers
   * carry no button. @default none
   */
  turns?: StoppableTurns;
  /**
   * Whether answers in this server (undefined: a DM) may search Google (`GEMINI_SEARCH` and
   * `/settings search`). @default none: never
   */
  searchFor?(guildId: string | undefined): boolean;
  /**
   * Whether the message mentioned or replied to the bot (not only spoke in an always-answer
   * channel). @default true
   */
  mentioned?: boolean;
  /** Which channels were told today's budget is spent. @default none: told every time */
  dayNotices?: DayNotices;
}

/**
 * Answers `line` from `message` in its channel's conversation.
 *
 * @example
 * ```ts ignore
 * await chatTurn(message, "민수: 안녕", { sessions, generate, discord, metrics, logger });
 * ```
 */
export async function chatTurn(
  message: ChatMessage,
  line: string,
  deps: ChatTurnDeps,
): Promise<void> {
  const { discord, logger } = deps;
  const now = deps.now ?? Date.now;
  const receivedAt = now();
  const { channelId, id } = message;
  const typing = startTyping(discord, channelId, {
    onError: (error) => logger.debug("Typing failed: {error}", { error: String(error) }),
  });

  // Gather: files and the message replied to, fetched before the channel's session is held.
  const gathered = deps.gather
    ? await deps.gather(message, line)
    : { ok: true as const, input: { line, parts: [] } };
  if (!gathered.ok) {
    typing.stop();
    await reply(discord, logger, message, gathered.text);
    return;
  }
  const { input } = gathered;

  // Begin: the session lends its window; the channel's next turn waits for our commit.
  const begun = await deps.sessions.begin(channelId, id, input.line);
  if (!begun.ok) {
    input.release?.();
    typing.stop();
    logger.warn("Turn not begun: {error}", { channelId, error: begun.error });
    await reply(discord, logger, message, deliveryFailureText(begun.error));
    return;
  }

  const countdown = countdownIn(discord, logger, channelId, id);
  // The stop button cancels the Gemini call through this; what streamed stays, marked.
  const stop = new AbortController();
  const stoppable = deps.turns?.add(id, stop, { channelId, askerId: message.authorId });
  const stream = new ReplyStream({
    discord,
    channelId,
    replyTo: id,
    onError: (error) => logger.warn("Reply edit failed: {error}", { error: String(error) }),
    // The ⏳ message goes before the answer appears, never after it.
    beforeFirstText: () => countdown.clear(),
    onFirstText: () => {
      typing.stop();
      deps.metrics.firstText(now() - receivedAt);
    },
    ...(stoppable ? { components: stopButtonRow(id, message.authorId) } : {}),
  });
  let shown: string | undefined;
  let parts: ModelPart[] | undefined;
  let committed: CommitResult;
  const persona = deps.personaFor?.(message.guildId);
  const search = deps.searchFor?.(message.guildId) === true;
  try {
    // Generate, showing the answer as it streams.
    const result = await deps.generate({
      priority: "chat",
      // The files' bytes go into this request only; the window keeps their notes.
      contents: withTurnParts(begun.lease.contents, input.parts),
      ...(persona === undefined ? {} : { systemInstruction: persona }),
      ...(search ? { googleSearch: true } : {}),
      onText: (soFar) => {
        // Text to post: typing now would spend a request on an answer about to show.
        typing.stop();
        stream.update(soFar);
      },
      onWait: waitOn(countdown),
      signal: stop.signal,
    });
    // The files' bytes are no longer needed: other turns may take their room.
    input.release?.();
    stoppable?.();
    typing.stop();
    await countdown.clear();

    // Show: the whole answer, or a notice under whatever streamed ("(중단됨)" when stopped); a
    // spent day is said once a day in a channel, and after that only to those who mention the bot.
    const answered = result.ok && result.text.trim().length > 0;
    const stopped = !result.ok && result.reason === "cancelled";
    const quiet = !result.ok && result.reason === "day_quota" && deps.dayNotices !== undefined &&
      !deps.dayNotices.shouldTell(channelId, { mentioned: deps.mentioned ?? true }, now());
    if (quiet) logger.info("Today's budget is spent; the channel was told already");
    // Under the answer: why it was cut short, and the pages a grounded answer rests on.
    const under = result.ok
      ? [
        cutShortText(result.finishReason),
        sourcesLine(result.grounding?.sources ?? [], text.sourcesLabel),
      ].filter((line) => line).join("\n")
      : "";
    const shownWhole = quiet ? false : await inSpan(
      "discord.send",
      { "discord.channel_id": channelId },
      () =>
        answered ? stream.finish(result.text, { notice: under || undefined }) : stream.fail(
          result.ok ? emptyAnswerText(result.finishReason) : turnFailureText(result, input.files),
        ),
    );
    deps.metrics.replyDone(now() - receivedAt, answered || stopped ? "ok" : "failed");
    // Commit keeps what the user saw: less than the answer when Discord refused part of it, the
    // part that streamed when it was stopped (its mark left out).
    const seen = stream.shownText;
    if ((answered || stopped) && seen.trim()) shown = seen;
    // The whole answer seen as the model wrote it (no fence closed for it; a notice or sources
    // under it aside): its turn goes back to Gemini as it came, signatures and a grounded
    // answer's search call and response included.
    const seenAsWritten = shown !== undefined && result.ok &&
      shown.trimEnd() === result.text.trimEnd();
    if (answered && shownWhole && seenAsWritten) parts = result.parts;
    if (!stream.started && !quiet) {
      logger.error("Neither the answer nor a notice reached the channel");
    }
  } catch (error) {
    // A bug, not a fault the broker already turned into a result: say so rather than go quiet.
    logger.error("Reply failed: {error}", { channelId, error: String(error) });
    if (!stream.started) await reply(discord, logger, message, text.crashed);
  } finally {
    input.release?.();
    stoppable?.();
    typing.stop();
    await countdown.clear();
    // Commit: the session records what the user saw, and takes the channel's next turn.
    committed = await begun.lease.commit(shown, parts);
    if (!committed.ok) {
      logger.error("Exchange not recorded: {error}", { channelId, error: committed.error });
    } else if (committed.unsaved) {
      await reply(discord, logger, message, text.unsaved);
    }
  }

  // Fold: after the answer is shown and the commit let the channel's next turn go, so it delays
  // neither; awaited, so the turn ends (and its tests and shutdown see it) with the fold done.
  if (committed.ok && committed.fold) await foldMemory(channelId, committed.fold, deps);
}
