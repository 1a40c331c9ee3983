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
import { join } from "node:path";
import { GeminiBroker } from "../actors/gemini_broker.ts";
import { type ReplyRequest, Supervisor, type SupervisorEvent } from "../actors/supervisor.ts";
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
import { AsyncLocalStorage } from "node:async_hooks";
import { shouldAnswer, stripMention } from "./mention.ts";
import { LatencyWindow } from "./percentiles.ts";
import { SUMMARY_INSTRUCTION } from "./prompts.ts";
import { ReplyStream } from "./reply_stream.ts";
import { DATABASE_FILE } from "./store.ts";
import { text } from "./strings_ko.ts";
import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { splitMessage } from "./split_message.ts";
import {
  parseSummaryCommand,
  type SummaryRequest,
  summaryRequestFromOptions,
} from "./summary_request.ts";
import { buildTranscript, collectMessages } from "./summary_source.ts";
import { MemoryTokenPool } from "./token_pool.ts";
import type { BrokerResult } from "../actors/gemini_broker.ts";

/** The most transcript characters sent for one summary; older lines are cut first. */
const SUMMARY_MAX_CHARS = 60_000;

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

/** A running bot. */
export interface RunningBot {
  readonly supervisor: Supervisor;
  readonly broker: GeminiBroker;
  readonly discord: DiscordConnection;
  /** Message receipt to first visible text, over the last hour. */
  readonly firstTextLatency: LatencyWindow;
  /** Stops taking messages, finishes or fails what is in flight, flushes the store, disconnects. */
  stop(): Promise<void>;
}

/** What the bot needs besides its configuration. */
export interface BotOptions {
  persona: string;
  /** Called when the bot can't go on (a host restarting too often); the process should exit. */
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
  await Deno.mkdir(config.dataDir, { recursive: true });

  const metrics = new BotMetrics({
    prices: {
      input: config.priceInputPerMillion,
      output: config.priceOutputPerMillion,
      cached: config.priceCachedPerMillion,
    },
  });
  const tracing = new GeminiTracing();
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
    prices: {
      input: config.priceInputPerMillion,
      output: config.priceOutputPerMillion,
      cached: config.priceCachedPerMillion,
    },
    onEvent: (event) => {
      metrics.brokerEvent(event);
      const brokerLog = log.getChild("broker");
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
  }, (error) => logger.warn("Gemini key check failed: {error}", { error: String(error) }));

  const turns = new Map<string, Turn>();
  const limiter = new SlidingWindowLimiter({
    limit: config.userRateLimit,
    windowMs: config.userRateWindowMs,
  });
  // Forget users who went quiet, so the limiter's memory stays bounded by active users.
  const limiterSweep = setInterval(() => limiter.sweep(Date.now()), config.userRateWindowMs);
  Deno.unrefTimer(limiterSweep as unknown as number);
  const firstTextLatency = new LatencyWindow();
  let stopping = false;

  const supervisor = new Supervisor({
    databasePath: join(config.dataDir, DATABASE_FILE),
    hosts: config.sessionHosts,
    maxSessions: config.sessionMax,
    idleMs: config.sessionIdleMs,
    sweepMs: config.sessionSweepMs,
    onReply: (request) => answer(request),
    onGiveUp: (reason) => options.onFatal(reason),
    onEvent: (event: SupervisorEvent) =>
      log.getChild("supervisor").info(`Session ${event.type}`, event),
  });

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
      if (!turn.shown) await send(turn.message, text.crashed);
      turn.shown = true;
      return undefined;
    }
  }

  async function answerTurn(turn: Turn, request: ReplyRequest): Promise<string | undefined> {
    const { channelId, id: replyTo } = turn.message;
    const countdown = new Countdown({
      discord,
      channelId,
      replyTo,
      onError: (error) => logger.warn("Countdown failed: {error}", { error: String(error) }),
      onChange: (what, secondsLeft) => logger.info(`Countdown ${what}`, { channelId, secondsLeft }),
    });
    const stream = new ReplyStream({
      discord,
      channelId,
      replyTo,
      onError: (error) => logger.warn("Reply edit failed: {error}", { error: String(error) }),
      // The ⏳ message goes before the answer appears, never after it.
      beforeFirstText: () => countdown.clear(),
      onFirstText: () => {
        turn.typing.stop();
        firstTextLatency.add(Date.now() - turn.receivedAt, Date.now());
        metrics.firstText(Date.now() - turn.receivedAt);
      },
    });
    const result = await tracing.generate(broker, {
      priority: "chat",
      contents: request.contents,
      onText: (soFar) => stream.update(soFar),
      onWait: (startsAt) => startsAt === undefined ? countdown.pause() : countdown.show(startsAt),
    });
    turn.typing.stop();
    await countdown.clear();
    if (result.ok && result.text.trim().length > 0) {
      await inSpan(
        "discord.send",
        { "discord.channel_id": channelId },
        () => stream.finish(result.text),
      );
      metrics.replyDone(Date.now() - turn.receivedAt, "ok");
      turn.shown = true;
      return result.text;
    }
    await inSpan(
      "discord.send",
      { "discord.channel_id": channelId },
      () => stream.fail(failureText(result)),
    );
    metrics.replyDone(Date.now() - turn.receivedAt, "failed");
    turn.shown = stream.started;
    return undefined;
  }

  async function handleMessage(message: ChatMessage): Promise<void> {
    const isFromHuman = !message.authorIsBot && !message.webhookId;
    const isUserMessage = message.type === 0 || message.type === 19;
    if (!isFromHuman || !isUserMessage) return;
    const content = stripMention(message.content, discord.botId);
    const summary = parseSummaryCommand(content);
    const isHelp = content === "!도움말";
    if (!summary && !isHelp && !shouldAnswer(message, discord.botId)) return;
    if (stopping) return void await send(message, text.stopping);
    // Commands count against the limit too: a summary costs more than a chat turn.
    const limit = limiter.hit(message.authorId, Date.now());
    if (!limit.allowed) {
      if (limit.firstRejection) {
        await send(message, text.rateLimited(Math.ceil(limit.retryAfterMs / 1000)));
      }
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
      // not_answered normally means the user was told why; if nothing reached them, say so now.
      if (result.ok || turn.shown) return;
      logger.warn("Message not answered: {error}", {
        channelId: message.channelId,
        error: result.error,
      });
      const notice = result.error === "stopping"
        ? text.stopping
        : result.error === "not_answered"
        ? text.unavailable
        : text.crashed;
      await send(message, notice);
    } finally {
      turn.typing.stop();
      turns.delete(message.id);
    }
  }

  async function handleSummaryCommand(
    message: ChatMessage,
    parsed: NonNullable<ReturnType<typeof parseSummaryCommand>>,
  ): Promise<void> {
    if (!parsed.ok) return void await send(message, parsed.error);
    const typing = startTyping(message.channelId);
    const countdown = new Countdown({
      discord,
      channelId: message.channelId,
      replyTo: message.id,
      onError: (error) => logger.warn("Countdown failed: {error}", { error: String(error) }),
    });
    try {
      const reply = await summarize(message.channelId, parsed.request, countdown, message.id)
        .catch((error) => {
          logger.error("Summary failed: {error}", { error: String(error) });
          return text.summaryFailed;
        });
      typing.stop();
      await countdown.clear();
      const stream = new ReplyStream({
        discord,
        channelId: message.channelId,
        replyTo: message.id,
        onError: (error) => logger.warn("Summary post failed: {error}", { error: String(error) }),
      });
      await stream.finish(reply);
    } finally {
      typing.stop();
      await countdown.clear();
    }
  }

  /** Builds a summary reply: the header and the bullets, or a short notice. */
  async function summarize(
    channelId: string,
    request: SummaryRequest,
    countdown: Countdown,
    commandMessageId?: string,
  ): Promise<string> {
    const messages = await collectMessages(discord, channelId, request, {
      now: Date.now(),
      max: config.summaryMaxMessages,
      excludeId: commandMessageId,
    });
    if (messages.length === 0) return text.summaryNothing;
    const { transcript, included } = buildTranscript(messages, SUMMARY_MAX_CHARS);
    const result = await tracing.generate(broker, {
      priority: "summary",
      systemInstruction: SUMMARY_INSTRUCTION,
      contents: [{ role: "user", parts: [{ text: transcript }] }],
      onWait: (startsAt) => startsAt === undefined ? countdown.pause() : countdown.show(startsAt),
    });
    if (!result.ok || result.text.trim().length === 0) {
      return result.ok ? text.summaryFailed : failureText(result, text.summaryFailed);
    }
    const header = request.kind === "recent"
      ? text.summaryHeaderRecent(request.minutes, included)
      : text.summaryHeaderRange(text.summaryRange(request), included);
    return `${header}\n${result.text.trim()}`;
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
          const reply = result.ok
            ? text.resetDone
            : result.error === "stopping"
            ? text.stopping
            : text.crashed;
          return await discord.replyToInteraction(command.id, command.token, reply, {
            ephemeral: false,
          });
        }
        case "summarize": {
          // A summary reads up to 300 messages and makes a large call: it counts like a chat.
          const limit = limiter.hit(command.userId, Date.now());
          if (!limit.allowed) {
            const wait = Math.ceil(limit.retryAfterMs / 1000);
            return await discord.replyToInteraction(
              command.id,
              command.token,
              text.rateLimited(wait),
            );
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
    const countdown = new Countdown({
      discord,
      channelId: command.channelId,
      onError: (error) => logger.warn("Countdown failed: {error}", { error: String(error) }),
    });
    try {
      const reply = parsed.ok
        ? await summarize(command.channelId, parsed.request, countdown).catch((error) => {
          logger.error("Summary failed: {error}", { error: String(error) });
          return text.summaryFailed;
        })
        : parsed.error;
      await countdown.clear();
      const [first, ...rest] = splitMessage(reply);
      await discord.editInteractionReply(command.token, first);
      for (const chunk of rest) await discord.followUpInteraction(command.token, chunk);
    } finally {
      await countdown.clear();
    }
  }

  function statusText(): string {
    const now = Date.now();
    return text.status({
      queue: broker.queueLength,
      sessions: supervisor.liveSessions,
      medianMs: firstTextLatency.percentiles(now, [50])["p50"],
      keys: pool.status(now).map((k) => ({
        keyId: k.keyId,
        // The learned limit, which may be below the configured one after the server's 429s.
        minuteLeft: k.disabledUntil ? 0 : Math.max(0, k.effective.rpm - k.requestsLastMinute),
        dayLeft: k.disabledUntil ? 0 : Math.max(0, k.budget.rpd - k.requestsToday),
      })),
    });
  }

  async function send(message: ChatMessage, content: string): Promise<void> {
    try {
      await discord.sendMessage(message.channelId, content, { replyTo: message.id });
    } catch (error) {
      logger.error("Could not reply: {error}", {
        channelId: message.channelId,
        error: String(error),
      });
    }
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
  const discord: DiscordConnection = await connectDiscord(
    { token: config.discordToken, apiUrl: config.discordApiUrl },
    {
      onMessage: async (message) => {
        await connected.promise;
        const requestId = crypto.randomUUID().slice(0, 8);
        const context = { channelId: message.channelId, requestId };
        log.getChild("discord").debug("Message received", context);
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
    },
  );
  connected.resolve();
  try {
    await discord.registerCommands(COMMANDS, config.devGuildId);
  } catch (error) {
    logger.warn("Slash command registration failed: {error}", { error: String(error) });
  }

  metrics.watch({
    brokerStats: () => broker.stats,
    queueDepth: () => broker.queueLength,
    activeCalls: () => broker.active,
    liveSessions: () => supervisor.liveSessions,
    sessionCounts: () => supervisor.counts,
    keys: (now) => pool.status(now),
    gatewayConnected: () => discord.connected,
    discordRateLimited: () => discord.rateLimited,
  });
  // No HTTP_PORT, no server: the endpoints are opt-in.
  const storeOpen = sqliteCheck(join(config.dataDir, DATABASE_FILE));
  const ops = config.httpPort === undefined ? undefined : serveOps(
    { hostname: config.httpHost, port: config.httpPort },
    {
      readiness: () => ({ gateway: discord.connected, store: !stopping && storeOpen() }),
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
    firstTextLatency,
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

function failureText(
  result: Extract<BrokerResult, { ok: false }> | BrokerResult,
  fallback: string = text.unavailable,
): string {
  if (result.ok) return fallback;
  switch (result.reason) {
    case "day_quota":
      return text.dayQuota(text.resetTime(result.retryAt));
    case "blocked":
      return text.blocked;
    case "interrupted":
      return text.interrupted;
    case "rejected":
      return text.rejected;
    case "stopped":
      return text.stopping;
    case "unavailable":
      return fallback;
  }
}
