/**
 * RedisQuotaShare: one Gemini quota for N processes, by leasing. The token pool's interface is
 * synchronous, so a process never asks Redis per request: it leases small chunks of each key's
 * per-minute and per-day budget (one Lua script, `LEASE`), spends them locally, and settles each
 * lease with what it really used once it is used up or its short life ends (`SETTLE`), so unused
 * room goes back to the others within seconds. A lease holds its room until a short grace after
 * its end of life (so a killed holder's lease frees it within seconds); a settled one until a
 * window after its last send, as the server counts.
 *
 * Parked keys (a per-minute 429's rest), limits learned from 429s and spent days are written to
 * Redis and read by every process's next lease. While Redis is away, the share falls back to a
 * {@link LocalQuotaShare}: 1/N of what was left at the last lease. When Redis is back, the sends
 * made meanwhile are written to it; when it came back empty (a restart without persistence),
 * each process writes back its own usage of the window and the day.
 *
 * @module
 */
import { pacificDayCache } from "../pacific_day.ts";
import {
  correctSend,
  endedLeases,
  forgetSettled,
  type Lease,
  type LeaseKey,
  leaseKeys,
  leaseWithRoom,
  newLease,
  requestsLeft,
  spendFrom,
} from "./leases.ts";
import { LocalQuotaShare, type QuotaShare } from "./share.ts";
import type { RedisConnection } from "../redis_client.ts";
import { LeaseRefusal, withQuotaScripts } from "./redis_scripts.ts";
import {
  type LostLease,
  type QuotaClient,
  readEpoch,
  releaseLease,
  requestLease,
  settleLease,
  writeBack,
  writeDaySpent,
  writeThrottle,
} from "./redis_io.ts";
import type { KeyBudget } from "./token_pool.ts";

/** How long a lease may be spent from before what is left of it goes back. */
export const LEASE_LIFE_MS = 2_000;

/**
 * How long after its life a lease's room stays held in Redis unless settled: a live holder settles
 * it at the end of its life (its sweep runs every second), writing what it used for a whole
 * window; a killed holder's lease frees its room this soon, not a window later.
 */
export const LEASE_GRACE_MS = 2_000;

/** How soon to look again while a lease is on its way. */
const LEASE_POLL_MS = 25;

/** The longest a refused lease waits before asking again: others may give room back. */
const LEASE_RETRY_MAX_MS = 500;

/**
 * How often an idle process looks at what everyone holds: the fallback share of a process that
 * loses Redis is of what was left at its last look, so a look must be recent.
 */
const LOOK_EVERY_MS = LEASE_LIFE_MS / 2;

/** Options for {@linkcode RedisQuotaShare}. */
export interface RedisQuotaShareOptions {
  /** The connection (shared with the rest of the process). */
  redis: RedisConnection;
  /** The API keys, in the pool's order (`key1`, `key2`, …); only fingerprints reach Redis. */
  keys: readonly string[];
  /**
   * The project (key group) of each key, by position, as the pool has them: a group's keys share
   * one quota, counted under `project:<name>`. @default every key its own
   */
  projects?: readonly (string | undefined)[];
  /** The configured budget of each key, over all processes. */
  budget: KeyBudget;
  /** Processes sharing it: the divisor of the fallback share. */
  processes: number;
  /** The pool's minute window. @default 61000 */
  windowMs?: number;
  /** Requests per lease. @default about 1/8 of a process's part of the RPM, at least 1 */
  chunk?: number;
  /** How long a limit learned from a 429 holds. @default 10 windows */
  holdMs?: number;
  /** Told when a Redis call fails (the share has fallen back meanwhile). */
  onError?(error: Error): void;
}

/**
 * A {@link QuotaShare} on Redis, with a {@link LocalQuotaShare} for when Redis is away.
 *
 * @example
 * ```ts ignore
 * const share = new RedisQuotaShare({ redis, keys, budget, processes: 2 });
 * const pool = new MemoryTokenPool(keys, budget, { share });
 * ```
 */
export class RedisQuotaShare implements QuotaShare {
  #options: RedisQuotaShareOptions;
  #local: LocalQuotaShare;
  #keys: Map<string, LeaseKey>;
  #windowMs: number;
  #chunk: number;
  #process = crypto.randomUUID().slice(0, 12);
  #seq = 0;
  #online = false;
  /** A look back at Redis (the write-back of what was sent without it) is under way. */
  #reconnecting = false;
  /** Leases asked for whose answers never came, given back when Redis answers again. */
  #lost: { key: LeaseKey; lease: LostLease }[] = [];
  #epoch: string | undefined;
  #sweep: ReturnType<typeof setInterval>;
  #listeners: [string, () => void][];
  #dayOf = pacificDayCache();
  #client: QuotaClient;

  /** Starts leasing once Redis is ready; until then (and while it is away) shares locally. */
  constructor(options: RedisQuotaShareOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 61_000;
    const part = Math.floor(options.budget.rpm / options.processes);
    this.#chunk = options.chunk ?? Math.max(1, Math.floor(part / 8));
    this.#local = new LocalQuotaShare(options.budget, {
      processes: options.processes,
      windowMs: this.#windowMs,
    });
    this.#keys = leaseKeys(options.keys, options.projects);
    const redis = withQuotaScripts(options.redis);
    this.#client = {
      redis,
      process: this.#process,
      windowMs: this.#windowMs,
      nextSeq: () => ++this.#seq,
    };
    this.#listeners = [
      ["ready", () => void this.#reconnected()],
      ["close", () => this.#online = false],
    ];
    for (const [event, listener] of this.#listeners) redis.on(event, listener);
    if (redis.status === "ready") void this.#reconnected();
    // Leases whose life ended give their room back even when no request comes to notice.
    this.#sweep = setInterval(() => this.#expireAll(Date.now()), LOOK_EVERY_MS);
    Deno.unrefTimer(this.#sweep);
  }

  /** True while leases come from Redis; false while the local 1/N share is in force. */
  get online(): boolean {
    return this.#online;
  }

  room(keyId: string, tokens: number, now: number): number | "day" {
    const key = this.#keys.get(keyId);
    if (!key || !this.#online) return this.#local.room(keyId, tokens, now);
    this.#expire(key, now);
    if (key.dayOver === this.#dayOf(now)) return "day";
    if (key.parkedUntil > now) return key.parkedUntil - now;
    const lease = leaseWithRoom(key, tokens);
    const left = requestsLeft(key);
    // One request left: the next lease is asked for now, so a busy process never stalls.
    if ((!lease || left <= 1) && !key.asking && now >= key.retryAt) this.#ask(key, tokens, now);
    if (lease) return 0;
    return Math.max(LEASE_POLL_MS, key.retryAt - now);
  }

  spent(keyId: string, tokens: number, now: number): void {
    this.#local.spent(keyId, tokens, now);
    const key = this.#keys.get(keyId);
    if (!key) return;
    const lease = this.#online ? leaseWithRoom(key, tokens) : undefined;
    if (!lease) key.offline.push({ at: now, tokens, day: this.#dayOf(now) });
    else if (spendFrom(lease, tokens, now)) this.#settle(key, lease);
  }

  corrected(keyId: string, at: number, requests: number, tokens: number, now: number): void {
    this.#local.corrected(keyId, at, requests, tokens, now);
    const key = this.#keys.get(keyId);
    if (!key) return;
    const resettle = correctSend(key, at, requests, tokens);
    if (resettle) this.#settle(key, resettle);
  }

  throttled(
    keyId: string,
    until: number,
    dimension: "requests" | "tokens" | undefined,
    now: number,
  ): void {
    const key = this.#keys.get(keyId);
    if (!key || !this.#online) return;
    key.parkedUntil = Math.max(key.parkedUntil, until);
    const limit = dimension === "tokens" ? this.#options.budget.tpm : this.#options.budget.rpm;
    const learnedUntil = now + (this.#options.holdMs ?? 10 * this.#windowMs);
    const throttle = { until, dimension, limit, learnedUntil, day: this.#dayOf(now), now };
    this.#send(writeThrottle(this.#client.redis, key, throttle));
  }

  dayExhausted(keyId: string, now: number): void {
    const key = this.#keys.get(keyId);
    if (!key) return;
    const day = this.#dayOf(now);
    key.dayOver = day;
    if (!this.#online) return;
    this.#send(writeDaySpent(this.#client.redis, key, { day, now }));
  }

  /** Stops the sweep and gives back what is left of every lease. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const [event, listener] of this.#listeners) this.#client.redis.off(event, listener);
    if (!this.#online) return;
    const settling: Promise<unknown>[] = [];
    for (const key of this.#keys.values()) {
      for (const lease of key.leases) {
        if (!lease.settled) settling.push(this.#settle(key, lease));
      }
    }
    await Promise.all(settling);
  }

  /**
   * Asks Redis for a lease of a chunk (or, with `look`, for none: only what everyone holds, so
   * an idle process's fallback share is of what is left too).
   */
  #ask(key: LeaseKey, tokens: number, now: number, look = false): void {
    key.asking = true;
    const budget = this.#options.budget;
    const want = look ? 0 : this.#chunk;
    const wantTokens = Math.max(tokens, Math.ceil((budget.tpm * want) / budget.rpm));
    const id = `${this.#process}:${++this.#seq}`;
    const day = this.#dayOf(now);
    const expiresAt = now + LEASE_LIFE_MS + LEASE_GRACE_MS;
    const request = { id, want, wantTokens, minTokens: tokens, budget, expiresAt, day, now };
    requestLease(this.#client, key, request).then((answer) => {
      const { requests, granted, refusal, waitMs, today, entries } = answer;
      this.#local.observe(key.keyId, { at: now, entries, today });
      if (refusal === LeaseRefusal.DaySpent || refusal === LeaseRefusal.DayFull) {
        key.dayOver = day;
      } else if (refusal === LeaseRefusal.Parked) key.parkedUntil = now + waitMs;
      key.lookedAt = now;
      if (look) return;
      if (requests > 0) key.leases.push(newLease(id, requests, granted, now, day));
      else key.retryAt = now + Math.min(Math.max(waitMs, LEASE_POLL_MS), LEASE_RETRY_MAX_MS);
    }, (error) => {
      // Timed out, perhaps after Redis granted it: given back once Redis answers, or the day
      // would count calls nobody made and the window room nobody holds.
      if (!look) this.#lost.push({ key, lease: { id, day } });
      this.#failed(error);
    }).finally(() => key.asking = false);
  }

  /** Writes what a lease used, giving back the rest; again after a later correction. */
  #settle(key: LeaseKey, lease: Lease): Promise<unknown> {
    lease.settled = true;
    if (!this.#online) return Promise.resolve();
    return this.#send(settleLease(this.#client, key, lease));
  }

  /** Settles leases whose life is over, and forgets settled ones out of the window. */
  #expire(key: LeaseKey, now: number): void {
    for (const lease of endedLeases(key, now, LEASE_LIFE_MS)) void this.#settle(key, lease);
    forgetSettled(key, now, this.#windowMs);
  }

  /**
   * The sweep: ends leases past their life, and looks at keys not looked at for a while; while
   * offline on a connection that says ready (a command timed out, and so may the look back),
   * it looks back again, so a slow Redis never leaves the share offline for good.
   */
  #expireAll(now: number): void {
    if (!this.#online) {
      if (this.#client.redis.status === "ready") void this.#reconnected();
      return;
    }
    for (const key of this.#keys.values()) {
      this.#expire(key, now);
      if (!key.asking && now - key.lookedAt >= LOOK_EVERY_MS) this.#ask(key, 0, now, true);
    }
  }

  #failed(error: unknown): void {
    this.#online = false;
    this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
    // The connection may still say ready (a timeout): look again once it answers.
    if (this.#client.redis.status === "ready") {
      setTimeout(() => void this.#reconnected(), LEASE_RETRY_MAX_MS);
    }
  }

  #send(command: Promise<unknown>): Promise<unknown> {
    return command.catch((error) => this.#failed(error));
  }

  /**
   * Redis answers (again): the sends made without it are written, and if it came back empty,
   * so is everything this process used in the window and today. Then leasing resumes.
   */
  async #reconnected(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    // Giving a lost lease back twice gives nothing the second time: kept until it surely went.
    let lost: { key: LeaseKey; lease: LostLease }[] = [];
    try {
      const { epoch, emptied } = await readEpoch(this.#client.redis, this.#epoch);
      this.#epoch = epoch;
      const now = Date.now();
      const day = this.#dayOf(now);
      const writes: Promise<unknown>[] = [];
      lost = this.#lost.splice(0);
      for (const { key, lease } of lost) writes.push(releaseLease(this.#client, key, lease, now));
      for (const key of this.#keys.values()) {
        const today = emptied ? this.#local.usage(key.keyId, now).today : 0;
        writes.push(...writeBack(this.#client, key, { emptied, day, now, today }));
      }
      await Promise.all(writes);
      this.#online = true;
    } catch (error) {
      this.#lost.push(...lost);
      this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#reconnecting = false;
    }
  }
}
