/**
 * The broker's waiting requests: kept in priority order (chat before summaries, then oldest
 * first), and the plan of who is told when they expect to start and who cannot start in time.
 * Pure: no timers, the caller passes the time.
 *
 * @module
 */
import type { BrokerRequest, BrokerResult } from "./port.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerFailure, BrokerRequest, BrokerResult, Priority } from "./port.ts";
export type { Content, Usage } from "../gemini/port.ts";

/** One request in the broker, from `generate()` until it resolves. */
export interface Job {
  /** What was asked. */
  request: BrokerRequest;
  /** Input tokens to reserve, estimated once: the request does not change while it waits. */
  estimate: number;
  /** Arrival order, for oldest first within a rank. */
  seq: number;
  /** 0 for chat, 1 for summaries: lower goes first. */
  rank: number;
  /** Epoch ms the request arrived. */
  enqueuedAt: number;
  /** When the answer must have started: `enqueuedAt + maxWaitMs`. */
  deadline: number;
  /** Epoch ms before which it must not start (a retry's delay). */
  notBefore: number;
  /** Calls made for it so far. */
  attempts: number;
  /** The start time its caller was last told through `onWait`, if told. */
  announced: number | undefined;
  /** The HTTP status of its last failed call, if it had one. */
  lastStatus: number | undefined;
  /** Ends the request. */
  resolve(result: BrokerResult): void;
}

/** What {@link newJob} needs besides the request. */
export interface NewJobOptions {
  /** Arrival order. */
  seq: number;
  /** Epoch ms it arrives. */
  now: number;
  /** Milliseconds its answer may take to start. */
  maxWaitMs: number;
  /** Input tokens to reserve for each call. */
  estimate: number;
  /** Ends the request. @default a function that does nothing */
  resolve?(result: BrokerResult): void;
}

/**
 * A job for `request`, ranked by its priority, free to start at once, due to start by
 * `now + maxWaitMs`.
 *
 * @example
 * ```ts
 * import { newJob } from "./queue.ts";
 * import assert from "node:assert/strict";
 *
 * const job = newJob({ priority: "summary", contents: [] }, { seq: 0, now: 0, maxWaitMs: 60_000, estimate: 1 });
 * assert.deepEqual([job.rank, job.deadline], [1, 60_000]);
 * ```
 */
export function newJob(request: BrokerRequest, options: NewJobOptions): Job {
  const { seq, now, maxWaitMs, estimate, resolve = () => {} } = options;
  return {
    request,
    estimate,
    seq,
    rank: request.priority === "chat" ? 0 : 1,
    enqueuedAt: now,
    deadline: now + maxWaitMs,
    notBefore: now,
    attempts: 0,
    announced: undefined,
    lastStatus: undefined,
    resolve,
  };
}

/**
 * Jobs in (rank, seq) order; a retried job returns to its place.
 *
 * @example
 * ```ts
 * import { type Job, JobQueue } from "./queue.ts";
 * import assert from "node:assert/strict";
 *
 * const job = (seq: number, rank: number) => ({ seq, rank, notBefore: 0 } as Job);
 * const queue = new JobQueue();
 * queue.insert(job(0, 1));
 * queue.insert(job(1, 0));
 * assert.equal(queue.takeReady(0)?.seq, 1);
 * ```
 */
export class JobQueue {
  #jobs: Job[] = [];

  /** Jobs waiting. */
  get length(): number {
    return this.#jobs.length;
  }

  /** The waiting jobs in order; do not change the array. */
  get jobs(): readonly Job[] {
    return this.#jobs;
  }

  /** Puts `job` in its place by binary search. */
  insert(job: Job): void {
    let lo = 0;
    let hi = this.#jobs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.#jobs[mid];
      if (other.rank < job.rank || (other.rank === job.rank && other.seq < job.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#jobs.splice(lo, 0, job);
  }

  /** The first job allowed to start at `now`, left in the queue; undefined if none is. */
  peekReady(now: number): Job | undefined {
    return this.#jobs.find((job) => job.notBefore <= now);
  }

  /** Takes out and returns the first job allowed to start at `now`. */
  takeReady(now: number): Job | undefined {
    const index = this.#jobs.findIndex((job) => job.notBefore <= now);
    return index < 0 ? undefined : this.#jobs.splice(index, 1)[0];
  }

  /** Takes out the given jobs. */
  remove(jobs: readonly Job[]): void {
    if (jobs.length > 0) this.#jobs = this.#jobs.filter((job) => !jobs.includes(job));
  }

  /** Takes out and returns every job. */
  drain(): Job[] {
    return this.#jobs.splice(0);
  }

  /** The earliest time after `now` that something changes: a retry may start or a deadline passes. */
  nextChange(now: number): number {
    let soonest = Infinity;
    for (const job of this.#jobs) {
      if (job.notBefore > now) soonest = Math.min(soonest, job.notBefore);
      soonest = Math.min(soonest, job.deadline);
    }
    return soonest;
  }
}

/** Tells a caller that was given a start time that it no longer waits (it starts, or ends). */
export function endWait(job: Job): void {
  if (job.announced === undefined) return;
  job.announced = undefined;
  job.request.onWait?.(undefined);
}

/** What {@link planWaits} decided. */
export interface WaitPlan {
  /** Jobs that cannot start before their deadline. */
  late: Job[];
  /** Jobs whose callers are to be told a (new) start time, with it. */
  announce: [job: Job, startsAt: number][];
}

/**
 * Which waiting jobs cannot start before their deadline, and which callers learn when they expect
 * to start: once that is `thresholdMs` or more away, and again when it moves by a second or more.
 * The estimate is the queue position's slot in the pool's forecast (`slots`, which knows rests and
 * open circuits), the pool's own wait (`poolReadyAt`), or a retry's delay, whichever is latest.
 *
 * @example
 * ```ts
 * import { type Job, planWaits } from "./queue.ts";
 * import assert from "node:assert/strict";
 *
 * const job = { notBefore: 0, deadline: 60_000, request: { onWait() {} } } as unknown as Job;
 * const plan = planWaits([job], { now: 0, slots: [8000], poolReadyAt: 0, thresholdMs: 5000 });
 * assert.deepEqual(plan.announce, [[job, 8000]]);
 * ```
 */
export function planWaits(
  jobs: readonly Job[],
  at: { now: number; slots: readonly number[]; poolReadyAt: number; thresholdMs: number },
): WaitPlan {
  const plan: WaitPlan = { late: [], announce: [] };
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    const startsAt = Math.max(job.notBefore, at.slots[i] ?? at.poolReadyAt, at.poolReadyAt);
    if (startsAt >= job.deadline) {
      plan.late.push(job);
      continue;
    }
    if (!job.request.onWait) continue;
    if (job.announced === undefined && startsAt - at.now < at.thresholdMs) continue;
    if (job.announced !== undefined && Math.abs(job.announced - startsAt) < 1000) continue;
    plan.announce.push([job, startsAt]);
  }
  return plan;
}
