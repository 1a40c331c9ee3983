/**
 * Configuration: one typed object built once from the environment (and an optional `.env`).
 *
 * A missing or malformed value throws {@link ConfigError} naming the variable and what it
 * expects; `main.ts` turns that into one line on stderr and exit code 2. No error shows the value
 * it refused: any variable may hold a pasted secret (a key in HTTP_PORT, a password in a proxy
 * URL), so the message says what was expected instead.
 *
 * @module
 */
import { parseEnv } from "node:util";
import { DISCORD_REQUESTS_PER_SECOND, type ShardRange } from "../discord/mod.ts";
import { MAX_EXCHANGES, type SupervisorPolicy } from "../sessions/mod.ts";
import {
  apiKeys,
  ConfigError,
  type Env,
  int,
  isDiscordTokenShaped,
  num,
  oneOf,
  optionalSnowflake,
  required,
  text,
  url,
} from "./parse.ts";
import { BROKER_DEFAULTS } from "../broker/mod.ts";
import { DEFAULT_MODEL, modelFacts, THINKING_LEVELS, type ThinkingLevel } from "../gemini/mod.ts";
import { botIdFromToken } from "../snowflake.ts";
import {
  type AttachmentConfig,
  attachmentConfig,
  redisUrl,
  shardRange,
  supervisorPolicy,
} from "./groups.ts";

/** Days a channel's window stays in Redis after its last write (`SESSION_TTL_DAYS`), unless set. */
export const DEFAULT_SESSION_TTL_DAYS = 30;

/**
 * The exchanges that leave a full history window at once (`WINDOW_DROP_BLOCK`), unless set: half
 * the window, so the prompt's start holds still for ten turns at a time.
 */
export const DEFAULT_WINDOW_DROP_BLOCK = 10;

/** Everything the bot reads from its environment, already validated. */
export interface Config {
  /** Bot token from the Discord developer portal (`DISCORD_TOKEN`); a secret. */
  discordToken: string;
  /** Gemini API keys without duplicates, from `GEMINI_API_KEYS` or else `GEMINI_API_KEY`. */
  geminiApiKeys: string[];
  /**
   * The project (key group) of each key, by position: `projA:key1|key2` in `GEMINI_API_KEYS`
   * makes both keys share one budget; undefined for a key written on its own.
   */
  geminiKeyProjects: (string | undefined)[];
  /** Gemini model name (`GEMINI_MODEL`). @default DEFAULT_MODEL ("gemini-3.5-flash-lite") */
  geminiModel: string;
  /** Directory of the SQLite file (`DATA_DIR`). @default "./data" */
  dataDir: string;
  /** Discord REST base without a trailing slash: a proxy, or the fake in tests. */
  discordApiUrl: string;
  /** Gemini base URL without a trailing slash; a proxy, or the fake in tests. */
  geminiApiUrl: string;
  /**
   * The supervisor's policy: the LRU cap (`SESSION_MAX`), idle reaping (`SESSION_IDLE_MINUTES`,
   * `SESSION_SWEEP_SECONDS`) and the restart intensity, defaults from
   * {@link DEFAULT_SUPERVISOR_POLICY}.
   */
  supervisor: SupervisorPolicy;
  /** How many Web Worker hosts the session actors are multiplexed over. */
  sessionHosts: number;
  /**
   * How many of the oldest exchanges leave a full window at once (`WINDOW_DROP_BLOCK`), from 1
   * (slide every turn) to the window's {@link MAX_EXCHANGES}. @default 10
   */
  windowDropBlock: number;
  /**
   * Requests per minute allowed on each key or key group (project). A paid tier sets it; the
   * pool also learns lower limits from 429s. @default the model's free tier (modelFacts)
   */
  geminiRpm: number;
  /** Input tokens per minute allowed on each key or key group. @default the model's free tier */
  geminiTpm: number;
  /** Requests per day on each key or key group, reset at midnight Pacific. @default the model's free tier */
  geminiRpd: number;
  /** Gemini calls in flight at once, over all keys. @default BROKER_DEFAULTS.maxConcurrency (10) */
  geminiMaxConcurrency: number;
  /**
   * Milliseconds a Gemini call may go without sending anything, before its first chunk and
   * between chunks; a long answer that keeps streaming is never cut. @default 30000
   */
  geminiTimeoutMs: number;
  /**
   * Milliseconds a user may wait before an answer starts (queue, retries, the first chunk); past
   * it they get a notice instead. @default 60000
   */
  geminiMaxWaitMs: number;
  /**
   * The chat's `thinkingConfig.thinkingLevel` (`GEMINI_THINKING`); undefined leaves the model's
   * own default. Checked against the levels the model takes. @default undefined
   */
  geminiThinking: ThinkingLevel | undefined;
  /** Estimated cost in USD per million input tokens, for metrics only. @default the model's price */
  priceInputPerMillion: number;
  /** USD per million output (and thinking) tokens, for metrics only. @default the model's price */
  priceOutputPerMillion: number;
  /** USD per million cached input tokens, for metrics only. @default the model's price */
  priceCachedPerMillion: number;
  /** Messages one user may send per window before being told to slow down. @default 5 */
  userRateLimit: number;
  /** Milliseconds of the per-user rate window. @default 30000 */
  userRateWindowMs: number;
  /** Most messages one summary reads. @default 300 */
  summaryMaxMessages: number;
  /**
   * Google Search grounding (`GEMINI_SEARCH`): `off` never, `servers` where a server turned it
   * on (`/settings search`), `always` in every chat answer, DMs included. Summaries and folds
   * never search. @default "servers"
   */
  geminiSearch: "off" | "servers" | "always";
  /** Path of a file replacing the built-in persona; undefined keeps the built-in one. */
  personaFile: string | undefined;
  /** Guild to register slash commands in only (instant, for development); else global. */
  devGuildId: string | undefined;
  /** Lowest level that is logged. @default "info" */
  logLevel: "debug" | "info" | "warning" | "error";
  /** Log line format; `auto` writes text on a terminal and JSON lines otherwise. @default "auto" */
  logFormat: "json" | "text" | "auto";
  /** Address of the health, metrics and status server. @default "127.0.0.1" */
  httpHost: string;
  /** Port of that server; undefined means no server is started. */
  httpPort: number | undefined;
  /**
   * REST requests a second this process may send Discord (`DISCORD_REST_RATE`): typing, posts and
   * edits all count. @default DISCORD_REQUESTS_PER_SECOND (40, under Discord's 50 per bot token)
   */
  discordRestRate: number;
  /** What files a message may bring, and how they reach Gemini. */
  attachments: AttachmentConfig;
  /**
   * The gateway shards this process runs (`SHARDS` of `SHARD_COUNT`); undefined runs every shard
   * `GET /gateway/bot` recommends, in this one process.
   */
  shards: ShardRange | undefined;
  /**
   * Redis (`REDIS_URL`, `redis://[:password@]host:port/db`) holding the sessions, the Gemini
   * quota and the Discord budget that several processes share; undefined keeps them in this
   * process (SQLite and memory). Holds a secret when it has a password.
   */
  redisUrl: string | undefined;
  /** Milliseconds a channel's window stays in Redis after its last write. @default 30 days */
  sessionTtlMs: number;
}

/** Re-exported: the error, the input, the token's id and the policy type are part of this API. */
export { type AttachmentConfig, botIdFromToken, ConfigError, type Env, type SupervisorPolicy };

/** Every variable the bot reads, so the start task can ask for exactly these. */
export const CONFIG_VARIABLES = [
  "DISCORD_TOKEN",
  "GEMINI_API_KEY",
  "GEMINI_API_KEYS",
  "GEMINI_MODEL",
  "DATA_DIR",
  "DISCORD_API_URL",
  "GEMINI_API_URL",
  "SESSION_MAX",
  "SESSION_IDLE_MINUTES",
  "SESSION_SWEEP_SECONDS",
  "SESSION_HOSTS",
  "WINDOW_DROP_BLOCK",
  "GEMINI_RPM",
  "GEMINI_TPM",
  "GEMINI_RPD",
  "GEMINI_MAX_CONCURRENCY",
  "GEMINI_TIMEOUT_SECONDS",
  "GEMINI_MAX_WAIT_SECONDS",
  "GEMINI_THINKING",
  // No longer read, only refused: a start with it set stops and names GEMINI_THINKING.
  "GEMINI_THINKING_BUDGET",
  "GEMINI_PRICE_INPUT",
  "GEMINI_PRICE_OUTPUT",
  "GEMINI_PRICE_CACHED",
  "USER_RATE_LIMIT",
  "USER_RATE_WINDOW_SECONDS",
  "SUMMARY_MAX_MESSAGES",
  "GEMINI_SEARCH",
  "PERSONA_FILE",
  "DEV_GUILD_ID",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "HTTP_HOST",
  "HTTP_PORT",
  "DISCORD_REST_RATE",
  "ATTACHMENT_MAX_COUNT",
  "ATTACHMENT_MAX_BYTES",
  "ATTACHMENT_MAX_TOTAL_BYTES",
  "ATTACHMENT_INLINE_MAX_BYTES",
  "ATTACHMENT_FETCH_TIMEOUT_SECONDS",
  "ATTACHMENT_BUDGET_BYTES",
  "SHARDS",
  "SHARD_COUNT",
  "REDIS_URL",
  "SESSION_TTL_DAYS",
] as const;

/**
 * Builds the {@link Config} from environment variables.
 *
 * @example
 * ```ts
 * const token = `${btoa("1100000000000000001")}.abc.def`;
 * const config = loadConfig({ DISCORD_TOKEN: token, GEMINI_API_KEY: "AIza-example-key" });
 * config.geminiModel; // "gemini-3.5-flash-lite"
 * ```
 */
export function loadConfig(env: Env): Config {
  const missingToken = !env.DISCORD_TOKEN?.trim();
  const missingKey = !env.GEMINI_API_KEY?.trim() && !env.GEMINI_API_KEYS?.trim();
  if (missingToken && missingKey) {
    // A fresh checkout lacks both; name both at once rather than one per attempt.
    throw new ConfigError(
      "DISCORD_TOKEN",
      "and GEMINI_API_KEY are missing: set DISCORD_TOKEN to your bot token from the Discord " +
        "developer portal and GEMINI_API_KEY to a Gemini API key from Google AI Studio " +
        "(in the environment or in .env; see .env.example)",
    );
  }
  const discordToken = required(
    env,
    "DISCORD_TOKEN",
    "your bot token from the Discord developer portal",
  );
  if (!isDiscordTokenShaped(discordToken)) {
    // Never echo the value: it is a secret even when malformed.
    throw new ConfigError(
      "DISCORD_TOKEN",
      "must be a bot token of three dot-separated parts, the first the base64 of the bot's id",
    );
  }
  const broker = BROKER_DEFAULTS;
  const { keys: geminiApiKeys, projects: geminiKeyProjects } = apiKeys(env);
  const geminiModel = text(
    env,
    "GEMINI_MODEL",
    DEFAULT_MODEL,
    /^[a-z0-9][a-z0-9.\-]*$/,
    `a model name such as ${DEFAULT_MODEL}`,
  );
  const facts = modelFacts(geminiModel);
  return {
    discordToken,
    geminiApiKeys,
    geminiKeyProjects,
    geminiModel,
    dataDir: env.DATA_DIR?.trim() || "./data",
    discordApiUrl: url(env, "DISCORD_API_URL", "https://discord.com/api"),
    geminiApiUrl: url(env, "GEMINI_API_URL", "https://generativelanguage.googleapis.com"),
    supervisor: supervisorPolicy(env),
    sessionHosts: int(env, "SESSION_HOSTS", 2, 1, 64),
    windowDropBlock: int(env, "WINDOW_DROP_BLOCK", DEFAULT_WINDOW_DROP_BLOCK, 1, MAX_EXCHANGES),
    // The model's free tier, as users report it (Google's page now says to read a project's
    // limits in AI Studio); an unknown model gets the table's lowest.
    geminiRpm: int(env, "GEMINI_RPM", facts.rpm, 1, 1_000_000),
    geminiTpm: int(env, "GEMINI_TPM", facts.tpm, 100, 1_000_000_000),
    geminiRpd: int(env, "GEMINI_RPD", facts.rpd, 1, 1_000_000_000),
    geminiMaxConcurrency: int(env, "GEMINI_MAX_CONCURRENCY", broker.maxConcurrency, 1, 1000),
    geminiTimeoutMs: int(env, "GEMINI_TIMEOUT_SECONDS", broker.timeoutMs / 1000, 1, 600) * 1000,
    geminiMaxWaitMs: int(env, "GEMINI_MAX_WAIT_SECONDS", broker.maxWaitMs / 1000, 1, 3600) * 1000,
    geminiThinking: thinkingLevel(env, geminiModel, facts.thinkingLevels),
    priceInputPerMillion: num(env, "GEMINI_PRICE_INPUT", facts.prices.input),
    priceOutputPerMillion: num(env, "GEMINI_PRICE_OUTPUT", facts.prices.output),
    priceCachedPerMillion: num(env, "GEMINI_PRICE_CACHED", facts.prices.cached),
    userRateLimit: int(env, "USER_RATE_LIMIT", 5, 1, 10_000),
    userRateWindowMs: int(env, "USER_RATE_WINDOW_SECONDS", 30, 1, 86_400) * 1000,
    summaryMaxMessages: int(env, "SUMMARY_MAX_MESSAGES", 300, 1, 5000),
    geminiSearch: oneOf(env, "GEMINI_SEARCH", ["off", "servers", "always"], "servers"),
    personaFile: env.PERSONA_FILE?.trim() || undefined,
    devGuildId: optionalSnowflake(env, "DEV_GUILD_ID"),
    logLevel: oneOf(env, "LOG_LEVEL", ["debug", "info", "warning", "error"], "info"),
    logFormat: oneOf(env, "LOG_FORMAT", ["json", "text", "auto"], "auto"),
    httpHost: env.HTTP_HOST?.trim() || "127.0.0.1",
    httpPort: env.HTTP_PORT?.trim() ? int(env, "HTTP_PORT", 0, 0, 65_535) : undefined,
    discordRestRate: int(env, "DISCORD_REST_RATE", DISCORD_REQUESTS_PER_SECOND, 1, 100_000),
    attachments: attachmentConfig(env),
    shards: shardRange(env),
    redisUrl: redisUrl(env),
    sessionTtlMs: int(env, "SESSION_TTL_DAYS", DEFAULT_SESSION_TTL_DAYS, 1, 3650) * 86_400_000,
  };
}

/**
 * `GEMINI_THINKING`: one of the levels, or undefined for the model's default. A level the model
 * refuses (by the table) and a `GEMINI_THINKING_BUDGET` left from the 2.5 days stop the start:
 * 3.x models take a level, and refuse a budget beside it (or, on Flash-Lite, at all).
 */
function thinkingLevel(
  env: Env,
  model: string,
  accepted: readonly ThinkingLevel[] | undefined,
): ThinkingLevel | undefined {
  if (env.GEMINI_THINKING_BUDGET?.trim()) {
    throw new ConfigError(
      "GEMINI_THINKING_BUDGET",
      "is no longer read: Gemini 3 models take a thinking level instead of a budget. Remove it " +
        `and set GEMINI_THINKING to one of ${THINKING_LEVELS.join(", ")} ` +
        "(or leave it unset for the model's own default)",
    );
  }
  if (!env.GEMINI_THINKING?.trim()) return undefined;
  const level = oneOf(env, "GEMINI_THINKING", THINKING_LEVELS, "minimal");
  if (accepted !== undefined && !accepted.includes(level)) {
    throw new ConfigError(
      "GEMINI_THINKING",
      `must be one of ${accepted.join(", ")} for ${model}, the levels it takes ` +
        "(or unset for its own default)",
    );
  }
  return level;
}

/**
 * Reads `.env` text into a map; the process environment wins over the file, as with dotenv.
 *
 * @example
 * ```ts
 * mergeEnvFile("A=1", { A: "2" }); // { A: "2" }
 * ```
 */
export function mergeEnvFile(
  fileText: string | undefined,
  processEnv: Env,
): Record<string, string | undefined> {
  const fromFile = fileText === undefined ? {} : parseEnv(fileText);
  return { ...fromFile, ...processEnv };
}

/** The secrets in `config` (the Discord token, every Gemini key, Redis's password): never logged. */
export function secretsOf(
  config: Pick<Config, "discordToken" | "geminiApiKeys" | "redisUrl">,
): string[] {
  const secrets = [config.discordToken, ...config.geminiApiKeys];
  const redisPassword = config.redisUrl && decodeURIComponent(new URL(config.redisUrl).password);
  if (redisPassword) secrets.push(redisPassword);
  return secrets;
}
