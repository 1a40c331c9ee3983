/**
 * SoyeBot's entry point and composition root: `deno task start`.
 *
 * Reads the configuration (stopping with exit code 2 and one line naming the variable when it is
 * wrong), wires the session actors, the Gemini broker and Discord to the message flow in
 * `lib/flow/`, and shuts down gracefully on SIGINT or SIGTERM within 10 s.
 *
 *   Discord event ─▶ gate ─▶ chatTurn: sessions.begin ─▶ broker.generate ─▶ ReplyStream ─▶ commit
 *                                       (─▶ fold: broker.generate at low priority ─▶ remember)
 *
 * @module
 */
import { join } from "node:path";
import { GeminiBroker } from "./actors/gemini_broker.ts";
import { Sessions } from "./actors/sessions.ts";
import { logSessionsEvent } from "./actors/sessions_log.ts";
import type { Config } from "./lib/config.ts";
import { botIdFromToken, ConfigError } from "./lib/config.ts";
import { configFromProcess } from "./lib/config_env.ts";
import { type ChatMessage, connectDiscord, type DiscordConnection } from "./lib/discord.ts";
import { chatTurn } from "./lib/flow/chat_turn.ts";
import { answerCommand } from "./lib/flow/command_reply.ts";
import { COMMAND_NAMES, COMMANDS, handleCommand } from "./lib/flow/commands.ts";
import { gate } from "./lib/flow/gate.ts";
import { gatherTurnInput } from "./lib/flow/turn_input.ts";
import { reply } from "./lib/flow/replies.ts";
import { statusText } from "./lib/flow/status.ts";
import { summaryReply } from "./lib/flow/summary.ts";
import { attachmentOrigins, fetchAttachment } from "./lib/attachment_fetch.ts";
import type { BrokerRequest } from "./lib/broker_port.ts";
import { SdkGeminiClient } from "./lib/gemini.ts";
import { SdkFileStore, withFileUploads } from "./lib/gemini_files.ts";
import {
  listGenerateModels,
  modelGoneMessage,
  ModelNotFoundError,
  ModelWatch,
} from "./lib/gemini_models.ts";
import { MAX_EXCHANGES } from "./lib/history_window.ts";
import { serveOps, sqliteCheck } from "./lib/http_server.ts";
import {
  log,
  type Logger,
  recentProblems,
  redactor,
  setupLogging,
  withLogContext,
} from "./lib/log.ts";
import { BotMetrics } from "./lib/metrics.ts";
import { loadPersona } from "./lib/prompts.ts";
import { SlidingWindowLimiter } from "./lib/sliding_window_limiter.ts";
import { SettingsStore } from "./lib/settings_store.ts";
import { renderStatusPage } from "./lib/status_page.ts";
import {
  connectRedis,
  redactRedisUrl,
  type RedisConnection,
  whenReady,
} from "./lib/redis_client.ts";
import { RedisStore, type RedisStoreConfig } from "./lib/redis_store.ts";
import { processCount, shardLabel } from "./lib/shard_range.ts";
import { LocalQuotaShare } from "./lib/quota_share.ts";
import { RedisQuotaShare } from "./lib/redis_quota.ts";
import { RedisRequestBudget } from "./lib/redis_request_budget.ts";
import { MemorySummaryCache, RedisSummaryCache } from "./lib/summary_cache.ts";
import { DATABASE_FILE, type SessionStore, SqliteStore } from "./lib/store.ts";
import { text } from "./lib/strings_ko.ts";
import { MemoryTokenPool } from "./lib/token_pool.ts";
import { GeminiTracing, inSpan, setTraceRedactor } from "./lib/tracing.ts";

/**
 * Exit codes: 2 for configuration, 1 for a failed start (Discord refused the token, Redis could
 * not be reached) or shutdown, 70 when the bot cannot go on.
 */
const EXIT_CONFIG = 2;
const EXIT_FAILED = 1;
const EXIT_GAVE_UP = 70;

/** How long the start waits for Redis to answer before it gives up. */
const REDIS_START_WAIT_MS = 5_000;

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 10_000;

/** A running bot: stop it to finish what is in flight, flush the store and disconnect. */
export interface RunningBot {
  /** Stops taking messages, finishes or fails what is in flight, flushes, disconnects. */
  stop(): Promise<void>;
}

/** Wires the bot together and connects it; `onFatal` is told when it cannot go on. */
export async function startBot(
  config: Config,
  persona: string,
  onFatal: (reason: string) => void,
  redis?: RedisConnection,
): Promise<RunningBot> {
  const logger = log.getChild("bot");
  await Deno.mkdir(config.dataDir, { recursive: true });
  const databasePath = join(config.dataDir, DATABASE_FILE);
  // With Redis, every process's sessions live there; this process's turns are its shards'.
  const redisStore: RedisStoreConfig | undefined = config.redisUrl === undefined ? undefined : {
    url: config.redisUrl,
    ttlMs: config.sessionTtlMs,
    turnsOf: shardLabel(config.shards),
  };
  // Turns a killed process left in flight, read before any new turn can begin.
  const unanswered = await takeUnanswered(
    redisStore ? await RedisStore.connect(redisStore) : SqliteStore.open(databasePath),
  );
  // Every server's settings, in memory for the gate and written through on each change.
  const settings = SettingsStore.open(databasePath);

  const prices = {
    input: config.priceInputPerMillion,
    output: config.priceOutputPerMillion,
    cached: config.priceCachedPerMillion,
  };
  const metrics = new BotMetrics({ prices });
  const tracing = new GeminiTracing();
  const brokerLog = log.getChild("broker");
  const budget = { rpm: config.geminiRpm, tpm: config.geminiTpm, rpd: config.geminiRpd };
  // The quota is the project's, whatever the processes: they lease it from Redis, or each keeps
  // to 1/N of it when there is no Redis (and, with Redis away, of what was left).
  const processes = processCount(config.shards);
  const share = redis
    ? new RedisQuotaShare({
      redis,
      keys: config.geminiApiKeys,
      projects: config.geminiKeyProjects,
      budget,
      processes,
      onError: (error) => brokerLog.debug("Quota lease failed: {error}", { error: error.message }),
    })
    : processes > 1
    ? new LocalQuotaShare(budget, { processes })
    : undefined;
  const pool = new MemoryTokenPool(config.geminiApiKeys, budget, {
    projects: config.geminiKeyProjects,
    share,
  });
  const broker = new GeminiBroker({
    // Tracing outside the uploads: it follows a request by its contents, which uploads replace.
    client: tracing.wrap(
      withFileUploads(
        new SdkGeminiClient({ baseUrl: config.geminiApiUrl }),
        new SdkFileStore({ baseUrl: config.geminiApiUrl }),
        {
          inlineMaxBytes: config.attachments.inlineMaxBytes,
          onDeleteError: (error) =>
            brokerLog.info("Uploaded file not deleted (it expires in 48 h): {error}", {
              error: String(error),
            }),
        },
      ),
    ),
    pool,
    model: config.geminiModel,
    systemInstruction: persona,
    maxConcurrency: config.geminiMaxConcurrency,
    timeoutMs: config.geminiTimeoutMs,
    maxWaitMs: config.geminiMaxWaitMs,
    thinkingBudget: config.geminiThinkingBudget,
    prices,
    onEvent: (event) => {
      metrics.brokerEvent(event);
      if (event.type === "call") brokerLog.debug("Gemini call done", event);
      else if (event.type === "cache_created") brokerLog.info("Persona cached", event);
      else if (event.type === "key_check" && event.ok) brokerLog.info("Gemini key back", event);
      else brokerLog.warn(`Gemini ${event.type}`, event);
    },
  });
  // Each key is checked once before Discord hears of the bot: a refused key is named (by id)
  // and set aside, and a model that answers 404 for every key stops the start.
  await verifyGemini(broker, pool, config, logger);
  // A model retired while the bot runs is logged once, with the models the keys can use; each
  // user is told in a short reply (failureText), and the broker never retries a 404.
  const modelWatch = new ModelWatch(() => {
    const key = pool.keys()[0].key;
    void listGenerateModels(config.geminiApiUrl, key)
      .catch((error) => error instanceof Error ? error : new Error(String(error)))
      .then((available) =>
        logger.error(modelGoneMessage(config.geminiModel, available), {
          model: config.geminiModel,
        })
      );
  });
  const generate = async (request: BrokerRequest) => {
    const result = await tracing.generate(broker, request);
    modelWatch.observe(result);
    return result;
  };

  const sessionsLog = log.getChild("supervisor");
  const sessions = new Sessions({
    databasePath,
    redis: redisStore,
    hosts: config.sessionHosts,
    maxExchanges: MAX_EXCHANGES,
    dropBlock: config.windowDropBlock,
    policy: config.supervisor,
    onGiveUp: onFatal,
    onEvent: (event) => logSessionsEvent(sessionsLog, event),
  });

  const limiter = new SlidingWindowLimiter({
    limit: config.userRateLimit,
    windowMs: config.userRateWindowMs,
  });
  // Forget users who went quiet, so the limiter's memory stays bounded by active users.
  const limiterSweep = setInterval(() => limiter.sweep(Date.now()), config.userRateWindowMs);
  Deno.unrefTimer(limiterSweep);
  let stopping = false;

  // A summary asked again within minutes is answered without Gemini, by whichever process.
  const summaryCache = redis ? new RedisSummaryCache(redis) : new MemorySummaryCache();

  // Events can arrive before connectDiscord returns; they wait for the connection object.
  const connected = Promise.withResolvers<void>();
  const { attachments } = config;
  const fetchOptions = {
    allowedOrigins: attachmentOrigins(config.discordApiUrl),
    timeoutMs: attachments.fetchTimeoutMs,
    maxBytes: attachments.maxBytes,
  };
  /** What the flows cross; `flowLog` carries a turn's ids into every line, callbacks' included. */
  const flowDeps = (flowLog: Logger) => ({
    gather: (message: ChatMessage, line: string) =>
      gatherTurnInput(message, line, {
        discord,
        limits: attachments,
        fetch: (url) => fetchAttachment(url, fetchOptions),
        timeoutMs: attachments.fetchTimeoutMs,
        logger: flowLog,
      }),
    discord,
    generate,
    logger: flowLog,
    sessions,
    metrics,
    limiter,
    settings,
    personaFor: (guildId: string | undefined) => settings.forGuild(guildId).persona,
    maxMessages: config.summaryMaxMessages,
    summaryCache,
    statusText: (guildId?: string) =>
      statusText({
        queueLength: broker.queueLength,
        liveSessions: sessions.liveSessions,
        medianMs: metrics.firstTextLatency().count === 0
          ? undefined
          : metrics.firstTextLatency().p50,
        keys: pool.status(Date.now()),
        now: Date.now(),
        ...(guildId === undefined ? {} : { server: settings.forGuild(guildId) }),
      }),
  });

  /** The path of every message: the gate decides, then one flow answers. */
  async function onMessage(message: ChatMessage, turnLog: Logger): Promise<void> {
    const server = settings.forGuild(message.guildId);
    const decision = gate(message, {
      botId: discord.botId,
      stopping,
      limiter,
      now: Date.now(),
      alwaysAnswer: server.alwaysChannels.has(message.channelId),
      summariesOff: !server.summaries,
    });
    switch (decision.action) {
      case "ignore":
        return;
      case "reply":
        return void await reply(discord, turnLog, message, decision.text);
      case "summary":
        return await summaryReply(message, decision.request, flowDeps(turnLog));
      case "chat":
        metrics.messageReceived();
        return await chatTurn(message, decision.line, flowDeps(turnLog));
    }
  }

  const discord: DiscordConnection = await connectDiscord({
    token: config.discordToken,
    apiUrl: config.discordApiUrl,
    // With Redis the processes share the rate there; without it, each keeps to 1/N of it.
    requestsPerSecond: redis ? config.discordRestRate : config.discordRestRate / processes,
    shards: config.shards,
    sharedBudget: redis
      ? new RedisRequestBudget({
        redis,
        botId: botIdFromToken(config.discordToken),
        perSecond: config.discordRestRate,
        processes,
      })
      : undefined,
  }, {
    onMessage: async (message) => {
      await connected.promise;
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
        () => withLogContext(context, () => onMessage(message, turnLog)),
      )
        .catch((error) =>
          logger.error("Message handling failed: {error}", { ...context, error: String(error) })
        );
    },
    onCommand: async (command) => {
      await connected.promise;
      const commandLog = logger.with({ channelId: command.channelId, name: command.name });
      await answerCommand(command, discord, (c, r) => handleCommand(c, r, flowDeps(commandLog)), {
        commands: COMMAND_NAMES,
        onError: (error) =>
          commandLog.error("Command {name} failed: {error}", { error: String(error) }),
      });
    },
    onReady: () => logger.info("Connected to the Discord gateway"),
    onGatewayRefused: onFatal,
  });
  connected.resolve();
  await discord.registerCommands(COMMANDS, config.devGuildId)
    .catch((error) =>
      logger.warn("Slash command registration failed: {error}", { error: String(error) })
    );
  for (const turn of unanswered) {
    await reply(discord, logger, { channelId: turn.channelId, id: turn.id }, text.unanswered);
  }

  metrics.watch({
    brokerStats: () => broker.stats,
    queueDepth: () => broker.queueLength,
    activeCalls: () => broker.active,
    liveSessions: () => sessions.liveSessions,
    sessionCounts: () => sessions.counts,
    keys: (now) => pool.status(now),
    gatewayConnected: () => discord.connected,
    discordRateLimited: () => discord.rateLimited,
    storeHealth: () => sessions.storeHealth,
  });
  // No HTTP_PORT, no server: the endpoints are opt-in.
  const storeOpen = redis ? () => redis.status === "ready" : sqliteCheck(databasePath);
  const ops = config.httpPort === undefined ? undefined : serveOps(
    { hostname: config.httpHost, port: config.httpPort },
    {
      readiness: () => ({
        gateway: discord.connected,
        store: !stopping && storeOpen() && sessions.storeHealth.writable,
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
    async stop() {
      stopping = true;
      clearInterval(limiterSweep);
      // Sessions drain while the broker finishes its running calls, or aborts them after 5 s;
      // an aborted call is answered with a short notice, then its session flushes and closes.
      // 8 s + Discord's close stays inside the 10 s limit even when Gemini hangs.
      const drained = sessions.stop(8_000);
      await broker.stop(5_000);
      await drained;
      // What is left of this process's leases goes back to the others now.
      if (share instanceof RedisQuotaShare) await share.close();
      await discord.close();
      await ops?.shutdown();
      settings.close();
    },
  };
}

/**
 * Checks every key with the configured model, logging each result. Throws
 * {@linkcode ModelNotFoundError}, naming the models the key can use, when the model answered 404
 * and no key passed; a Gemini that cannot be reached leaves the checks to the first calls.
 */
async function verifyGemini(
  broker: GeminiBroker,
  pool: MemoryTokenPool,
  config: Config,
  logger: Logger,
): Promise<void> {
  const checks = await broker.verifyKeys().catch((error) => {
    logger.warn("Gemini key check failed: {error}", { error: String(error) });
    return [];
  });
  for (const check of checks) {
    if (check.ok) logger.info("Gemini key checked: {message}", { ...check });
    else logger.error("Gemini key failed its start-up check: {message}", { ...check });
  }
  const notFound = checks.find((check) => check.status === 404);
  if (notFound === undefined || checks.some((check) => check.ok)) return;
  const key = pool.keys().find((k) => k.keyId === notFound.keyId)!.key;
  const available = await listGenerateModels(config.geminiApiUrl, key)
    .catch((error) => error instanceof Error ? error : new Error(String(error)));
  throw new ModelNotFoundError(modelGoneMessage(config.geminiModel, available));
}

/** Reads and forgets the turns a killed process left in flight, and closes the store. */
async function takeUnanswered(store: SessionStore) {
  try {
    return await store.takeUnanswered();
  } finally {
    await store.close();
  }
}

async function main(): Promise<number> {
  let config: Config;
  let persona: string;
  try {
    config = await configFromProcess();
    persona = await loadPersona(config.personaFile);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError || error instanceof RangeError) {
      console.error(`soyebot: configuration error: ${error.message}`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const secrets = [config.discordToken, ...config.geminiApiKeys];
  const redisPassword = config.redisUrl && decodeURIComponent(new URL(config.redisUrl).password);
  if (redisPassword) secrets.push(redisPassword);
  await setupLogging({ level: config.logLevel, format: config.logFormat, secrets });
  const redact = redactor(secrets);
  setTraceRedactor(redact);
  // A library promise that rejects with no one listening (discordeno's unqueued REST path did)
  // would end the process and every conversation in flight with it: log it and stay up.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("Unhandled rejection: {error}", { error: redact(String(event.reason)) });
  });

  let redis: RedisConnection | undefined;
  if (config.redisUrl) {
    const redisLog = log.getChild("redis");
    let down = false;
    redis = connectRedis(config.redisUrl, {
      onError: (error) => {
        if (!down) redisLog.warn("Redis unavailable: {error}", { error: redact(error.message) });
        down = true;
      },
    });
    redis.on("ready", () => {
      if (down) redisLog.info("Redis is back");
      down = false;
    });
    try {
      await whenReady(redis, REDIS_START_WAIT_MS);
    } catch (error) {
      redis.disconnect();
      const where = redactRedisUrl(config.redisUrl);
      console.error(
        `soyebot: cannot reach Redis at ${where} (REDIS_URL): ${redact(String(error))}`,
      );
      return EXIT_FAILED;
    }
  }

  let bot: RunningBot;
  try {
    bot = await startBot(config, persona, (reason) => {
      log.fatal("Giving up: {reason}", { reason });
      Deno.exit(EXIT_GAVE_UP);
    }, redis);
  } catch (error) {
    if (error instanceof ModelNotFoundError) {
      // The line names models, never a key; redacted all the same, as every logged error is.
      log.fatal(redact(error.message), { model: config.geminiModel });
      console.error(`soyebot: configuration error: ${redact(error.message)}`);
      return EXIT_CONFIG;
    }
    log.fatal("Start failed: {error}", { error: redact(String(error)) });
    const status = (error as { cause?: { status?: number } }).cause?.status;
    if (status === 401) console.error("soyebot: Discord refused DISCORD_TOKEN (401 Unauthorized)");
    return EXIT_FAILED;
  }
  log.info("SoyeBot is running", {
    model: config.geminiModel,
    keys: config.geminiApiKeys.length,
    hosts: config.sessionHosts,
    shards: shardLabel(config.shards),
    store: config.redisUrl ? "redis" : "sqlite",
  });

  const { promise: signalled, resolve } = Promise.withResolvers<string>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => resolve(signal));
  }
  const signal = await signalled;
  log.info("Shutting down on {signal}", { signal });
  const overdue = setTimeout(() => {
    log.error("Shutdown took longer than {ms} ms; exiting anyway", { ms: SHUTDOWN_LIMIT_MS });
    Deno.exit(EXIT_FAILED);
  }, SHUTDOWN_LIMIT_MS);
  await bot.stop();
  redis?.disconnect();
  clearTimeout(overdue);
  log.info("Stopped cleanly");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
