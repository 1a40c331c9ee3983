/**
 * The lease bookkeeping of `RedisQuotaShare`, apart from its Redis I/O: the leases a process
 * holds on each quota, what it has spent of them, the sends it made while Redis was away, and
 * the members those become in Redis's minute sets (`<id>|<requests>|<tokens>`).
 *
 * No I/O: time is passed in.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { nextPacificMidnight } from "../pacific_day.ts";

/** A chunk of a quota's budget, leased from Redis and spent locally. */
export interface Lease {
  /** `<process>:<sequence>`, unique across processes. */
  id: string;
  /** Its member in the minute set now ('' once settled with nothing used). */
  member: string;
  /** Requests granted. */
  requests: number;
  /** Input tokens granted. */
  tokens: number;
  /** Requests spent. */
  used: number;
  /** Input tokens spent. */
  usedTokens: number;
  /** Send times, for corrections. */
  sends: number[];
  /** Epoch ms of the grant. */
  grantedAt: number;
  /** Epoch ms of the last send (or the grant). */
  lastAt: number;
  /** The Pacific day it counts against. */
  day: string;
  /** Requests the day hash counts for it. */
  dayCounted: number;
  /** Given back: what it used is written, nothing more is spent from it. */
  settled: boolean;
}

/** One quota (a key, or a project's keys) as the share leases it. */
export interface LeaseKey {
  /** Named as the pool counts the quota: `key1`, …, or `project:<name>`. */
  keyId: string;
  /** What Redis knows it by: a hash of the key (or project name), never the key itself. */
  fingerprint: string;
  /** Leases held, settled ones included until they leave the window. */
  leases: Lease[];
  /** A lease request is on its way. */
  asking: boolean;
  /** Epoch ms before which a refused lease is not asked for again. */
  retryAt: number;
  /** Epoch ms until which every process rests the quota after a 429. */
  parkedUntil: number;
  /** The day whose quota is spent for every process. */
  dayOver: string | undefined;
  /** Sends made while Redis was away, written to it when it is back. */
  offline: { at: number; tokens: number; day: string }[];
  /** When Redis last said what everyone holds on the key. */
  lookedAt: number;
}

/**
 * One {@link LeaseKey} per quota: a key of its own by its position (`key1`, …), the keys of a
 * project together as `project:<name>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const keys = leaseKeys(["a", "b", "c"], [undefined, "p", "p"]);
 * assert.deepEqual([...keys.keys()], ["key1", "project:p"]);
 * ```
 */
export function leaseKeys(
  keys: readonly string[],
  projects: readonly (string | undefined)[] = [],
): Map<string, LeaseKey> {
  const out = new Map<string, LeaseKey>();
  keys.forEach((key, i) => {
    const project = projects[i];
    // Named as the pool names the quota it counts: a group's keys share one.
    const keyId = project === undefined ? `key${i + 1}` : `project:${project}`;
    if (out.has(keyId)) return;
    const identity = project === undefined ? key : keyId;
    out.set(keyId, {
      keyId,
      fingerprint: createHash("sha256").update(identity).digest("hex").slice(0, 16),
      leases: [],
      asking: false,
      retryAt: 0,
      parkedUntil: 0,
      dayOver: undefined,
      offline: [],
      lookedAt: 0,
    });
  });
  return out;
}

/** A fresh lease of `requests` and `tokens`, granted at `now` for `day`. */
export function newLease(
  id: string,
  requests: number,
  tokens: number,
  now: number,
  day: string,
): Lease {
  return {
    id,
    member: `${id}|${requests}|${tokens}`,
    requests,
    tokens,
    used: 0,
    usedTokens: 0,
    sends: [],
    grantedAt: now,
    lastAt: now,
    day,
    dayCounted: requests,
    settled: false,
  };
}

/** A lease with room for one request of `tokens`, if any. */
export function leaseWithRoom(key: LeaseKey, tokens: number): Lease | undefined {
  return key.leases.find((l) =>
    !l.settled && l.used < l.requests && l.usedTokens + tokens <= l.tokens
  );
}

/** Requests left in the key's leases. */
export function requestsLeft(key: LeaseKey): number {
  return key.leases.reduce((sum, l) => sum + l.requests - l.used, 0);
}

/** Spends one request of `tokens` from `lease`; true when the lease is used up. */
export function spendFrom(lease: Lease, tokens: number, now: number): boolean {
  lease.used++;
  lease.usedTokens += tokens;
  lease.sends.push(now);
  lease.lastAt = now;
  return lease.used === lease.requests;
}

/**
 * Corrects the send made at `at` (`requests` -1 for a refusal, `tokens` the billing difference),
 * in its lease or among the sends made without Redis. Returns the lease when one was corrected
 * after it was settled: its member must be written again.
 */
export function correctSend(
  key: LeaseKey,
  at: number,
  requests: number,
  tokens: number,
): Lease | undefined {
  const lease = key.leases.find((l) => l.sends.includes(at));
  if (lease) {
    lease.used = Math.max(0, lease.used + requests);
    lease.usedTokens = Math.max(0, lease.usedTokens + tokens);
    if (requests < 0) lease.sends.splice(lease.sends.indexOf(at), 1);
    return lease.settled ? lease : undefined;
  }
  const offline = key.offline.find((s) => s.at === at);
  if (!offline) return undefined;
  offline.tokens = Math.max(0, offline.tokens + tokens);
  if (requests < 0) key.offline.splice(key.offline.indexOf(offline), 1);
  return undefined;
}

/** The leases not yet settled whose life (`lifeMs`) is over: they must be settled now. */
export function endedLeases(key: LeaseKey, now: number, lifeMs: number): Lease[] {
  return key.leases.filter((l) => !l.settled && now >= l.grantedAt + lifeMs);
}

/** Forgets settled leases whose last send has left the window: Redis no longer counts them. */
export function forgetSettled(key: LeaseKey, now: number, windowMs: number): void {
  key.leases = key.leases.filter((l) =>
    !l.settled || Math.max(l.lastAt, l.grantedAt) + windowMs > now
  );
}

/** The sends made without Redis still in the window, together; undefined when none. */
export function offlineInWindow(
  key: LeaseKey,
  now: number,
  windowMs: number,
): { requests: number; tokens: number; lastAt: number } | undefined {
  const sends = key.offline.filter((s) => s.at + windowMs > now);
  if (sends.length === 0) return undefined;
  const tokens = sends.reduce((sum, s) => sum + s.tokens, 0);
  return { requests: sends.length, tokens, lastAt: sends.at(-1)!.at };
}

/** The member that records what `lease` used ('' when nothing). */
export function usedMember(lease: Lease): string {
  return lease.used + lease.usedTokens > 0 ? `${lease.id}|${lease.used}|${lease.usedTokens}` : "";
}

/** What the `LEASE` script answered. */
export interface LeaseAnswer {
  /** Requests granted (0: refused, or only a look). */
  requests: number;
  /** Tokens granted. */
  granted: number;
  /** Why it was refused: a `LeaseRefusal`. */
  refusal: number;
  /** How long to wait before asking again. */
  waitMs: number;
  /** Requests counted against the day, by every process. */
  today: number;
  /** What every process holds in the window. */
  entries: { expiresAt: number; requests: number; tokens: number }[];
}

/**
 * Reads the `LEASE` script's flat answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const answer = parseLeaseAnswer([2, 500, 0, 0, 7, 61_000, 2, 500]);
 * assert.deepEqual(answer.entries, [{ expiresAt: 61_000, requests: 2, tokens: 500 }]);
 * ```
 */
export function parseLeaseAnswer(answer: readonly (string | number)[]): LeaseAnswer {
  const [requests, granted, refusal, waitMs, today, ...flat] = answer.map(Number);
  const entries = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    entries.push({ expiresAt: flat[i], requests: flat[i + 1], tokens: flat[i + 2] });
  }
  return { requests, granted, refusal, waitMs, today, entries };
}

/** When a day's counter may go: an hour after midnight Pacific, for clocks a little apart. */
export function dayEnds(now: number): number {
  return nextPacificMidnight(now) + 3_600_000;
}
