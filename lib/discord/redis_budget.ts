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
 * While Redis is away or slow (an answer that would come after its slot ends is no use) each
 * process keeps to 1/N of every slot, locally, and says so once ({@linkcode
 * RedisRequestBudgetOptions.onDegraded}); one small probe at a time tells when Redis is quick
 * again.
 *
 * @module
 */
import { KEY_PREFIX, type RedisConnection } from "../redis_client.ts";
import type { SharedBudget } from "./request_pacer.ts";

/** The length of a counting slot. */
export const SLOT_MS = 250;

/**
 * A round trip at least this long makes Redis too slow to lease from: a grant would arrive too
 * late in its slot to be spent (or after it, when it must be dropped).
 */
export const SLOW_ROUND_TRIP_MS = SLOT_MS / 2;

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
  /**
   * Told when the budget falls back to the local share (`why`: Redis is away or slow) and when
   * it leases from Redis again (`why` undefined).
   */
  onDegraded?(why: "away" | "slow" | undefined): void;
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
  #askedAt = 0;
  #degraded: "away" | "slow" | undefined;
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

  /**
   * Why the budget keeps to its local share now, or undefined while it leases from Redis. Asked
   * while degraded, it also sends a probe, so `/readyz` sees Redis heal without any traffic.
   */
  get degraded(): "away" | "slow" | undefined {
    if (this.#degraded && !this.#asking && this.#options.redis.status === "ready") {
      this.#ask(Math.floor(Date.now() / SLOT_MS), 0);
    }
    return this.#degraded;
  }

  tryTake(now: number): boolean {
    const slot = Math.floor(now / SLOT_MS);
    if (this.#options.redis.status !== "ready") {
      this.#degrade("away");
      return this.#takeLocal(slot);
    }
    // An ask unanswered this long: Redis is slow now, whatever it answered before.
    const waited = performance.now() - this.#askedAt;
    if (this.#asking && waited >= SLOW_ROUND_TRIP_MS) this.#degrade("slow");
    if (this.#degraded) {
      // A probe (asking for nothing) at a time: its round trip says when Redis is quick again.
      if (!this.#asking) this.#ask(slot, 0);
      return this.#takeLocal(slot);
    }
    if (slot !== this.#slot) {
      this.#slot = slot;
      this.#left = 0;
    }
    if (this.#left > 0) {
      this.#left--;
      return true;
    }
    if (!this.#asking) this.#ask(slot, this.#chunk);
    return false;
  }

  #ask(slot: number, wanted: number): void {
    this.#asking = true;
    // Round trips are measured on the monotonic clock: they are Redis's speed, not the pacer's.
    this.#askedAt = performance.now();
    const key = `${KEY_PREFIX}:discord:{${this.#options.botId}}:${slot}`;
    this.#redis.soyeTakeSlot(key, wanted, this.slotLimit, SLOT_MS * 4).then((granted) => {
      if (slot === this.#slot) this.#left += Number(granted);
      const quick = performance.now() - this.#askedAt < SLOW_ROUND_TRIP_MS;
      if (quick) this.#degrade(undefined);
      else this.#degrade("slow");
    }, (error) => {
      this.#degrade("away");
      this.#options.onError?.(error);
    }).finally(() => this.#asking = false);
  }

  /** Falls back to (or, with undefined, comes back from) the local share, saying so once. */
  #degrade(why: "away" | "slow" | undefined): void {
    if (this.#degraded === why) return;
    this.#degraded = why;
    this.#options.onDegraded?.(why);
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
