/**
 * RedisStore: the {@link SessionStore} for several processes, so that a channel's history
 * survives its shard moving to another process (a restart, a redeploy).
 *
 * Key layout (the `{…}` are Redis Cluster hash tags: a channel's keys share one slot):
 * - `soyebot:{<channel>}:window` — a list of JSON exchanges, oldest first, trimmed to the window;
 * - `soyebot:{<channel>}:memory` — the running memory, a string;
 * - `soyebot:turns:{<shards>}` — a hash of the turns in flight of the processes running those
 *   shards (`<channel>:<message id>` → epoch ms), so a restarted process takes back only its own.
 *
 * Every write is one Lua script (atomic, like SQLite's transaction) and sets the channel's TTL
 * again: a window idle for `ttlMs` is gone. An append repeating the last exchange's id (a reply
 * lost with the connection, then retried) is kept once. An outage throws
 * {@link StoreUnavailableError}, which `RetryingStore` holds and retries.
 *
 * @module
 */
import { type Exchange, modelPartsFrom } from "../sessions/mod.ts";
import {
  connectRedis,
  isRedisOutage,
  KEY_PREFIX,
  redactRedisUrl,
  type RedisConnection,
  whenReady,
} from "../redis_client.ts";
import {
  type SessionStore,
  StoreUnavailableError,
  type UnansweredTurn,
  type WriteOutcome,
} from "./sqlite.ts";

/** How a process reaches its Redis session store; sent to each worker host. */
export interface RedisStoreConfig {
  /** `redis://[:password@]host:port/db`; the password never leaves the connection. */
  url: string;
  /** How long a channel's window outlives its last write. */
  ttlMs: number;
  /** Which in-flight turns are this process's: its shard range, such as `0-3/8`. */
  turnsOf: string;
}

/** Re-exported for the callers that read it here; it belongs to the connection (`redis_client.ts`). */
export { KEY_PREFIX };

/** The keys of one channel. */
function channelKeys(channelId: string): { window: string; memory: string } {
  return {
    window: `${KEY_PREFIX}:{${channelId}}:window`,
    memory: `${KEY_PREFIX}:{${channelId}}:memory`,
  };
}

/** The key of the in-flight turns of the processes running `turnsOf`. */
export function turnsKey(turnsOf: string): string {
  return `${KEY_PREFIX}:turns:{${turnsOf}}`;
}

// KEYS: window, memory, turns. ARGV: exchange JSON, keep, ttl ms, exchange id, turn field.
const APPEND = `
local last = redis.call('LINDEX', KEYS[1], -1)
local repeated = false
if ARGV[4] ~= '' and last then
  local ok, decoded = pcall(cjson.decode, last)
  repeated = ok and type(decoded) == 'table' and decoded.id == ARGV[4]
end
if not repeated then redis.call('RPUSH', KEYS[1], ARGV[1]) end
local keep = tonumber(ARGV[2])
if keep <= 0 then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], -keep, -1) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if ARGV[5] ~= '' then redis.call('HDEL', KEYS[3], ARGV[5]) end
return repeated and 0 or 1`;

// KEYS: window, memory. ARGV: memory, keep, ttl ms.
const SAVE_MEMORY = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
local keep = tonumber(ARGV[2])
if keep <= 0 then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], -keep, -1) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// KEYS: turns. Reads and forgets them in one step, so two starts never both take a turn.
const TAKE_TURNS = `
local turns = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return turns`;

/** The ioredis connection with this store's scripts defined on it. */
type ScriptedRedis = RedisConnection & {
  soyeAppend(...args: (string | number)[]): Promise<number>;
  soyeSaveMemory(...args: (string | number)[]): Promise<number>;
  soyeTakeTurns(key: string): Promise<string[]>;
};

/**
 * A {@link SessionStore} on Redis.
 *
 * @example
 * ```ts ignore
 * const store = await RedisStore.connect({ url, ttlMs: 30 * 86_400_000, turnsOf: "0-0/2" });
 * await store.append("1", { user: "hi", model: "yo", at: 0 }, 20);
 * await store.close();
 * ```
 */
export class RedisStore implements SessionStore {
  #redis: ScriptedRedis;
  #config: RedisStoreConfig;
  #turns: string;

  private constructor(redis: RedisConnection, config: RedisStoreConfig) {
    redis.defineCommand("soyeAppend", { numberOfKeys: 3, lua: APPEND });
    redis.defineCommand("soyeSaveMemory", { numberOfKeys: 2, lua: SAVE_MEMORY });
    redis.defineCommand("soyeTakeTurns", { numberOfKeys: 1, lua: TAKE_TURNS });
    this.#redis = redis as ScriptedRedis;
    this.#config = config;
    this.#turns = turnsKey(config.turnsOf);
  }

  /**
   * Connects and waits up to `readyMs` for Redis to answer; past that the store is returned
   * anyway, failing with {@link StoreUnavailableError} until the connection comes up.
   */
  static async connect(config: RedisStoreConfig, readyMs = 3_000): Promise<RedisStore> {
    const redis = connectRedis(config.url);
    await whenReady(redis, readyMs).catch(() => {});
    return new RedisStore(redis, config);
  }

  load(channelId: string): Promise<Exchange[]> {
    return this.#call(async () => {
      const items = await this.#redis.lrange(channelKeys(channelId).window, 0, -1);
      return items.flatMap(parseExchange);
    });
  }

  append(channelId: string, exchange: Exchange, keep: number): Promise<WriteOutcome> {
    const { window, memory } = channelKeys(channelId);
    const stored: Exchange = { user: exchange.user, model: exchange.model, at: exchange.at };
    if (exchange.id !== undefined) stored.id = exchange.id;
    if (exchange.modelParts?.length) stored.modelParts = exchange.modelParts;
    const field = exchange.id === undefined ? "" : turnField(channelId, exchange.id);
    return this.#call(async () => {
      await this.#redis.soyeAppend(
        window,
        memory,
        this.#turns,
        JSON.stringify(stored),
        keep,
        this.#config.ttlMs,
        exchange.id ?? "",
        field,
      );
      return "saved" as const;
    });
  }

  beginTurn(channelId: string, id: string, at: number): Promise<void> {
    return this.#call(async () =>
      void await this.#redis.hsetnx(this.#turns, turnField(channelId, id), Math.round(at))
    );
  }

  endTurn(channelId: string, id: string): Promise<void> {
    return this.#call(async () =>
      void await this.#redis.hdel(this.#turns, turnField(channelId, id))
    );
  }

  takeUnanswered(): Promise<UnansweredTurn[]> {
    return this.#call(async () => {
      const flat = await this.#redis.soyeTakeTurns(this.#turns);
      const turns: (UnansweredTurn & { at: number })[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const split = flat[i].indexOf(":");
        if (split < 0) continue;
        turns.push({
          channelId: flat[i].slice(0, split),
          id: flat[i].slice(split + 1),
          at: Number(flat[i + 1]),
        });
      }
      turns.sort((a, b) => a.at - b.at);
      return turns.map(({ channelId, id }) => ({ channelId, id }));
    });
  }

  loadMemory(channelId: string): Promise<string> {
    return this.#call(async () => (await this.#redis.get(channelKeys(channelId).memory)) ?? "");
  }

  saveMemory(channelId: string, memory: string, keep: number): Promise<void> {
    const keys = channelKeys(channelId);
    return this.#call(async () =>
      void await this.#redis.soyeSaveMemory(
        keys.window,
        keys.memory,
        memory,
        keep,
        this.#config.ttlMs,
      )
    );
  }

  delete(channelId: string): Promise<void> {
    const { window, memory } = channelKeys(channelId);
    return this.#call(async () => void await this.#redis.del(window, memory));
  }

  async close(): Promise<void> {
    // QUIT waits for the replies in flight; a Redis that is away gets a plain disconnect.
    if (this.#redis.status === "ready") await this.#redis.quit().catch(() => {});
    this.#redis.disconnect();
  }

  /** Runs a command, turning an outage into {@link StoreUnavailableError}. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (!isRedisOutage(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreUnavailableError(
        `Redis at ${redactRedisUrl(this.#config.url)} is unavailable: ${reason}`,
        { cause: error },
      );
    }
  }
}

function turnField(channelId: string, id: string): string {
  return `${channelId}:${id}`;
}

/** One stored exchange, or none when the item is damaged (left behind, as SQLite's are). */
function parseExchange(item: string): Exchange[] {
  try {
    const value = JSON.parse(item);
    if (typeof value?.user !== "string" || typeof value?.model !== "string") return [];
    const exchange: Exchange = { user: value.user, model: value.model, at: Number(value.at) || 0 };
    if (typeof value.id === "string") exchange.id = value.id;
    // Items written before signatures were kept have none: they go back as their text.
    const parts = modelPartsFrom(value.modelParts);
    if (parts) exchange.modelParts = parts;
    return [exchange];
  } catch {
    return [];
  }
}
