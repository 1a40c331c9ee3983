/**
 * The path of every Discord event. A message: the gate decides, then one flow answers (a fixed
 * reply, a summary or a chat turn), inside the message's own log context and `discord.message`
 * span. A slash command: answered within Discord's 3 s through {@linkcode answerCommand}.
 *
 * @module
 */
import type { ChatMessage, ComponentPress, DiscordPort, SlashCommand } from "../discord/mod.ts";
import type { Logger } from "../log.ts";
import { withLogContext } from "../log.ts";
import type { SettingsPort } from "../store/mod.ts";
import type { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { inSpan } from "../ops/mod.ts";
import { chatTurn, type ChatTurnDeps } from "./chat_turn.ts";
import { answerCommand } from "./command_reply.ts";
import { COMMAND_NAMES, type CommandDeps, handleCommand } from "./commands.ts";
import { gate } from "./gate.ts";
import type { RecentIds } from "./recent_ids.ts";
import { reply } from "./replies.ts";
import { answerStopPress, type RunningTurns } from "./stop_button.ts";
import { type SummaryDeps, summaryReply } from "./summary.ts";

/** What the route reads before it hands a message to a flow. */
export interface RouteDeps {
  /** The bot's own user id. */
  botId: string;
  /** True once shutdown has begun: people are told, not answered. */
  stopping(): boolean;
  /** The per-user limit the gate counts against. */
  limiter: SlidingWindowLimiter;
  /** Each server's settings: its `always` channels and whether summaries are on. */
  settings: Pick<SettingsPort, "forGuild">;
  /** Where a fixed reply is sent and a command answered. */
  discord: DiscordPort;
  /** Counts the messages that begin a chat turn. */
  metrics: { messageReceived(): void };
  /** The chat turns running in this process, which their stop buttons cancel. */
  turns: RunningTurns;
  /** What the flows cross, with `turnLog` as their logger. */
  flows(turnLog: Logger): ChatTurnDeps & SummaryDeps & CommandDeps;
  /** Epoch ms now. @default Date.now */
  now?: () => number;
  /**
   * Ids of the messages taken in lately. Discord may deliver a MESSAGE_CREATE twice: while the
   * first is answered (a second turn would wait forever for the window the first holds, its
   * typing renewed all the while) or after (a RESUME replays what followed the client's
   * sequence), so an id seen before is not routed again. @default none kept
   */
  messagesSeen?: Pick<RecentIds, "add">;
}

/** Gates `message` and lets one flow answer it, logging through `turnLog`. */
export async function routeMessage(
  message: ChatMessage,
  turnLog: Logger,
  deps: RouteDeps,
): Promise<void> {
  if (deps.messagesSeen?.add(message.id) === false) {
    turnLog.info("Message {id} delivered again: ignored, it was taken in before", {
      id: message.id,
    });
    return;
  }
  await routeOnce(message, turnLog, deps);
}

async function routeOnce(message: ChatMessage, turnLog: Logger, deps: RouteDeps): Promise<void> {
  const server = deps.settings.forGuild(message.guildId);
  const decision = gate(message, {
    botId: deps.botId,
    stopping: deps.stopping(),
    limiter: deps.limiter,
    now: (deps.now ?? Date.now)(),
    alwaysAnswer: server.alwaysChannels.has(message.channelId),
    summariesOff: !server.summaries,
  });
  switch (decision.action) {
    case "ignore":
      return;
    case "reply":
      return void await reply(deps.discord, turnLog, message, decision.text);
    case "summary":
      return await summaryReply(message, decision.request, deps.flows(turnLog));
    case "chat":
      deps.metrics.messageReceived();
      return await chatTurn(message, decision.line, {
        ...deps.flows(turnLog),
        mentioned: decision.mentioned,
      });
  }
}

/**
 * Routes one Discord message under a fresh request id, in its log context and trace span. Never
 * rejects: a failure is logged with the message's ids.
 */
export async function handleMessage(
  message: ChatMessage,
  logger: Logger,
  deps: RouteDeps,
): Promise<void> {
  const context = { channelId: message.channelId, requestId: crypto.randomUUID().slice(0, 8) };
  const attributes = {
    "discord.channel_id": message.channelId,
    "soyebot.request_id": context.requestId,
  };
  // The broker calls a turn's callbacks while it serves another turn: the turn's own logger
  // names its ids explicitly; the context is for the libraries' lines.
  const turnLog = logger.with(context);
  await inSpan(
    "discord.message",
    attributes,
    () => withLogContext(context, () => routeMessage(message, turnLog, deps)),
  )
    .catch((error) =>
      logger.error("Message handling failed: {error}", { ...context, error: String(error) })
    );
}

/** Answers one slash command; never rejects: a failure is logged with the command's name. */
export async function handleCommandEvent(
  command: SlashCommand,
  logger: Logger,
  deps: Pick<RouteDeps, "discord" | "flows">,
): Promise<void> {
  const commandLog = logger.with({ channelId: command.channelId, name: command.name });
  await answerCommand(
    command,
    deps.discord,
    (c, r) => handleCommand(c, r, deps.flows(commandLog)),
    {
      commands: COMMAND_NAMES,
      onError: (error) =>
        commandLog.error("Command {name} failed: {error}", { error: String(error) }),
    },
  );
}

/** Answers one button press (the stop button); never rejects. */
export async function handleComponentEvent(
  press: ComponentPress,
  logger: Logger,
  deps: Pick<RouteDeps, "discord" | "turns">,
): Promise<void> {
  const pressLog = logger.with({ channelId: press.channelId });
  await answerStopPress(press, { discord: deps.discord, turns: deps.turns, logger: pressLog });
}
