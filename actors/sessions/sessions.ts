/**
 * Sessions: the main thread's handle on the session actors. It places each channel on a worker
 * host by a stable hash, speaks the loan protocol with the hosts (`begin` → `lent` → `commit` →
 * `done`), and acts on the {@link Supervisor}'s answers: evict past the cap, reap when idle,
 * restart a dead host or give up.
 *
 * A host that dies loses nothing a turn has shown: its turns are begun again on the new host, in
 * their order, so the channel's later turns still queue behind them, and the text shown is
 * committed there. A turn that had not been lent yet is begun again once.
 *
 * A commit may hand its turn a fold of the channel's memory (`CommitResult.fold`); the turn asks
 * the broker here, on the main thread, and hands the result back with {@link Sessions.remember},
 * so a worker never calls back into the main thread.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../../lib/clock.ts";
import type { Content, ModelPart } from "../../lib/sessions/window.ts";
import type {
  BeginResult,
  CommitResult,
  SessionError,
  SessionsPort,
  Shown,
} from "../../lib/sessions/port.ts";
import type { RedisStoreConfig } from "../../lib/store/redis.ts";
import type { StoreEvent, StoreHealth } from "../../lib/store/retrying.ts";
import { hostIndex } from "../../lib/sessions/host_index.ts";
import { HostPool } from "./host_pool.ts";
import {
  afterHostDied,
  commitResultOf,
  newPending,
  type Pending,
  sessionError,
  settlePending,
  STOPPING_OUTCOME,
} from "./pending_turns.ts";
import { StoreBoard } from "./store_board.ts";
import type { FromHost, ToHost } from "./host.ts";
import { Supervisor, type SupervisorCounts, type SupervisorPolicy } from "./supervisor.ts";

/** Something worth a log line or a metric. */
export type SessionsEvent =
  | { type: "evicted"; channelId: string; reason: "lru" | "idle" }
  | { type: "host_restarted"; host: number; error: string; resent: number; failed: number }
  | { type: "session_crashed"; channelId: string; message: string }
  /** A host's store refused, retried, recovered or dropped writes. */
  | { type: "store"; host: number; event: StoreEvent }
  /** A host died holding writes its disk had refused: they are gone. */
  | { type: "store_writes_lost"; host: number; count: number };

/** What the session layer needs. */
export interface SessionsOptions {
  /** The SQLite file each host opens for session history. */
  databasePath: string;
  /** Keep session history in Redis instead, shared with the other processes. */
  redis?: RedisStoreConfig;
  /** Worker hosts the sessions are spread over. */
  hosts: number;
  /** Exchanges each session keeps in its history window. */
  maxExchanges: number;
  /** Exchanges that leave a full window at once (`WINDOW_DROP_BLOCK`). @default 1 */
  dropBlock?: number;
  /** The supervisor's policy: restarts, LRU cap, idle reaping. */
  policy: SupervisorPolicy;
  /** Time for idle reaping, the sweep timer and restart intensity. @default systemClock */
  clock?: Clock;
  /** Hosts died more often than the policy allows: the process should exit. */
  onGiveUp(reason: string): void;
  /** Told of evictions, host restarts and session crashes. */
  onEvent?(event: SessionsEvent): void;
}

/**
 * The session layer on worker hosts.
 *
 * @example
 * ```ts ignore
 * const sessions = new Sessions({ databasePath, hosts: 2, maxExchanges: 20, policy, onGiveUp });
 * const begun = await sessions.begin("42", "m1", "민수: 안녕");
 * if (begun.ok) await begun.lease.commit("안녕!");
 * ```
 */
export class Sessions implements SessionsPort {
  #options: SessionsOptions;
  #supervisor: Supervisor;
  #hosts: HostPool;
  /** In arrival order, so a dead host's turns are begun again in their order. */
  #pending = new Map<string, Pending>();
  #clock: Clock;
  #timer: TimerId | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #stores = new StoreBoard();

  /** Starts the hosts and the idle sweep timer. */
  constructor(options: SessionsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#supervisor = new Supervisor(options.policy);
    this.#hosts = new HostPool({
      size: options.hosts,
      init: {
        type: "init",
        databasePath: options.databasePath,
        maxExchanges: options.maxExchanges,
        dropBlock: options.dropBlock,
        redis: options.redis,
      },
      onMessage: (message, _answer, index) => this.#receive(message, index),
      onError: (index, error) => this.#hostDied(index, error),
    });
    this.#scheduleSweep();
  }

  /** Live sessions. */
  get liveSessions(): number {
    return this.#supervisor.liveSessions;
  }

  /** Channel ids of live sessions, least recently used first. */
  get lruOrder(): string[] {
    return this.#supervisor.lruOrder;
  }

  /** Running totals since start. */
  get counts(): Readonly<SupervisorCounts> {
    return this.#supervisor.counts;
  }

  /** The store over all hosts: writable only when every host's store is. */
  get storeHealth(): StoreHealth {
    return this.#stores.health;
  }

  /** Begins a chat turn; resolves with its lease once the session lends its window. */
  begin(channelId: string, id: string, line: string): Promise<BeginResult> {
    const pending = this.#start({ type: "begin", channelId, id, line });
    return pending?.lent.promise ?? Promise.resolve({ ok: false, error: "stopping" });
  }

  /** Forgets a channel's conversation; resolves when it is gone from memory and the store. */
  async reset(
    channelId: string,
    id: string,
  ): Promise<{ ok: true } | { ok: false; error: SessionError }> {
    return await this.#ask({ type: "reset", channelId, id });
  }

  /** Hands a fold's result to its session; resolves once the memory is kept (or dropped). */
  async remember(
    channelId: string,
    foldId: string,
    memory: string | undefined,
  ): Promise<{ ok: true } | { ok: false; error: SessionError }> {
    return await this.#ask({ type: "remember", channelId, id: foldId, memory });
  }

  async #ask(
    message: Extract<Pending["message"], { type: "reset" | "remember" }>,
  ): Promise<{ ok: true } | { ok: false; error: SessionError }> {
    const pending = this.#start(message);
    if (!pending) return { ok: false, error: "stopping" };
    const result = await pending.done.promise;
    return result.ok ? { ok: true } : { ok: false, error: sessionError(result) };
  }

  /** Evicts an idle session now, as the LRU cap would; false when it is not live or is busy. */
  evict(channelId: string): boolean {
    if (!this.#supervisor.evict(channelId)) return false;
    this.#drop(channelId, "lru");
    return true;
  }

  /** Reaps idle sessions; runs on the sweep timer, never on the message path. */
  sweep(now: number = this.#clock.now()): number {
    const reaped = this.#supervisor.sweep(now);
    for (const channelId of reaped) this.#drop(channelId, "idle");
    return reaped.length;
  }

  /** Test hook and operator tool: kills a host as a crash would, then restarts it. */
  killHost(index: number): void {
    this.#hosts.terminate(index);
    this.#hostDied(index, "terminated");
  }

  /** Test hook: makes a host throw an uncaught error, as a bug would. */
  faultHost(index: number): void {
    this.#hosts.post(index, { type: "fault" });
  }

  /**
   * Stops taking turns: each host finishes the turns lent out, answers queued ones with
   * "stopping" and closes the store. Hosts still busy after `timeoutMs` are ended. Calling it
   * again returns the same promise.
   */
  stop(timeoutMs = 8_000): Promise<void> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#hosts.stop(timeoutMs);
    for (const pending of this.#pending.values()) settlePending(pending, STOPPING_OUTCOME);
    this.#pending.clear();
  }

  #start(message: Pending["message"]): Pending | undefined {
    if (this.#stopping) return undefined;
    const pending = newPending(message);
    this.#pending.set(message.id, pending);
    const now = this.#clock.now();
    for (const evicted of this.#supervisor.busy(message.channelId, now)) {
      this.#drop(evicted, "lru");
    }
    this.#post(message);
    return pending;
  }

  #commit(pending: Pending, text: string | undefined, parts?: ModelPart[]): Promise<CommitResult> {
    if (this.#pending.get(pending.message.id) === pending && pending.stage === "lent") {
      const shown: Shown = text !== undefined && parts?.length ? { text, parts } : text;
      pending.stage = "committed";
      pending.shown = shown;
      this.#post({ type: "commit", channelId: pending.channelId, id: pending.message.id, shown });
    }
    return pending.done.promise.then(commitResultOf);
  }

  #post(message: ToHost & { channelId: string }): void {
    this.#hosts.post(this.#hostOf(message.channelId), message);
  }

  #hostOf(channelId: string): number {
    return hostIndex(channelId, this.#hosts.size);
  }

  #receive(message: FromHost, host: number): void {
    if (message.type === "store") {
      this.#stores.report(host, message.event, message.writable, message.pending);
      this.#options.onEvent?.({ type: "store", host, event: message.event });
    } else if (message.type === "lent") {
      const pending = this.#pending.get(message.id);
      // A turn begun again after a host restart already holds its window: only the loan matters.
      if (!pending || pending.stage !== "begun") return;
      pending.stage = "lent";
      pending.lent.resolve({ ok: true, lease: this.#lease(pending, message.contents) });
    } else if (message.type === "done") {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      this.#supervisor.done(message.channelId, this.#clock.now());
      const result = message.result;
      if (!result.ok && result.error === "crashed") {
        this.#supervisor.actorCrashed();
        this.#options.onEvent?.({
          type: "session_crashed",
          channelId: message.channelId,
          message: result.message,
        });
      }
      settlePending(pending, result);
    }
  }

  #lease(pending: Pending, contents: Content[]) {
    return {
      contents,
      commit: (shown: string | undefined, parts?: ModelPart[]) =>
        this.#commit(pending, shown, parts),
    };
  }

  #drop(channelId: string, reason: "lru" | "idle"): void {
    this.#post({ type: "evict", channelId });
    this.#options.onEvent?.({ type: "evicted", channelId, reason });
  }

  #hostDied(index: number, error: string): void {
    if (this.#stopping) return;
    const onHost = (channelId: string) => this.#hostOf(channelId) === index;
    if (!this.#supervisor.hostDied(this.#clock.now(), onHost)) {
      this.#options.onGiveUp(`session host ${index} died too often; last error: ${error}`);
    }
    this.#hosts.respawn(index);
    // The refused writes the host held died with it; the new host starts with none.
    const lost = this.#stores.hostDied(index);
    if (lost > 0) this.#options.onEvent?.({ type: "store_writes_lost", host: index, count: lost });
    let resent = 0;
    let failed = 0;
    for (const { id, pending, resend } of afterHostDied(this.#pending, onHost)) {
      if (!resend) {
        failed++;
        this.#pending.delete(id);
        settlePending(pending, { ok: false, error: "host_crashed" });
        continue;
      }
      // Begun again in arrival order: the channel's later turns queue behind it on the new host.
      resent++;
      // Busy again may put the live sessions over the cap: the supervisor has already forgotten
      // what it returns, so it must be evicted on its host too, or that actor is never dropped.
      for (const evicted of this.#supervisor.busy(pending.channelId, this.#clock.now())) {
        this.#drop(evicted, "lru");
      }
      this.#post(pending.message);
      if (pending.stage === "committed") {
        this.#post({ type: "commit", channelId: pending.channelId, id, shown: pending.shown });
      }
    }
    this.#options.onEvent?.({ type: "host_restarted", host: index, error, resent, failed });
  }

  #scheduleSweep(): void {
    const { sweepMs } = this.#options.policy;
    if (sweepMs <= 0 || this.#stopping) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.sweep();
      this.#scheduleSweep();
    }, sweepMs);
    // The sweep must never keep a finished process alive.
    if (this.#clock === systemClock) Deno.unrefTimer(this.#timer as number);
  }
}
