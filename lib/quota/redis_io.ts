/**
 * The Redis calls of `RedisQuotaShare`, each as Redis sees it: asking for a lease, settling one,
 * a 429's rest and learned limit, a spent day, and the write-back when Redis answers again (the
 * sends made without it, or, when it came back empty, this process's whole usage of the window
 * and the day). Each takes the connection and the key state it needs; the share decides when.
 *
 * @module
 */
import {
  dayEnds,
  type Lease,
  type LeaseAnswer,
  type LeaseKey,
  offlineInWindow,
  parseLeaseAnswer,
  usedMember,
} from "./leases.ts";
import type { KeyBudget } from "./token_pool.ts";
import { EPOCH_KEY, quotaKeys, type ScriptedRedis } from "./redis_scripts.ts";

/** How long the shared rest and learned limits of a key are kept after the last 429. */
const STATE_LIFETIME_MS = 86_400_000;

/** The share as a Redis client: its connection, its id and its minute window. */
export interface QuotaClient {
  /** The connection, with the quota scripts defined. */
  redis: ScriptedRedis;
  /** This process's id in Redis (day hash field, lease id prefix). */
  process: string;
  /** The pool's minute window. */
  windowMs: number;
  /** The next number for a member id unique to this process. */
  nextSeq(): number;
}

/** A lease as {@linkcode requestLease} asks for it. */
export interface LeaseRequest {
  /** The lease's id, unique over all processes. */
  id: string;
  /** Requests wanted (0: only a look at what everyone holds). */
  want: number;
  /** Tokens wanted. */
  wantTokens: number;
  /** The fewest tokens worth a lease. */
  minTokens: number;
  /** The configured budget of the key, over all processes. */
  budget: KeyBudget;
  /** When the lease leaves the window unless settled first. */
  expiresAt: number;
  /** The Pacific day now. */
  day: string;
  /** The time now. */
  now: number;
}

/** Asks Redis for a lease (`LEASE`), and what everyone holds; the caller handles a failure. */
export async function requestLease(
  client: QuotaClient,
  key: LeaseKey,
  request: LeaseRequest,
): Promise<LeaseAnswer> {
  const { rpm, tpm, rpd } = request.budget;
  const keys = quotaKeys(key.fingerprint, request.day);
  const answer = await client.redis.soyeLease(
    keys.minute,
    keys.day,
    keys.state,
    request.now,
    request.expiresAt,
    request.want,
    request.wantTokens,
    request.minTokens,
    rpm,
    tpm,
    rpd,
    client.process,
    request.id,
    dayEnds(request.now),
  );
  return parseLeaseAnswer(answer);
}

/** Replaces the lease's member with what it used (`SETTLE`); the caller handles a failure. */
export function settleLease(client: QuotaClient, key: LeaseKey, lease: Lease): Promise<unknown> {
  const member = usedMember(lease);
  const old = lease.member;
  const dayDelta = lease.used - lease.dayCounted;
  lease.member = member;
  lease.dayCounted = lease.used;
  const keys = quotaKeys(key.fingerprint, lease.day);
  return client.redis.soyeSettle(
    keys.minute,
    keys.day,
    old,
    member,
    lease.lastAt + client.windowMs,
    client.process,
    dayDelta,
    dayEnds(lease.grantedAt),
  );
}

/** A lease asked for whose answer never came: Redis may have granted it all the same. */
export interface LostLease {
  /** The lease's id. */
  id: string;
  /** The Pacific day it was asked on. */
  day: string;
}

/** Gives back a lost lease (`RELEASE`), if Redis granted it; the caller handles a failure. */
export function releaseLease(
  client: QuotaClient,
  key: LeaseKey,
  lost: LostLease,
  now: number,
): Promise<unknown> {
  const keys = quotaKeys(key.fingerprint, lost.day);
  return client.redis.soyeRelease(keys.minute, keys.day, lost.id, client.process, dayEnds(now));
}

/** A per-minute 429 as {@linkcode writeThrottle} shares it. */
export interface Throttle {
  /** When the key may send again. */
  until: number;
  /** What ran out, if the server said. */
  dimension: "requests" | "tokens" | undefined;
  /** The configured limit of that dimension, of which a quarter is learned. */
  limit: number;
  /** Until when the learned limit holds. */
  learnedUntil: number;
  /** The Pacific day it happened on. */
  day: string;
  /** The time now. */
  now: number;
}

/** Writes a 429's rest and learned limit to the key's shared state (`THROTTLE`). */
export function writeThrottle(
  redis: ScriptedRedis,
  key: LeaseKey,
  throttle: Throttle,
): Promise<unknown> {
  const { state, minute } = quotaKeys(key.fingerprint, throttle.day);
  return redis.soyeThrottle(
    state,
    minute,
    Math.round(throttle.until),
    throttle.dimension ?? "",
    Math.ceil(throttle.limit / 4),
    throttle.learnedUntil,
    throttle.now,
    STATE_LIFETIME_MS,
  );
}

/** Marks the key's day spent for every process, until the day ends. */
export function writeDaySpent(
  redis: ScriptedRedis,
  key: LeaseKey,
  spent: { day: string; now: number },
): Promise<unknown> {
  const keys = quotaKeys(key.fingerprint, spent.day);
  return redis.multi().hset(keys.day, "spent", 1).pexpireat(keys.day, dayEnds(spent.now)).exec();
}

/**
 * Reads Redis's epoch (setting it when there is none) and tells whether it changed since
 * `known`: then Redis came back empty.
 */
export async function readEpoch(
  redis: ScriptedRedis,
  known: string | undefined,
): Promise<{ epoch: string; emptied: boolean }> {
  const fresh = crypto.randomUUID();
  await redis.set(EPOCH_KEY, fresh, "NX");
  const epoch = await redis.get(EPOCH_KEY);
  return { epoch: epoch ?? fresh, emptied: known !== undefined && epoch !== known };
}

/** What {@linkcode writeBack} writes for a key, besides its leases and offline sends. */
export interface WriteBackOptions {
  /** Redis came back empty: everything of this process's own is written, not only the offline. */
  emptied: boolean;
  /** The Pacific day now. */
  day: string;
  /** The time now. */
  now: number;
  /** The requests this process counts for the key today (written when `emptied`). */
  today: number;
}

/**
 * Writes one key's state back when Redis answers again: its leases end with what they used, the
 * sends made without Redis count, and so does the day. Returns the writes under way.
 */
export function writeBack(
  client: QuotaClient,
  key: LeaseKey,
  options: WriteBackOptions,
): Promise<unknown>[] {
  const { redis, windowMs } = client;
  const { emptied, day, now } = options;
  const writes: Promise<unknown>[] = [];
  const keys = quotaKeys(key.fingerprint, day);
  // Leases that were out when Redis went away end now, with what they used.
  for (const lease of key.leases) lease.settled = true;
  for (const lease of key.leases) {
    if (!emptied) writes.push(settleLease(client, key, lease));
    else if (lease.used > 0) {
      lease.member = `${lease.id}|${lease.used}|${lease.usedTokens}`;
      writes.push(redis.zadd(keys.minute, lease.lastAt + windowMs, lease.member));
    }
  }
  const sends = offlineInWindow(key, now, windowMs);
  if (sends) {
    const member =
      `${client.process}:offline:${client.nextSeq()}|${sends.requests}|${sends.tokens}`;
    writes.push(redis.zadd(keys.minute, sends.lastAt + windowMs, member));
  }
  // The day: all of this process's own when Redis lost it, else what it sent without Redis.
  const today = emptied ? options.today : key.offline.filter((s) => s.day === day).length;
  if (today > 0) {
    const write = emptied
      ? redis.hset(keys.day, client.process, today)
      : redis.hincrby(keys.day, client.process, today);
    writes.push(write, redis.pexpireat(keys.day, dayEnds(now)));
  }
  key.offline = [];
  return writes;
}
