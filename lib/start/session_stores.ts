/**
 * Where the sessions live: with Redis, every process's sessions are there and this process's
 * turns are its shards'; without it, in the SQLite file under `DATA_DIR`.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import {
  RedisStore,
  type RedisStoreConfig,
  SqliteStore,
  type UnansweredTurn,
} from "../store/mod.ts";
import { shardLabel } from "../discord/mod.ts";

/** The Redis store this process's sessions use, or undefined for the SQLite file. */
export function redisStoreConfig(
  config: Pick<Config, "redisUrl" | "sessionTtlMs" | "shards">,
): RedisStoreConfig | undefined {
  if (config.redisUrl === undefined) return undefined;
  return { url: config.redisUrl, ttlMs: config.sessionTtlMs, turnsOf: shardLabel(config.shards) };
}

/**
 * Reads and forgets the turns a killed process left in flight, from the store the sessions use
 * (`redis`, or the SQLite file at `databasePath`), and closes it.
 */
export async function takeUnanswered(
  redis: RedisStoreConfig | undefined,
  databasePath: string,
): Promise<UnansweredTurn[]> {
  const store = redis ? await RedisStore.connect(redis) : SqliteStore.open(databasePath);
  try {
    return await store.takeUnanswered();
  } finally {
    await store.close();
  }
}
