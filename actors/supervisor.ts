/**
 * Supervisor: places session actors on worker hosts, caps live sessions (LRU), reaps idle ones,
 * and restarts hosts that die.
 *
 * The policy is small and written as data, as in OTP: a host is restarted alone (one_for_one),
 * at most `maxRestarts` times in `periodMs`; past that the supervisor gives up and the process
 * should exit non-zero so that its orchestrator restarts it. The workers themselves (spawning,
 * stale messages, shutdown with a deadline) are kept by `host_pool.ts`.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../lib/clock.ts";
import type { Content } from "../lib/history_window.ts";
import { RestartIntensity } from "../lib/restart_intensity.ts";
import type { StoreEvent, StoreHealth } from "../lib/retrying_store.ts";
import { HostPool } from "./host_pool.ts";
import type { SessionCommand, SessionResult } from "./session_actor.ts";
import type { FromHost, ToHost } from "./session_host.ts";

/** What the supervisor asks of the rest of the bot when a session wants to reply. */
export interface ReplyRequest {
  /** The command being answered: the user's Discord message id. */
  commandId: string;
  /** The Discord channel the reply goes to. */
  channelId: string;
  /** The channel's history and the new line, for the broker. */
  contents: Content[];
}

/** Something worth a log line or a metric. */
export type SupervisorEvent =
  | { type: "evicted"; channelId: string; reason: "lru" | "idle" }
  | {
    type: "host_restarted";
    host: number;
    error: string;
    /** In-flight commands sent again to the new host. */
    retried: number;
    /** Answers being shown when the host died: recorded on the new host once shown. */
    recorded: number;
    /** In-flight commands answered with an error. */
    failed: number;
  }
  | { type: "session_crashed"; channelId: string; message: string }
  /** A host's store refused, retried, recovered or dropped writes. */
  | { type: "store"; host: number; event: StoreEvent }
  /** A host died holding writes its disk had refused: they are gone. */
  | { type: "store_writes_lost"; host: number; count: number };

/** The supervisor's policy and its links to the rest of the bot. */
export interface SupervisorOptions {
  /** The SQLite file each host opens for session history. */
  databasePath: string;
  /** Worker hosts the sessions are spread over. @default 2 */
  hosts?: number;
  /** Most live sessions; past it the least recently used is evicted. @default 1000 */
  maxSessions?: number;
  /** Milliseconds a session may sit unused before it is reaped. @default 600000 (10 minutes) */
  idleMs?: number;
  /** How often the idle sweep runs; 0 turns the timer off (tests call `sweep`). @default 60000 */
  sweepMs?: number;
  /** Exchanges each session keeps in its history window. @default 20 */
  maxExchanges?: number;
  /** Most host restarts within `restartPeriodMs` before the supervisor gives up. @default 5 */
  maxRestarts?: number;
  /** Milliseconds of the sliding window in which restarts are counted. @default 60000 */
  restartPeriodMs?: number;
  /** Time for idle reaping, the sweep timer and restart intensity. @default systemClock */
  clock?: Clock;
  /** Produces and delivers a reply (the broker and Discord); resolves with the text shown. */
  onReply(request: ReplyRequest): Promise<string | undefined>;
  /** The restart intensity was exceeded. */
  onGiveUp(reason: string): void;
  /** Told of evictions, host restarts and session crashes (for logs and metrics). */
  onEvent?(event: SupervisorEvent): void;
}

/** A delivery's outcome: the session's result, or a failure the supervisor saw first. */
export type DeliveryResult =
  | Exclude<SessionResult, { error: "bounced" }>
  | { ok: false; error: "host_crashed" | "stopping" };

interface Inflight {
  command: SessionCommand;
  attempts: number;
  /** The answer the main thread is producing for this command, once the session asked for it. */
  reply?: Promise<string | undefined>;
  /** Waiting behind an earlier command of its channel that is being re-sent after a host died. */
  held: boolean;
  resolve(result: DeliveryResult): void;
}

interface LiveSession {
  lastActive: number;
  inflight: number;
}

/**
 * Places, caps, reaps and restarts session actors.
 *
 * @example
 * ```ts ignore
 * const supervisor = new Supervisor({ databasePath: "data/soyebot.db", onReply, onGiveUp });
 * await supervisor.deliver({ kind: "chat", id: "1", channelId: "42", text: "안녕" });
 * ```
 */
export class Supervisor {
  #options: SupervisorOptions;
  #hosts: HostPool;
  /** Live sessions in least-recently-used order: Map keeps insertion order. */
  #live = new Map<string, LiveSession>();
  #inflight = new Map<string, Inflight>();
  #intensity: RestartIntensity;
  #timer: TimerId | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #clock: Clock;
  /** Per channel, the tail of re-sends after a host restart; later commands queue behind it. */
  #gates = new Map<string, Promise<void>>();
  #counts = { evicted: 0, reaped: 0, restarted: 0, crashed: 0 };
  /** Each host's store as it last reported (hosts that never reported are writable). */
  #stores = new Map<number, { writable: boolean; pending: number }>();
  #storeCounts = { writeFailures: 0, writesDropped: 0 };

  /** Starts the hosts and the idle sweep timer. */
  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#intensity = new RestartIntensity({
      maxRestarts: options.maxRestarts ?? 5,
      periodMs: options.restartPeriodMs ?? 60_000,
    });
    this.#hosts = new HostPool({
      size: options.hosts ?? 2,
      init: {
        type: "init",
        databasePath: options.databasePath,
        maxExchanges: options.maxExchanges ?? 20,
      },
      onMessage: (message, answer, index) => this.#receive(message, answer, index),
      onError: (index, error) => this.#restartHost(index, error),
    });
    this.#scheduleSweep();
  }

  /** Live sessions. */
  get liveSessions(): number {
    return this.#live.size;
  }

  /** Channel ids of live sessions, least recently used first. */
  get lruOrder(): string[] {
    return [...this.#live.keys()];
  }

  /** Running totals since start. */
  get counts(): Readonly<{ evicted: number; reaped: number; restarted: number; crashed: number }> {
    return this.#counts;
  }

  /** The store over all hosts: writable only when every host's store is. */
  get storeHealth(): StoreHealth {
    const states = [...this.#stores.values()];
    return {
      writable: states.every((s) => s.writable),
      pendingWrites: states.reduce((sum, s) => sum + s.pending, 0),
      ...this.#storeCounts,
    };
  }

  /** The host a channel is placed on: a stable hash, so a channel always lands on one host. */
  #hostOf(channelId: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < channelId.length; i++) {
      hash = Math.imul(hash ^ channelId.charCodeAt(i), 0x01000193);
    }
    return (hash >>> 0) % this.#hosts.size;
  }

  /** Hands a command to its channel's session; resolves when the session has handled it. */
  deliver(command: SessionCommand): Promise<DeliveryResult> {
    if (this.#stopping) return Promise.resolve({ ok: false, error: "stopping" });
    const { promise, resolve } = Promise.withResolvers<DeliveryResult>();
    const inflight: Inflight = { command, attempts: 1, held: false, resolve };
    this.#inflight.set(command.id, inflight);
    this.#sendInOrder(inflight);
    return promise;
  }

  /**
   * Evicts a session now, as the LRU cap would (its window is already in the store); false when
   * the session is not live or is busy. An operator tool and a benchmark hook.
   */
  evict(channelId: string): boolean {
    const session = this.#live.get(channelId);
    if (!session || session.inflight > 0) return false;
    this.#evict(channelId, "lru");
    return true;
  }

  /** Evicts idle sessions; runs on the sweep timer, never on the message path. */
  sweep(now: number = this.#clock.now()): number {
    const idleMs = this.#options.idleMs ?? 600_000;
    let reaped = 0;
    for (const [channelId, session] of this.#live) {
      if (session.inflight === 0 && now - session.lastActive >= idleMs) {
        this.#evict(channelId, "idle");
        reaped++;
      }
    }
    return reaped;
  }

  /** Test hook and operator tool: kills a host as a crash would, then restarts it. */
  killHost(index: number): void {
    this.#hosts.terminate(index);
    this.#restartHost(index, "terminated");
  }

  /** Test hook: makes a host throw an uncaught error, as a bug would. */
  faultHost(index: number): void {
    this.#hosts.post(index, { type: "fault" });
  }

  /**
   * Stops taking commands: each host finishes the command it is running, answers queued ones
   * with "stopping" and closes the store. Hosts still busy after `timeoutMs` are ended and their
   * commands answered with "stopping". Calling it again returns the same promise.
   */
  stop(timeoutMs = 8_000): Promise<void> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#hosts.stop(timeoutMs);
    for (const inflight of this.#inflight.values()) {
      inflight.resolve({ ok: false, error: "stopping" });
    }
    this.#inflight.clear();
  }

  #scheduleSweep(): void {
    const sweepMs = this.#options.sweepMs ?? 60_000;
    if (sweepMs <= 0 || this.#stopping) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.sweep();
      this.#scheduleSweep();
    }, sweepMs);
    // The sweep must never keep a finished process alive.
    if (this.#clock === systemClock) Deno.unrefTimer(this.#timer as number);
  }

  /** Posts a command to its channel's host, making the session live and most recently used. */
  #send(inflight: Inflight): void {
    inflight.held = false;
    inflight.reply = undefined;
    const { command } = inflight;
    if (this.#inflight.get(command.id) !== inflight) return; // answered meanwhile (stop)
    if (this.#stopping) {
      this.#inflight.delete(command.id);
      inflight.resolve({ ok: false, error: "stopping" });
      return;
    }
    const session = this.#live.get(command.channelId) ?? { lastActive: 0, inflight: 0 };
    this.#live.delete(command.channelId);
    session.lastActive = this.#clock.now();
    session.inflight++;
    this.#live.set(command.channelId, session);
    this.#enforceCap();
    this.#hosts.post(this.#hostOf(command.channelId), { type: "deliver", command });
  }

  /** Sends now, or behind the channel's gate while a host restart re-sends its earlier commands. */
  #sendInOrder(inflight: Inflight): void {
    if (!this.#gates.has(inflight.command.channelId)) return this.#send(inflight);
    inflight.held = true;
    this.#behind(inflight.command.channelId, () => this.#send(inflight));
  }

  /** Runs `step` once the channel's gate has opened, and makes it the gate until it settles. */
  #behind(channelId: string, step: () => void | Promise<void>): void {
    const tail = (this.#gates.get(channelId) ?? Promise.resolve()).then(step);
    this.#gates.set(channelId, tail);
    void tail.finally(() => {
      if (this.#gates.get(channelId) === tail) this.#gates.delete(channelId);
    });
  }

  #enforceCap(): void {
    const max = this.#options.maxSessions ?? 1000;
    for (const [channelId, session] of this.#live) {
      if (this.#live.size <= max) break;
      // A busy session is skipped: its mailbox is draining and it was just used.
      if (session.inflight === 0) this.#evict(channelId, "lru");
    }
  }

  #evict(channelId: string, reason: "lru" | "idle"): void {
    const session = this.#live.get(channelId);
    if (!session) return;
    this.#live.delete(channelId);
    if (reason === "lru") this.#counts.evicted++;
    else this.#counts.reaped++;
    this.#hosts.post(this.#hostOf(channelId), { type: "evict", channelId });
    this.#options.onEvent?.({ type: "evicted", channelId, reason });
  }

  #receive(message: FromHost, answer: (message: ToHost) => void, index: number): void {
    switch (message.type) {
      case "store": {
        const { event, writable, pending } = message;
        this.#stores.set(index, { writable, pending });
        if (event.type === "write_failed" || event.type === "retry_failed") {
          this.#storeCounts.writeFailures++;
        } else if (event.type === "dropped") this.#storeCounts.writesDropped += event.count;
        this.#options.onEvent?.({ type: "store", host: index, event });
        break;
      }
      case "reply": {
        const reply = this.#options.onReply(message).catch(() => undefined);
        const inflight = this.#inflight.get(message.commandId);
        if (inflight) inflight.reply = reply;
        void reply.then((text) => answer({ type: "replied", callId: message.callId, text }));
        break;
      }
      case "delivered": {
        const inflight = this.#inflight.get(message.commandId);
        if (!inflight) break;
        this.#inflight.delete(message.commandId);
        this.#settle(message.channelId);
        const result = message.result;
        if (!result.ok && result.error === "crashed") {
          this.#counts.crashed++;
          this.#options.onEvent?.({
            type: "session_crashed",
            channelId: message.channelId,
            message: result.message,
          });
        }
        // "bounced" never leaves a host; should one arrive, it is a crash.
        inflight.resolve(
          !result.ok && result.error === "bounced"
            ? { ok: false, error: "crashed", message: "bounced" }
            : result,
        );
        break;
      }
      case "evicted":
        // Nothing to do: the session left the live set when the eviction was sent.
        break;
    }
  }

  #settle(channelId: string): void {
    const session = this.#live.get(channelId);
    if (!session) return;
    if (session.inflight > 0) session.inflight--;
    // Idle time counts from the last answer, not from the last question.
    session.lastActive = this.#clock.now();
  }

  #restartHost(index: number, error: string): void {
    if (this.#stopping) return;
    this.#counts.restarted++;
    if (!this.#intensity.record(this.#clock.now())) {
      this.#options.onGiveUp(`session host ${index} died too often; last error: ${error}`);
    }
    this.#hosts.respawn(index);
    // The refused writes the host held died with it; the new host starts with none.
    const lost = this.#stores.get(index)?.pending ?? 0;
    this.#stores.delete(index);
    if (lost > 0) {
      this.#storeCounts.writesDropped += lost;
      this.#options.onEvent?.({ type: "store_writes_lost", host: index, count: lost });
    }
    // The host's actors are gone; their windows are in the store and come back on next use.
    for (const channelId of this.#live.keys()) {
      if (this.#hostOf(channelId) === index) this.#live.delete(channelId);
    }
    let retried = 0;
    let recorded = 0;
    let failed = 0;
    // In arrival order, so each channel's commands are re-sent in their order.
    for (const [id, inflight] of this.#inflight) {
      const channelId = inflight.command.channelId;
      if (this.#hostOf(channelId) !== index || inflight.held) continue;
      const reply = inflight.reply;
      if (reply && inflight.command.kind === "chat") {
        // The answer is being shown from the main thread: let it finish, then record it on the
        // new host. Asking again would show a second answer; failing would lose this one.
        recorded++;
        inflight.held = true;
        const user = inflight.command.text;
        this.#behind(channelId, async () => {
          const text = await reply;
          if (this.#inflight.get(id) !== inflight) return;
          if (text === undefined) {
            // Nothing was shown worth keeping; the user was already told why.
            this.#inflight.delete(id);
            inflight.resolve({ ok: false, error: "not_answered" });
            return;
          }
          inflight.command = { kind: "record", id, channelId, user, model: text };
          inflight.attempts = 1;
          this.#send(inflight);
        });
      } else if (inflight.attempts < 2) {
        // Nothing was shown yet: send it again, once.
        retried++;
        inflight.attempts++;
        this.#sendInOrder(inflight);
      } else {
        failed++;
        this.#inflight.delete(id);
        inflight.resolve({ ok: false, error: "host_crashed" });
      }
    }
    this.#options.onEvent?.({
      type: "host_restarted",
      host: index,
      error,
      retried,
      recorded,
      failed,
    });
  }
}
