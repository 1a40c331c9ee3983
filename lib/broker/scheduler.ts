/**
 * When each of the broker's waiting requests starts: at most `maxConcurrency` at a time, in
 * priority order, once the {@link TokenPool} has room on a key and a retry's delay has passed.
 * It wakes itself (one timer, for the soonest change), tells callers when they expect to start,
 * and hands over the requests that cannot start before their deadline.
 *
 * @module
 */
import type { BrokerContext } from "./context.ts";
import { type Job, JobQueue, planWaits } from "./queue.ts";
import type { TimerId } from "../clock.ts";
import type { Reservation } from "../quota/mod.ts";

/** Re-exported: the broker's shared types, which this module's API is built on. */
export type * from "./context.ts";
/** Re-exported: the jobs it schedules. */
export type { Job };

/** Why a request cannot start before its deadline, by what the pool said. */
export type LateReason = "unavailable" | "rejected" | "day_quota";

/** What {@linkcode BrokerScheduler} uses of the broker. */
export type SchedulerContext = Pick<BrokerContext, "pool" | "clock" | "settings">;

/** What the scheduler hands back to the broker. */
export interface SchedulerHandlers {
  /** Starts a job with its room; the call ends with {@link BrokerScheduler.done}. */
  start(job: Job, reservation: Reservation): void;
  /** Ends a job that cannot start before its deadline. */
  late(job: Job, reason: LateReason, now: number): void;
}

/**
 * The broker's admission of waiting requests.
 *
 * @example
 * ```ts ignore
 * const scheduler = new BrokerScheduler(context, { start: run, late: fail });
 * scheduler.enqueue(job);
 * scheduler.pump();
 * ```
 */
export class BrokerScheduler {
  #context: SchedulerContext;
  #handlers: SchedulerHandlers;
  #queue = new JobQueue();
  #active = 0;
  #timer: TimerId | undefined;
  #timerAt = Infinity;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  /** Makes an empty scheduler. */
  constructor(context: SchedulerContext, handlers: SchedulerHandlers) {
    this.#context = context;
    this.#handlers = handlers;
  }

  /** Jobs waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** Jobs running. */
  get active(): number {
    return this.#active;
  }

  /** Puts a job (new, or back for a retry) in its place; {@link pump} starts it when due. */
  enqueue(job: Job): void {
    this.#queue.insert(job);
  }

  /** Takes `job` out of the queue; false when it is not waiting there (running, or ended). */
  remove(job: Job): boolean {
    const waiting = this.#queue.jobs.includes(job);
    if (waiting) this.#queue.remove([job]);
    return waiting;
  }

  /** A started job's call has ended: its slot is free. */
  done(): void {
    this.#active--;
    if (this.#active === 0) { for (const wake of this.#idleWaiters.splice(0)) wake(); }
    this.pump();
  }

  /** Starts what can start now, tells the rest when they expect to, and ends the late ones. */
  pump(): void {
    if (this.#stopped) return;
    const { pool, clock } = this.#context;
    const { maxConcurrency } = this.#context.settings;
    const now = clock.now();
    let poolReadyAt = now;
    /** Why a request that cannot start in time ends: the pool's state decides the notice. */
    let reason: LateReason = "unavailable";
    while (this.#active < maxConcurrency) {
      const job = this.#queue.peekReady(now);
      if (!job) break;
      const room = pool.reserve(job.estimate, now);
      if (!room.ok) {
        // Every key refused, or every day spent, ends the requests that cannot wait that long
        // (below); a key's check or midnight within the bound is waited for like any quota.
        reason = room.allDisabled ? "rejected" : room.dayExhausted ? "day_quota" : "unavailable";
        poolReadyAt = now + room.waitMs;
        this.#wakeAt(poolReadyAt);
        break;
      }
      this.#queue.takeReady(now);
      this.#active++;
      this.#handlers.start(job, room.reservation);
    }
    if (this.#queue.length === 0) return;
    this.#settleWaits(now, poolReadyAt, reason);
    const soonest = this.#queue.nextChange(now);
    if (soonest < Infinity) this.#wakeAt(soonest);
  }

  /** Starts nothing more, and takes out and returns the waiting jobs. */
  stop(): Job[] {
    this.#stopped = true;
    this.#context.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#queue.drain();
  }

  /** Resolves when no job is running. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  #settleWaits(now: number, poolReadyAt: number, reason: LateReason): void {
    const { pool, settings } = this.#context;
    const slots = pool.forecast?.(this.#queue.length, now) ?? [];
    const plan = planWaits(this.#queue.jobs, {
      now,
      slots,
      poolReadyAt,
      thresholdMs: settings.countdownThresholdMs,
    });
    for (const [job, startsAt] of plan.announce) {
      job.announced = startsAt;
      job.request.onWait!(startsAt);
    }
    this.#queue.remove(plan.late);
    for (const job of plan.late) this.#handlers.late(job, reason, now);
  }

  #wakeAt(at: number): void {
    if (at >= this.#timerAt) return;
    const { clock } = this.#context;
    clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimeout(() => {
      this.#timerAt = Infinity;
      this.#timer = undefined;
      this.pump();
    }, Math.max(0, at - clock.now()));
  }
}
