/**
 * Supervisor: places session actors on worker hosts, caps live sessions (LRU), reaps idle ones,
 * and restarts hosts that die.
 *
 * The policy is small and written as data, as in OTP: a host is restarted alone (one_for_one),
 * at most `maxRestarts` times in `periodMs`; past that the supervisor gives up and the process
 * should exit non-zero so that its orchestrator restarts it.
 *
 * @module
 */
import type { Content } from "../lib/history_window.ts";
import { RestartIntensity } from "../lib/restart_intensity.ts";
import type { SessionCommand, SessionResult } from "./session_actor.ts";
import type { FromHost, ToHost } from "./session_host.ts";
import type { HostInit } from "./session_host_worker.ts";

/** What the supervisor asks of the rest of the bot when a session wants to reply. */
export interface ReplyRequest {
  commandId: string;
  channelId: string;
  contents: Content[];
}

/** Something worth a log line or a metric. */
export type SupervisorEvent =
  | { type: "evicted"; channelId: string; reason: "lru" | "idle" }
  | { type: "host_restarted"; host: number; error: string; retried: number; failed: number }
  | { type: "session_crashed"; channelId: string; message: string };

/** The handful of Worker members the supervisor uses, so tests can hand in something else. */
export interface HostPort {
  postMessage(message: ToHost | HostInit): void;
  onmessage: ((event: MessageEvent<FromHost>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** The supervisor's policy and its links to the rest of the bot. */
export interface SupervisorOptions {
  databasePath: string;
  /** @default 2 */
  hosts?: number;
  /** @default 1000 */
  maxSessions?: number;
  /** @default 600000 (10 minutes) */
  idleMs?: number;
  /** How often the idle sweep runs; 0 turns the timer off (tests call `sweep`). @default 60000 */
  sweepMs?: number;
  /** @default 20 */
  maxExchanges?: number;
  /** @default 5 */
  maxRestarts?: number;
  /** @default 60000 */
  restartPeriodMs?: number;
  now?: () => number;
  /** Produces and delivers a reply (the broker and Discord); resolves with the text shown. */
  onReply(request: ReplyRequest): Promise<string | undefined>;
  /** The restart intensity was exceeded. */
  onGiveUp(reason: string): void;
  onEvent?(event: SupervisorEvent): void;
  spawnHost?(index: number): HostPort;
}

/** A delivery's outcome: the session's result, or a failure the supervisor saw first. */
export type DeliveryResult = SessionResult | { ok: false; error: "host_crashed" | "stopping" };

interface Inflight {
  command: SessionCommand;
  host: number;
  attempts: number;
  replyStarted: boolean;
  resolve(result: DeliveryResult): void;
}

interface HostSlot {
  port: HostPort;
  generation: number;
  stopped?: () => void;
}

interface LiveSession {
  host: number;
  lastActive: number;
  inflight: number;
}

/**
 * Places, caps, reaps and restarts session actors.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ databasePath: "data/soyebot.db", onReply, onGiveUp });
 * await supervisor.deliver({ kind: "chat", id: "1", channelId: "42", text: "안녕" });
 * ```
 */
export class Supervisor {
  #options: SupervisorOptions;
  #hosts: HostSlot[] = [];
  /** Live sessions in least-recently-used order: Map keeps insertion order. */
  #live = new Map<string, LiveSession>();
  #inflight = new Map<string, Inflight>();
  #intensity: RestartIntensity;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;
  #now: () => number;
  #counts = { evicted: 0, reaped: 0, restarted: 0, crashed: 0 };

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#intensity = new RestartIntensity({
      maxRestarts: options.maxRestarts ?? 5,
      periodMs: options.restartPeriodMs ?? 60_000,
    });
    const hosts = options.hosts ?? 2;
    for (let i = 0; i < hosts; i++) this.#hosts.push(this.#spawn(i, 0));
    const sweepMs = options.sweepMs ?? 60_000;
    if (sweepMs > 0) {
      const timer = setInterval(() => this.sweep(), sweepMs);
      // The sweep must never keep a finished process alive.
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    }
  }

  /** Live sessions. */
  get liveSessions(): number {
    return this.#live.size;
  }

  /** Channel ids of live sessions, least recently used first. */
  get lruOrder(): string[] {
    return [...this.#live.keys()];
  }

  /** Commands delivered and not yet answered. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Running totals since start. */
  get counts(): Readonly<{ evicted: number; reaped: number; restarted: number; crashed: number }> {
    return this.#counts;
  }

  /** The host a channel is placed on: a stable hash, so a channel always lands on one host. */
  hostOf(channelId: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < channelId.length; i++) {
      hash = Math.imul(hash ^ channelId.charCodeAt(i), 0x01000193);
    }
    return (hash >>> 0) % this.#hosts.length;
  }

  /** Hands a command to its channel's session; resolves when the session has handled it. */
  deliver(command: SessionCommand): Promise<DeliveryResult> {
    if (this.#stopping) return Promise.resolve({ ok: false, error: "stopping" });
    const host = this.hostOf(command.channelId);
    const session = this.#live.get(command.channelId) ?? { host, lastActive: 0, inflight: 0 };
    this.#live.delete(command.channelId);
    session.lastActive = this.#now();
    session.inflight++;
    this.#live.set(command.channelId, session);
    this.#enforceCap();
    const { promise, resolve } = Promise.withResolvers<DeliveryResult>();
    this.#inflight.set(command.id, { command, host, attempts: 1, replyStarted: false, resolve });
    this.#hosts[host].port.postMessage({ type: "deliver", command });
    return promise;
  }

  /** Evicts idle sessions; runs on the sweep timer, never on the message path. */
  sweep(now: number = this.#now()): number {
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
    this.#hosts[index].port.terminate();
    this.#restartHost(index, "terminated");
  }

  /** Test hook: makes a host throw an uncaught error, as a bug would. */
  faultHost(index: number): void {
    this.#hosts[index].port.postMessage({ type: "fault" });
  }

  /** Stops taking commands, waits for hosts to drain and close the store, then ends them. */
  async stop(timeoutMs = 8_000): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    const stopped = this.#hosts.map((slot) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      slot.stopped = resolve;
      slot.port.postMessage({ type: "stop" });
      return promise;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([Promise.all(stopped), timeout]);
    clearTimeout(timer);
    for (const slot of this.#hosts) slot.port.terminate();
    for (const inflight of this.#inflight.values()) {
      inflight.resolve({ ok: false, error: "stopping" });
    }
    this.#inflight.clear();
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
    this.#hosts[session.host].port.postMessage({ type: "evict", channelId });
    this.#options.onEvent?.({ type: "evicted", channelId, reason });
  }

  #spawn(index: number, generation: number): HostSlot {
    const port = this.#options.spawnHost?.(index) ??
      new Worker(new URL("./session_host_worker.ts", import.meta.url), { type: "module" });
    const slot: HostSlot = { port, generation };
    port.onmessage = (event: MessageEvent<FromHost>) => {
      if (this.#hosts[index] !== slot) return; // a message from a host that was replaced
      this.#receive(index, event.data);
    };
    port.onerror = (event) => {
      // Handled here: an uncaught error in a host must not take the whole process down.
      event.preventDefault();
      if (this.#hosts[index] !== slot) return;
      port.terminate();
      this.#restartHost(index, event.message);
    };
    port.postMessage({
      type: "init",
      databasePath: this.#options.databasePath,
      maxExchanges: this.#options.maxExchanges ?? 20,
    });
    return slot;
  }

  #receive(index: number, message: FromHost): void {
    switch (message.type) {
      case "reply": {
        const inflight = this.#inflight.get(message.commandId);
        if (inflight) inflight.replyStarted = true;
        const slot = this.#hosts[index];
        this.#options.onReply(message)
          .catch(() => undefined)
          .then((text) => {
            // Only the host that asked may hear the answer; a restarted one has forgotten it.
            if (this.#hosts[index] === slot) {
              slot.port.postMessage({ type: "replied", callId: message.callId, text });
            }
          });
        break;
      }
      case "delivered": {
        const inflight = this.#inflight.get(message.commandId);
        if (!inflight) break;
        this.#inflight.delete(message.commandId);
        this.#settle(message.channelId);
        if (!message.result.ok && message.result.error === "crashed") {
          this.#counts.crashed++;
          this.#options.onEvent?.({
            type: "session_crashed",
            channelId: message.channelId,
            message: message.result.message,
          });
        }
        inflight.resolve(message.result);
        break;
      }
      case "evicted":
        break;
      case "stopped":
        this.#hosts[index].stopped?.();
        break;
    }
  }

  #settle(channelId: string): void {
    const session = this.#live.get(channelId);
    if (session && session.inflight > 0) session.inflight--;
  }

  #restartHost(index: number, error: string): void {
    if (this.#stopping) return;
    this.#counts.restarted++;
    if (!this.#intensity.record(this.#now())) {
      this.#options.onGiveUp(`session host ${index} died too often; last error: ${error}`);
    }
    const old = this.#hosts[index];
    const slot = this.#spawn(index, old.generation + 1);
    this.#hosts[index] = slot;
    // The host's actors are gone; their windows are in the store and come back on next use.
    for (const [channelId, session] of this.#live) {
      if (session.host === index) this.#live.delete(channelId);
    }
    let retried = 0;
    let failed = 0;
    for (const [id, inflight] of this.#inflight) {
      if (inflight.host !== index) continue;
      // Retry once, and only if nothing was shown yet: a visible answer must not appear twice.
      if (!inflight.replyStarted && inflight.attempts < 2) {
        inflight.attempts++;
        retried++;
        const channelId = inflight.command.channelId;
        const session = this.#live.get(channelId) ?? { host: index, lastActive: 0, inflight: 0 };
        session.lastActive = this.#now();
        session.inflight++;
        this.#live.set(channelId, session);
        slot.port.postMessage({ type: "deliver", command: inflight.command });
      } else {
        failed++;
        this.#inflight.delete(id);
        inflight.resolve({ ok: false, error: "host_crashed" });
      }
    }
    this.#options.onEvent?.({ type: "host_restarted", host: index, error, retried, failed });
  }
}
