/**
 * The one place ioredis is configured: every Redis connection the bot opens (the session store
 * in each worker host, the quota and Discord budget leases on the main thread) is made here, so
 * that all of them fail the same way while Redis is away.
 *
 * A command sent while the connection is down fails at once (no offline queue) and a command
 * that gets no answer fails after {@link REDIS_COMMAND_TIMEOUT_MS}: callers hold or fall back
 * instead of waiting behind a dead socket, and ioredis keeps reconnecting in the background.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { Logger } from "./log.ts";

/** The prefix of every key the bot writes, so that it can share a Redis with others. */
export const KEY_PREFIX = "soyebot";

/** How long a command may go unanswered before it fails as an outage. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/** The longest pause between reconnection attempts while Redis is away. */
export const REDIS_RECONNECT_MAX_MS = 1_000;

/** A Redis connection, as ioredis makes it. */
export type RedisConnection = Redis;

/**
 * Opens a connection to `url` (`redis://[:password@]host:port/db`); it connects in the background
 * and reconnects by itself. Errors are reported to `onError` (never thrown as events).
 *
 * @example
 * ```ts ignore
 * const redis = connectRedis("redis://127.0.0.1:6379/0");
 * await redis.ping();
 * redis.disconnect();
 * ```
 */
export function connectRedis(
  url: string,
  options: { onError?: (error: Error) => void } = {},
): RedisConnection {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A restart of a busy machine should not make a connection attempt look like an outage.
    connectTimeout: 5_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(100 * attempt, REDIS_RECONNECT_MAX_MS),
    // Unsent commands are failed, not replayed: the caller decides what to retry.
    autoResendUnfulfilledCommands: false,
  });
  // Without a listener an EventEmitter "error" would be thrown and end the process.
  redis.on("error", (error: Error) => options.onError?.(error));
  return redis;
}

/** Resolves once `redis` is ready, or rejects with the reason after `timeoutMs`. */
export function whenReady(redis: RedisConnection, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  let lastError = "no answer";
  const onError = (error: Error) => lastError = error.message;
  const onReady = () => done(undefined);
  const timer = setTimeout(() => done(new Error(lastError)), timeoutMs);
  function done(error: Error | undefined) {
    clearTimeout(timer);
    redis.off("ready", onReady);
    redis.off("error", onError);
    if (error) reject(error);
    else resolve();
  }
  redis.on("ready", onReady);
  redis.on("error", onError);
  return promise;
}

/**
 * Replies Redis gives while it cannot serve for a while (loading its data, a replica that became
 * read-only, out of memory): they heal, unlike a wrong command.
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|OOM|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * True when an error from ioredis means Redis is away or not serving (connection closed or
 * refused, a timeout, a transient reply), which may heal; false for a reply to a wrong command,
 * which is a bug.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isRedisOutage(new Error("Connection is closed.")), true);
 * ```
 */
export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return TRANSIENT_REPLY.test(error.message);
  return true;
}

/**
 * The URL without its password, for messages and logs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(redactRedisUrl("redis://:s3cret@10.0.0.5:6379/2"), "redis://10.0.0.5:6379/2");
 * ```
 */
export function redactRedisUrl(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || "6379";
  const db = parsed.pathname.replace(/^\//, "") || "0";
  return `${parsed.protocol}//${parsed.hostname}:${port}/${db}`;
}

/** What {@linkcode openRedis} logs through, and how it keeps secrets out of the lines. */
export interface OpenRedisOptions {
  /** How long to wait for the first `ready`. */
  timeoutMs: number;
  /** Told once when Redis goes away (WARN) and once when it is back (INFO). */
  logger: Logger;
  /** Takes secrets out of an error's text. @default the text as it is */
  redact?: (text: string) => string;
}

/**
 * Connects to `url` and waits until it is ready; logs an outage once, and its end. Rejects, with
 * the connection closed, when Redis does not answer within `timeoutMs`.
 *
 * @example
 * ```ts ignore
 * const redis = await openRedis("redis://127.0.0.1:6379/0", { timeoutMs: 5_000, logger: log });
 * ```
 */
export async function openRedis(url: string, options: OpenRedisOptions): Promise<RedisConnection> {
  const { logger, redact = (text: string) => text } = options;
  let down = false;
  const redis = connectRedis(url, {
    onError: (error) => {
      if (!down) logger.warn("Redis unavailable: {error}", { error: redact(error.message) });
      down = true;
    },
  });
  redis.on("ready", () => {
    if (down) logger.info("Redis is back");
    down = false;
  });
  try {
    await whenReady(redis, options.timeoutMs);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}
