/**
 * RedisRequestBudget: Discord's global request budget (about 50 a second per bot token) shared by
 * every process of the bot, as a {@link SharedBudget} that feeds each process's `RequestPacer`.
 *
 * Time is cut into slots of {@link SLOT_MS}; any sliding second overlaps at most five of them,
 * so each slot allows a fifth of `perSecond` over all processes, counted in Redis
 * (`soyebot:discord:{<bot id>}:<slot>`, expiring a little after the slot): together the
 * processes never send more than `perSecond` in any second, and sustain 4/5 of it. A process
 * leases a few of a slot's tokens at a time in one Lua script, so it asks Redis a few times a
 * slot, not per request.
 *
 * While Redis is away each process keeps to 1/N of every slot, locally.
 *
 * @module
 */
import type { RedisConnection } from "./redis_client.ts";
import { KEY_PREFIX } from "./redis_store.ts";
import type { SharedBudget } from "./request_pacer.ts";

/** The length of a counting slot. */
export const SLOT_MS = 250;

/** The most slots a sliding second overlaps: a slot's limit is this fraction of the rate. */
export const SLOTS_PER_SLIDING_SECOND: number = 1000 / SLOT_MS + 1;

// KEYS: the slot's counter. ARGV: wanted, the slot's limit, ms to keep the counter.
const TAKE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used)
if grant <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return grant`;

/** The connection with the script defined on it. */
type Scripted = RedisConnection & {
  soyeTakeSlot(key: string, ...args: number[]): Promise<number>;
};

/** Options for {@linkcode RedisRequestBudget}. */
export interface RedisRequestBudgetOptions {
  /** The connection (shared with the rest of the process). */
  redis: RedisConnection;
  /** Whose budget: the bot's id (every process of one bot token shares it). */
  botId: string;
  /** Requests a second over all processes. */
  perSecond: number;
  /** Processes sharing it: the divisor of the local share while Redis is away. */
  processes: number;
  /** Told when a Redis call fails (the budget is shared locally meanwhile). */
  onError?(error: Error): void;
}

/**
 * A per-slot request budget leased from Redis.
 *
 * @example
 * ```ts ignore
 * const shared = new RedisRequestBudget({ redis, botId, perSecond: 40, processes: 2 });
 * const pacer = new RequestPacer({ perSecond: 40, shared });
 * ```
 */
export class RedisRequestBudget implements SharedBudget {
  #options: RedisRequestBudgetOptions;
  #redis: Scripted;
  /** Requests a slot allows over all processes. */
  readonly slotLimit: number;
  #chunk: number;
  #slot = -1;
  #left = 0;
  #asking = false;
  /** Requests sent in the slot without Redis, against the local share. */
  #localSlot = -1;
  #localUsed = 0;

  /** A share of `perSecond` for one of `processes` processes. */
  constructor(options: RedisRequestBudgetOptions) {
    this.#options = options;
    this.slotLimit = Math.max(1, Math.floor(options.perSecond / SLOTS_PER_SLIDING_SECOND));
    // A few asks a slot per process: fewer round trips, little left unused at the slot's end.
    this.#chunk = Math.max(1, Math.ceil(this.slotLimit / (2 * options.processes)));
    if (!("soyeTakeSlot" in options.redis)) {
      options.redis.defineCommand("soyeTakeSlot", { numberOfKeys: 1, lua: TAKE });
    }
    this.#redis = options.redis as Scripted;
  }

  tryTake(now: number): boolean {
    const slot = Math.floor(now / SLOT_MS);
    if (this.#options.redis.status !== "ready") return this.#takeLocal(slot);
    if (slot !== this.#slot) {
      this.#slot = slot;
      this.#left = 0;
    }
    if (this.#left > 0) {
      this.#left--;
      return true;
    }
    if (!this.#asking) this.#ask(slot);
    return false;
  }

  #ask(slot: number): void {
    this.#asking = true;
    const key = `${KEY_PREFIX}:discord:{${this.#options.botId}}:${slot}`;
    this.#redis.soyeTakeSlot(key, this.#chunk, this.slotLimit, SLOT_MS * 4).then((granted) => {
      if (slot === this.#slot) this.#left += Number(granted);
    }, (error) => this.#options.onError?.(error)).finally(() => this.#asking = false);
  }

  /** 1/N of the slot, counted here. */
  #takeLocal(slot: number): boolean {
    if (slot !== this.#localSlot) {
      this.#localSlot = slot;
      this.#localUsed = 0;
    }
    if (this.#localUsed >= Math.floor(this.slotLimit / this.#options.processes)) return false;
    this.#localUsed++;
    return true;
  }
}
