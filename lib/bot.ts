/**
 * The bot: wires Discord, the supervisor with its session actors, and the Gemini broker, and
 * holds the path of a message through them.
 *
 *   Discord event ─▶ handleMessage ─▶ Supervisor ─▶ SessionActor (worker host)
 *                                                     │ asks for a reply
 *   Discord ◀── ReplyStream / Countdown ◀── answer ◀──┘ ─▶ GeminiBroker ─▶ Gemini
 *
 * This module is the one boundary where failures become a reply a user can read.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import { GeminiBroker } from "../actors/gemini_broker.ts";
import { type ReplyRequest, Supervisor } from "../actors/supervisor.ts";
import { logSupervisorEvent } from "../actors/supervisor_log.ts";
import type { Config } from "./config.ts";
import { Countdown } from "./countdown.ts";
import {
  type ChatMessage,
  type CommandDefinition,
  connectDiscord,
  type DiscordConnection,
  type SlashCommand,
} from "./discord.ts";
import { SdkGeminiClient } from "./gemini.ts";
import { serveOps, sqliteCheck } from "./http_server.ts";
import { log, recentProblems, withLogContext } from "./log.ts";
import { BotMetrics } from "./metrics.ts";
import { renderStatusPage } from "./status_page.ts";
import { GeminiTracing, inSpan } from "./tracing.ts";
import { shouldAnswer, stripMention } from "./mention.ts";
import { ReplyStream } from "./reply_stream.ts";
import { DATABASE_FILE } from "./store.ts";
import { deliveryFailureText, failureText, text } from "./strings_ko.ts";
import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { splitMessage } from "./split_message.ts";
import { summarize } from "./summarize.ts";
import {
  parseSummaryCommand,
  type SummaryParseResult,
  type SummaryRequest,
  summaryRequestFromOptions,
} from "./summary_request.ts";
import { MemoryTokenPool } from "./token_pool.ts";

/** Discord's typing indicator lasts about 10 s; renew it a little sooner. */
const TYPING_RENEW_MS = 8_000;

/** Slash commands, registered at start-up. */
export const COMMANDS: CommandDefinition[] = [
  {
    name: "summarize",
    description: "Summarise recent messages in this channel",
    name_localizations: { ko: text.commands.summarize.name },
    description_localizations: { ko: text.commands.summarize.description },
    options: [
      {
        type: 4,
        name: "minutes",
        description: "How many minutes back (default 30)",
        description_localizations: { ko: text.commands.summarize.minutes },
        min_value: 1,
        max_value: 1440,
      },
      {
        type: 3,
        name: "after",
        description: "Summarise from after this message id",
        description_localizations: { ko: text.commands.summarize.after },
      },
      {
        type: 3,
        name: "before",
        description: "Summarise up to this message id (needs minutes)",
        description_localizations: { ko: text.commands.summarize.before },
      },
    ],
  },
  {
    name: "reset",
    description: "Forget this channel's conversation",
    description_localizations: { ko: text.commands.reset },
  },
  {
    name: "help",
    description: "How to use SoyeBot",
    description_localizations: { ko: text.commands.help },
  },
  {
    name: "status",
    description: "Queue, quota and sessions",
    description_localizations: { ko: text.commands.status },
  },
];

/** Re-exported because {@link RunningBot} exposes them. */
export type { GeminiBroker, Supervisor };

/** A running bot. */
export interface RunningBot {
  /** Owns the session actors and the worker hosts they run on. */
  readonly supervisor: Supervisor;
  /** The one way to Gemini: queues calls and keeps every key within its quota. */
  readonly broker: GeminiBroker;
  /** The connected Discord adapter, for its gateway state and REST 429 count. */
  readonly discord: DiscordConnection;
  /** Stops taking messages, finishes or fails what is in flight, flushes the store, disconnects. */
  stop(): Promise<void>;
}

/** What the bot needs besides its configuration. */
export interface BotOptions {
  /** The system instruction every chat starts from: the built-in persona or `PERSONA_FILE`'s. */
  persona: string;
  /** Called when the bot can't go on (hosts dying too often, the gateway refused): exit. */
  onFatal(reason: string): void;
}

interface Turn {
  message: ChatMessage;
  receivedAt: number;
  shown: boolean;
  typing: Typing;
  /** Runs a function in this message's log and trace context, lost on the worker round trip. */
  resume: <R>(fn: () => R) => R;
}

/**
 * Starts the bot: opens the store through the hosts, connects to Discord, registers commands.
 *
 * @example
 * ```ts ignore
 * const bot = await startBot(loadConfig(Deno.env.toObject()), { persona: PERSONA, onFatal });
 * ```
 */
export async function startBot(config: Config, options: BotOptions): Promise<RunningBot> {
  const logger = log.getChild("bot");
  /** Logs a Discord or Gemini failure the bot survives. */
  const warnFailed = (what: string) => (error: unknown) =>
    logger.warn(`${what} failed: {error}`, { error: String(error) });
  await Deno.mkdir(config.dataDir, { recursive: true });
  const databasePath = join(config.dataDir, DATABASE_FILE);

  const prices = {
    input: config.priceInputPerMillion,
    output: config.priceOutputPerMillion,
    cached: config.priceCachedPerMillion,
  };
  const metrics = new BotMetrics({ prices });
  const tracing = new GeminiTracing();
  const brokerLog = log.getChild("broker");
  const pool = new MemoryTokenPool(config.geminiApiKeys, {
    rpm: config.geminiRpm,
    tpm: config.geminiTpm,
    rpd: config.geminiRpd,
  });
  const broker = new GeminiBroker({
    client: tracing.wrap(new SdkGeminiClient({ baseUrl: config.geminiApiUrl })),
    pool,
    model: config.geminiModel,
    systemInstruction: options.persona,
    maxConcurrency: config.geminiMaxConcurrency,
    timeoutMs: config.geminiTimeoutMs,
    thinkingBudget: config.geminiThinkingBudget,
    prices,
    onEvent: (event) => {
      metrics.brokerEvent(event);
      if (event.type === "call") brokerLog.debug("Gemini call done", event);
      else if (event.type === "cache_created") brokerLog.info("Persona cached", event);
      else brokerLog.warn(`Gemini ${event.type}`, event);
    },
  });
  // Check every key once at start, in the background: a refused key is named (by id) in the log
  // and taken out of use, and the persona's real size is measured.
  void broker.verifyKeys().then((checks) => {
    for (const check of checks) {
      if (check.ok) logger.info("Gemini key checked: {message}", { ...check });
      else logger.error("Gemini key failed its start-up check: {message}", { ...check });
    }
  }, warnFailed("Gemini key check"));

  const turns = new Map<string, Turn>();
  const limiter = new SlidingWindowLimiter({
    limit: config.userRateLimit,
    windowMs: config.userRateWindowMs,
  });
  // Forget users who went quiet, so the limiter's memory stays bounded by active users.
  const limiterSweep = setInterval(() => limiter.sweep(Date.now()), config.userRateWindowMs);
  Deno.unrefTimer(limiterSweep as unknown as number);
  let stopping = false;

  const supervisorLog = log.getChild("supervisor");
  const supervisor = new Supervisor({
    databasePath,
    hosts: config.sessionHosts,
    maxSessions: config.sessionMax,
    idleMs: config.sessionIdleMs,
    sweepMs: config.sessionSweepMs,
    onReply: (request) => answer(request),
    onGiveUp: (reason) => options.onFatal(reason),
    onEvent: (event) => logSupervisorEvent(supervisorLog, event),
  });

  async function handleMessage(message: ChatMessage): Promise<void> {
    const isFromHuman = !message.authorIsBot && !message.webhookId;
    const isUserMessage = message.type === 0 || message.type === 19;
    if (!isFromHuman || !isUserMessage) return;
    const content = stripMention(message.content, discord.botId);
    const summary = parseSummaryCommand(content);
    const isHelp = content === text.textCommands.help;
    if (!summary && !isHelp && !shouldAnswer(message, discord.botId)) return;
    if (stopping) return void await send(message, text.stopping);
    // Commands count against the limit too: a summary costs more than a chat turn.
    const overLimit = rateLimit(message.authorId);
    if (overLimit) {
      // Told once; further messages inside the window are ignored.
      if (overLimit.firstRejection) await send(message, overLimit.notice);
      return;
    }
    if (summary) return await handleSummaryCommand(message, summary);
    if (isHelp) return void await send(message, text.help);
    if (content.length === 0) return void await send(message, text.emptyMention);
    metrics.messageReceived();
    const turn: Turn = {
      message,
      receivedAt: Date.now(),
      shown: false,
      typing: startTyping(message.channelId),
      resume: AsyncLocalStorage.snapshot(),
    };
    turns.set(message.id, turn);
    try {
      const result = await supervisor.deliver({
        kind: "chat",
        id: message.id,
        channelId: message.channelId,
        text: `${message.authorName}: ${content}`,
      });
      if (result.ok && result.unsaved) await send(message, text.unsaved);
      // not_answered normally means the user was told why; if nothing reached them, say so now.
      if (result.ok || turn.shown) return;
      logger.warn("Message not answered: {error}", {
        channelId: message.channelId,
        error: result.error,
      });
      await send(message, deliveryFailureText(result.error));
    } finally {
      turn.typing.stop();
      turns.delete(message.id);
    }
  }

  /** Asked by a session actor: produce the answer, show it, and return the text shown. */
  async function answer(request: ReplyRequest): Promise<string | undefined> {
    const turn = turns.get(request.commandId);
    if (!turn) return undefined;
    try {
      return await turn.resume(() => answerTurn(turn, request));
    } catch (error) {
      // The one place a failed reply becomes words: log it and tell the user, never drop it.
      logger.error("Reply failed: {error}", {
        channelId: turn.message.channelId,
        error: String(error),
      });
      // Only a notice that reached the user counts as shown; else handleMessage tries again.
      if (!turn.shown) turn.shown = await send(turn.message, text.crashed);
      return undefined;
    }
  }

  async function answerTurn(turn: Turn, request: ReplyRequest): Promise<string | undefined> {
    const { channelId, id: replyTo } = turn.message;
    const countdown = startCountdown(channelId, replyTo);
    const stream = new ReplyStream({
      discord,
      channelId,
      replyTo,
      onError: warnFailed("Reply edit"),
      // The ⏳ message goes before the answer appears, never after it.
      beforeFirstText: () => countdown.clear(),
      onFirstText: () => {
        turn.typing.stop();
        metrics.firstText(Date.now() - turn.receivedAt);
      },
    });
    const result = await tracing.generate(broker, {
      priority: "chat",
      contents: request.contents,
      onText: (soFar) => stream.update(soFar),
      onWait: waitOn(countdown),
    });
    turn.typing.stop();
    await countdown.clear();
    const answered = result.ok && result.text.trim().length > 0;
    await inSpan(
      "discord.send",
      { "discord.channel_id": channelId },
      () => answered ? stream.finish(result.text) : stream.fail(failureText(result)),
    );
    metrics.replyDone(Date.now() - turn.receivedAt, answered ? "ok" : "failed");
    turn.shown = answered || stream.started;
    return answered ? result.text : undefined;
  }

  async function handleSummaryCommand(
    message: ChatMessage,
    parsed: SummaryParseResult,
  ): Promise<void> {
    if (!parsed.ok) return void await send(message, parsed.error);
    const typing = startTyping(message.channelId);
    const reply = await summaryReply(message.channelId, parsed.request, message.id);
    typing.stop();
    const stream = new ReplyStream({
      discord,
      channelId: message.channelId,
      replyTo: message.id,
      onError: warnFailed("Summary post"),
    });
    await stream.finish(reply);
  }

  /**
   * A summary of `channelId`, with a ⏳ countdown while it waits for quota. Never throws: a
   * failure is logged and becomes a notice. `commandMessageId` is replied to and left out.
   */
  async function summaryReply(
    channelId: string,
    request: SummaryRequest,
    commandMessageId?: string,
  ): Promise<string> {
    const countdown = startCountdown(channelId, commandMessageId);
    try {
      return await summarize(channelId, request, {
        discord,
        generate: (brokerRequest) => tracing.generate(broker, brokerRequest),
        maxMessages: config.summaryMaxMessages,
        excludeId: commandMessageId,
        onWait: waitOn(countdown),
      });
    } catch (error) {
      logger.error("Summary failed: {error}", { error: String(error) });
      return text.summaryFailed;
    } finally {
      await countdown.clear();
    }
  }

  async function handleCommand(command: SlashCommand): Promise<void> {
    try {
      switch (command.name) {
        case "help":
          return await discord.replyToInteraction(command.id, command.token, text.help);
        case "status":
          return await discord.replyToInteraction(command.id, command.token, statusText());
        case "reset": {
          const result = await supervisor.deliver({
            kind: "reset",
            id: `reset-${command.id}`,
            channelId: command.channelId,
          });
          const reply = result.ok ? text.resetDone : deliveryFailureText(result.error);
          return await discord.replyToInteraction(command.id, command.token, reply, {
            ephemeral: false,
          });
        }
        case "summarize": {
          // A summary reads up to 300 messages and makes a large call: it counts like a chat.
          const overLimit = rateLimit(command.userId);
          if (overLimit) {
            return await discord.replyToInteraction(command.id, command.token, overLimit.notice);
          }
          return await handleSummarizeCommand(command);
        }
      }
    } catch (error) {
      logger.error("Command {name} failed: {error}", { name: command.name, error: String(error) });
    }
  }

  async function handleSummarizeCommand(command: SlashCommand): Promise<void> {
    await discord.deferInteraction(command.id, command.token);
    const { minutes, after, before } = command.options;
    const parsed = summaryRequestFromOptions({
      minutes: typeof minutes === "number" ? minutes : undefined,
      after: after === undefined ? undefined : String(after),
      before: before === undefined ? undefined : String(before),
    });
    const reply = parsed.ok ? await summaryReply(command.channelId, parsed.request) : parsed.error;
    const [first, ...rest] = splitMessage(reply);
    await discord.editInteractionReply(command.token, first);
    for (const chunk of rest) await discord.followUpInteraction(command.token, chunk);
  }

  function statusText(): string {
    const now = Date.now();
    const latency = metrics.firstTextLatency();
    return text.status({
      queue: broker.queueLength,
      sessions: supervisor.liveSessions,
      // With no samples the median is NaN; the user reads "not yet" instead.
      medianMs: latency.count === 0 ? undefined : latency.p50,
      keys: pool.status(now).map((k) => ({
        keyId: k.keyId,
        // The learned limit, which may be below the configured one after the server's 429s.
        minuteLeft: k.disabledUntil ? 0 : Math.max(0, k.effective.rpm - k.requestsLastMinute),
        dayLeft: k.disabledUntil ? 0 : Math.max(0, k.budget.rpd - k.requestsToday),
      })),
    });
  }

  /** Replies to a message; resolves false (and logs) when Discord could not be reached. */
  async function send(message: ChatMessage, content: string): Promise<boolean> {
    try {
      await discord.sendMessage(message.channelId, content, { replyTo: message.id });
      return true;
    } catch (error) {
      logger.error("Could not reply: {error}", {
        channelId: message.channelId,
        error: String(error),
      });
      return false;
    }
  }

  /**
   * Counts a message or command against its user's limit. Over it: the notice, and whether this
   * is the first rejection since the user's last allowed message.
   */
  function rateLimit(userId: string): { notice: string; firstRejection: boolean } | undefined {
    const limit = limiter.hit(userId, Date.now());
    if (limit.allowed) return undefined;
    const notice = text.rateLimited(Math.ceil(limit.retryAfterMs / 1000));
    return { notice, firstRejection: limit.firstRejection };
  }

  /** A ⏳ countdown message in `channelId`, shown only if a call must wait. */
  function startCountdown(channelId: string, replyTo?: string): Countdown {
    return new Countdown({
      discord,
      channelId,
      replyTo,
      onError: warnFailed("Countdown"),
      onChange: (what, secondsLeft) => logger.info(`Countdown ${what}`, { channelId, secondsLeft }),
    });
  }

  function startTyping(channelId: string): Typing {
    const fire = () =>
      discord.triggerTyping(channelId).catch((error) =>
        logger.debug("Typing failed: {error}", { error: String(error) })
      );
    void fire();
    const timer = setInterval(fire, TYPING_RENEW_MS);
    return { stop: () => clearInterval(timer) };
  }

  // Events can arrive before connectDiscord returns; they wait for the connection object.
  const connected = Promise.withResolvers<void>();
  const discordLog = log.getChild("discord");
  const discord: DiscordConnection = await connectDiscord(
    { token: config.discordToken, apiUrl: config.discordApiUrl },
    {
      onMessage: async (message) => {
        await connected.promise;
        const requestId = crypto.randomUUID().slice(0, 8);
        const context = { channelId: message.channelId, requestId };
        discordLog.debug("Message received", context);
        const attributes = {
          "discord.channel_id": message.channelId,
          "soyebot.request_id": requestId,
        };
        await inSpan(
          "discord.message",
          attributes,
          () => withLogContext(context, () => handleMessage(message)),
        ).catch((error) =>
          logger.error("Message handling failed: {error}", { ...context, error: String(error) })
        );
      },
      onCommand: async (command) => {
        await connected.promise;
        await handleCommand(command);
      },
      onReady: () => logger.info("Connected to the Discord gateway"),
      onGatewayRefused: (reason) => options.onFatal(reason),
    },
  );
  connected.resolve();
  await discord.registerCommands(COMMANDS, config.devGuildId)
    .catch(warnFailed("Slash command registration"));

  metrics.watch({
    brokerStats: () => broker.stats,
    queueDepth: () => broker.queueLength,
    activeCalls: () => broker.active,
    liveSessions: () => supervisor.liveSessions,
    sessionCounts: () => supervisor.counts,
    keys: (now) => pool.status(now),
    gatewayConnected: () => discord.connected,
    discordRateLimited: () => discord.rateLimited,
    storeHealth: () => supervisor.storeHealth,
  });
  // No HTTP_PORT, no server: the endpoints are opt-in.
  const storeOpen = sqliteCheck(databasePath);
  const ops = config.httpPort === undefined ? undefined : serveOps(
    { hostname: config.httpHost, port: config.httpPort },
    {
      readiness: () => ({
        gateway: discord.connected,
        store: !stopping && storeOpen() && supervisor.storeHealth.writable,
      }),
      metrics: async () => ({ text: await metrics.render(), contentType: metrics.contentType }),
      statusPage: () => renderStatusPage(metrics.snapshot(), recentProblems.list()),
      onError: (error) => logger.error("Ops endpoint failed: {error}", { error: String(error) }),
    },
  );
  if (ops) {
    const { hostname, port } = ops.addr;
    logger.info(`Operations endpoints on http://${hostname}:${port}/`, { hostname, port });
  }

  return {
    supervisor,
    broker,
    discord,
    async stop() {
      stopping = true;
      clearInterval(limiterSweep);
      // Sessions drain while the broker finishes its running calls, or aborts them after 5 s;
      // an aborted call is answered with a short notice, then its session flushes and closes.
      // 8 s + Discord's close stays inside main.ts's 10 s limit even when Gemini hangs.
      const sessions = supervisor.stop(8_000);
      await broker.stop(5_000);
      await sessions;
      await discord.close();
      await ops?.shutdown();
    },
  };
}

interface Typing {
  stop(): void;
}

/** Follows a broker request's wait: the countdown runs while it waits and pauses when it starts. */
function waitOn(countdown: Countdown): (startsAt: number | undefined) => void {
  return (startsAt) => startsAt === undefined ? countdown.pause() : countdown.show(startsAt);
}
