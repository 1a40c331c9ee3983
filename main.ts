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
import { Sessions } from "./actors/sessions/sessions.ts";
import { logSessionsEvent } from "./actors/sessions/log.ts";
import { type Config, ConfigError, configFromProcess, secretsOf } from "./lib/config/mod.ts";
import {
  CLAIM_TTL_MS,
  claimShards,
  connectDiscord,
  type DiscordConnection,
  type ShardClaim,
  shardLabel,
  ShardsTakenError,
} from "./lib/discord/mod.ts";
import { COMMANDS } from "./lib/flow/commands.ts";
import { gatherFor } from "./lib/flow/turn_input.ts";
import { AttachmentBudget, GifDecoder } from "./lib/attachments/mod.ts";
import { reply } from "./lib/flow/replies.ts";
import {
  handleCommandEvent,
  handleComponentEvent,
  handleMessage,
  type RouteDeps,
} from "./lib/flow/route.ts";
import { RecentIds } from "./lib/flow/recent_ids.ts";
import { RunningTurns } from "./lib/flow/stop_button.ts";
import { liveStatusText, searchAllowed } from "./lib/flow/status.ts";
import { type BrokerRequest, logBrokerEvent } from "./lib/broker/mod.ts";
import { CURRENT_MODELS, modelFacts, ModelNotFoundError } from "./lib/gemini/mod.ts";
import { geminiClient, verifyGemini, watchModel } from "./lib/start/gemini.ts";
import { MAX_EXCHANGES } from "./lib/sessions/mod.ts";
import { log, type Logger, logUnhandledRejections, redactor, setupLogging } from "./lib/log.ts";
import { BotMetrics, GeminiTracing, setTraceRedactor } from "./lib/ops/mod.ts";
import { startOps } from "./lib/start/ops.ts";
import { discordPacing, geminiShare } from "./lib/start/process_share.ts";
import { loadPersona } from "./lib/text/prompts.ts";
import { SlidingWindowLimiter } from "./lib/flow/sliding_window_limiter.ts";
import { DATABASE_FILE, SettingsStore } from "./lib/store/mod.ts";
import { openRedis, redactRedisUrl, type RedisConnection } from "./lib/redis_client.ts";
import { redisStoreConfig, takeUnanswered } from "./lib/start/session_stores.ts";
import { MemorySummaryCache, RedisSummaryCache } from "./lib/summary/mod.ts";
import { DayNotices } from "./lib/flow/day_notices.ts";
import { text } from "./lib/text/strings_ko.ts";
import { MemoryTokenPool } from "./lib/quota/mod.ts";

/**
 * Exit codes: 2 for configuration, 1 for a failed start (Discord refused the token, Redis could
 * not be reached, another process holds the shards) or shutdown, 70 when the bot cannot go on.
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
  const redisStore = redisStoreConfig(config);
  // Turns a killed process left in flight, read before any new turn can begin.
  const unanswered = await takeUnanswered(redisStore, databasePath);
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
  const gemini = geminiShare(
    config,
    budget,
    redis,
    (error) => brokerLog.debug("Quota lease failed: {error}", { error: error.message }),
  );
  const pool = new MemoryTokenPool(config.geminiApiKeys, budget, {
    projects: config.geminiKeyProjects,
    share: gemini.share,
  });
  const broker = new GeminiBroker({
    client: geminiClient(config, tracing, brokerLog),
    pool,
    model: config.geminiModel,
    systemInstruction: persona,
    maxConcurrency: config.geminiMaxConcurrency,
    timeoutMs: config.geminiTimeoutMs,
    maxWaitMs: config.geminiMaxWaitMs,
    thinkingLevel: config.geminiThinking,
    prices,
    onEvent: (event) => {
      metrics.brokerEvent(event);
      logBrokerEvent(brokerLog, event);
    },
  });
  // Each key is checked once before Discord hears of the bot: a refused key is named (by id)
  // and set aside, and a model that answers 404 for every key stops the start.
  await verifyGemini(() => broker.verifyKeys(), () => pool.keys(), config, logger);
  // A model retired while the bot runs is logged once, with the models the keys can use; each
  // user is told in a short reply (failureText), and the broker never retries a 404.
  const modelWatch = watchModel(config, () => pool.keys(), logger);
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

  // Today's spent budget is said once per channel, not under every message of an always channel.
  const dayNotices = new DayNotices();
  // A summary asked again within minutes is answered without Gemini, by whichever process.
  const summaryCache = redis ? new RedisSummaryCache(redis) : new MemorySummaryCache();

  // One budget for every turn's files, and one worker that converts GIFs off this event loop.
  const attachmentBudget = new AttachmentBudget(config.attachments.budgetBytes);
  const gifDecoder = new GifDecoder();
  const gifToPng = (gif: Uint8Array) => gifDecoder.toPng(gif);
  // The chat turns running here, so that an answer's stop button can cancel its Gemini call.
  const turns = new RunningTurns();

  // Events can arrive before connectDiscord returns; they wait for the connection object.
  const connected = Promise.withResolvers<void>();
  /** What the flows cross; `flowLog` carries a turn's ids into every line, callbacks' included. */
  const flowDeps = (flowLog: Logger) => ({
    gather: gatherFor(config.attachments, config.discordApiUrl, discord, flowLog, {
      budget: attachmentBudget,
      gifToPng,
    }),
    discord,
    generate,
    logger: flowLog,
    sessions,
    metrics,
    turns,
    limiter,
    settings,
    searchMode: config.geminiSearch,
    personaFor: (guildId: string | undefined) => settings.forGuild(guildId).persona,
    // Chat turns only: summaries and folds never search.
    searchFor: (guildId: string | undefined) =>
      searchAllowed(
        config.geminiSearch,
        guildId === undefined ? undefined : settings.forGuild(guildId),
      ),
    maxMessages: config.summaryMaxMessages,
    summaryCache,
    dayNotices,
    statusText: (guildId?: string) =>
      liveStatusText({
        queueLength: () => broker.queueLength,
        liveSessions: () => sessions.liveSessions,
        firstTextLatency: () => metrics.firstTextLatency(),
        keys: (now) => pool.status(now),
        settings,
        searchMode: config.geminiSearch,
        searchToday: () => metrics.today(),
      }, guildId),
  });

  // A slow or absent Redis must not silence the bot: each process keeps to its local share of
  // Discord's budget meanwhile, says so once, and /readyz and /metrics show it.
  const pacing = discordPacing(config, redis, (why) => {
    if (why) {
      const what = why === "slow" ? "Redis is slow" : "Redis is away";
      logger.warn(`${what}: keeping to this process's local share of the Discord budget`, { why });
    } else logger.info("Redis answers quickly again: sharing the Discord budget through it");
  });
  const discord: DiscordConnection = await connectDiscord({
    token: config.discordToken,
    apiUrl: config.discordApiUrl,
    ...pacing,
    shards: config.shards,
  }, {
    onMessage: async (message) => {
      await connected.promise;
      await handleMessage(message, logger, routeDeps);
    },
    onCommand: async (command) => {
      await connected.promise;
      await handleCommandEvent(command, logger, routeDeps);
    },
    onComponent: async (press) => {
      await connected.promise;
      await handleComponentEvent(press, logger, routeDeps);
    },
    onReady: () => logger.info("Connected to the Discord gateway"),
    onGatewayRefused: onFatal,
  });
  const routeDeps: RouteDeps = {
    botId: discord.botId,
    stopping: () => stopping,
    limiter,
    settings,
    discord,
    metrics,
    turns,
    flows: flowDeps,
    messagesSeen: new RecentIds(),
  };
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
    discordBudgetDegraded: () => pacing.sharedBudget?.degraded,
  });
  // No HTTP_PORT, no server: the endpoints are opt-in.
  const ops = startOps(config, redis ? { redis } : { databasePath }, {
    gatewayConnected: () => discord.connected,
    stopping: () => stopping,
    storeWritable: () => sessions.storeHealth.writable,
    sharedBudget: () => pacing.sharedBudget && !pacing.sharedBudget.degraded,
    metrics,
    logger,
  });

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
      await gemini.close();
      await discord.close();
      await ops?.shutdown();
      await settings.close();
      gifDecoder.close();
    },
  };
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
  const secrets = secretsOf(config);
  await setupLogging({ level: config.logLevel, format: config.logFormat, secrets });
  const redact = redactor(secrets);
  setTraceRedactor(redact);
  logUnhandledRejections(redact);
  if (!modelFacts(config.geminiModel).known) {
    log.warn(
      "GEMINI_MODEL={model} is not in the model table: assuming the most cautious limits and " +
        "prices, no thinking levels and no caching (set GEMINI_RPM, GEMINI_TPM, GEMINI_RPD and " +
        "GEMINI_PRICE_* to its own); current models: {current}",
      { model: config.geminiModel, current: CURRENT_MODELS.join(", ") },
    );
  }

  let redis: RedisConnection | undefined;
  if (config.redisUrl) {
    try {
      const logger = log.getChild("redis");
      redis = await openRedis(config.redisUrl, { timeoutMs: REDIS_START_WAIT_MS, logger, redact });
    } catch (error) {
      const where = redactRedisUrl(config.redisUrl);
      console.error(
        `soyebot: cannot reach Redis at ${where} (REDIS_URL): ${redact(String(error))}`,
      );
      return EXIT_FAILED;
    }
  }

  // With Redis, this process's shards are claimed before Discord hears of it: a second process
  // with the same SHARDS would answer every message twice. A killed holder's claim lapses within
  // CLAIM_TTL_MS, so a restart waits that long for it before giving up.
  let claim: ShardClaim | undefined;
  if (redis) {
    const label = shardLabel(config.shards);
    const holder = `${Deno.hostname()} pid ${Deno.pid}`;
    try {
      claim = await claimShards(redis, config.shards, label, {
        holder,
        waitMs: CLAIM_TTL_MS + 1_000,
        onRenewFailed: (error) =>
          log.error("Renewing the claim on shards {label} failed: {error}", {
            label,
            error: redact(error.message),
          }),
      });
    } catch (error) {
      if (!(error instanceof ShardsTakenError)) throw error;
      console.error(
        `soyebot: ${error.message} (SHARDS ${label}); stop that process or give this one other shards`,
      );
      redis.disconnect();
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
    await claim?.release();
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
  await claim?.release();
  redis?.disconnect();
  clearTimeout(overdue);
  log.info("Stopped cleanly");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
