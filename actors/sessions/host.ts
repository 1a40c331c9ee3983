/**
 * SessionHost: the inside of one worker host. It keeps many {@link SessionActor}s (one per
 * channel placed on this host), creates them on first message (rehydrating from the store) and
 * drops them on eviction.
 *
 * The protocol with the main thread is a loan: `begin` → the actor answers `lent` with its window
 * and holds its mailbox → `commit` hands back the text the user saw → `done`, which may carry a
 * fold of the memory for the main thread to do; its result comes back as `remember` → `done`.
 * The worker entry (`actors/sessions/host_worker.ts`) wires this class to `self`; tests drive it with any
 * `post` function.
 *
 * @module
 */
import { type Clock, systemClock } from "../../lib/clock.ts";
import type { Content } from "../../lib/sessions/window.ts";
import { RetryingStore, type StoreEvent } from "../../lib/store/retrying.ts";
import type { SessionStore } from "../../lib/store/sqlite.ts";
import type { Shown } from "../../lib/sessions/port.ts";
import { SessionActor, type SessionCommand, type SessionResult } from "./actor.ts";

/** Messages from the main thread to a host. */
export type ToHost =
  | { type: "begin"; channelId: string; id: string; line: string }
  | { type: "commit"; channelId: string; id: string; shown: Shown }
  | { type: "reset"; channelId: string; id: string }
  /** A fold's result: the new memory, or `undefined` when the fold failed. */
  | { type: "remember"; channelId: string; id: string; memory: string | undefined }
  | { type: "evict"; channelId: string }
  | { type: "stop" }
  /** Test hook: throw an uncaught error inside the worker, as a bug would. */
  | { type: "fault" };

/** Messages from a host to the main thread. */
export type FromHost =
  | { type: "lent"; id: string; contents: Content[] }
  | { type: "done"; id: string; channelId: string; result: SessionResult }
  | { type: "evicted"; channelId: string }
  /** The store refused, retried, recovered or dropped writes; its state after the event. */
  | { type: "store"; event: StoreEvent; writable: boolean; pending: number }
  | { type: "stopped" };

/**
 * How often one channel is told that its conversation is not being saved: once when the store
 * first refuses its writes, then again at most this often while the outage lasts, so a broken
 * disk doesn't double every message.
 */
export const UNSAVED_NOTICE_MS = 10 * 60_000;

/** Options for a host. */
export interface SessionHostOptions {
  /**
   * Where each actor's history window is persisted; shared by this host's actors. Writes it
   * refuses are held by the host and retried (see `RetryingStore`).
   */
  store: SessionStore;
  /** Sends a message to the main thread (the worker's `postMessage`, or a test's function). */
  post: (message: FromHost) => void;
  /** Exchanges each actor keeps in its history window. */
  maxExchanges: number;
  /** Exchanges that leave a full window at once (`WINDOW_DROP_BLOCK`). @default 1 */
  dropBlock?: number;
  /** Time for the store's retries and the unsaved notices. @default systemClock */
  clock?: Clock;
  /** Epoch ms now, stamped on recorded exchanges. @default clock.now */
  now?: () => number;
  /** Most refused writes held in memory. @default 2000 */
  maxPendingWrites?: number;
}

/** Many session actors multiplexed on one thread. */
export class SessionHost {
  #actors = new Map<string, SessionActor>();
  /** Evictions still draining; a new actor for the channel waits so it reads the final window. */
  #closing = new Map<string, Promise<void>>();
  /** Turns lent out, by id: the protocol's one correlation table. */
  #loans = new Map<string, (shown: Shown) => void>();
  /** Commits that arrived before their (re-sent) turn was lent again after a host restart. */
  #early = new Map<string, Shown>();
  #stopping = false;
  #options: SessionHostOptions;
  #clock: Clock;
  #store: RetryingStore;
  /** When each channel was last told its conversation is not being saved, during this outage. */
  #toldUnsaved = new Map<string, number>();

  /** Makes an empty host; actors are created as their channels' messages arrive. */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#store = new RetryingStore(options.store, {
      clock: this.#clock,
      maxPending: options.maxPendingWrites,
      onEvent: (event) => this.#storeEvent(event),
    });
  }

  /** Live actors on this host. */
  get size(): number {
    return this.#actors.size;
  }

  /** Handles one message from the main thread. */
  receive(message: ToHost): void {
    switch (message.type) {
      case "begin":
        void this.#run(message.channelId, { kind: "begin", id: message.id, line: message.line });
        break;
      case "reset":
        void this.#run(message.channelId, { kind: "reset", id: message.id });
        break;
      case "remember": {
        const { channelId, id, memory } = message;
        void this.#run(channelId, { kind: "remember", id, memory });
        break;
      }
      case "commit": {
        const repay = this.#loans.get(message.id);
        if (repay) {
          this.#loans.delete(message.id);
          repay(message.shown);
        } else {
          this.#early.set(message.id, message.shown);
        }
        break;
      }
      case "evict":
        void this.#evict(message.channelId);
        break;
      case "stop":
        void this.#stop();
        break;
      case "fault":
        setTimeout(() => {
          throw new Error("fault injected into session host");
        }, 0);
        break;
    }
  }

  async #run(channelId: string, command: SessionCommand): Promise<void> {
    let result: SessionResult = { ok: false, error: "stopping" };
    // At most twice: a command bounced by a crashed actor runs once more on a fresh one.
    for (let attempt = 0; attempt < 2 && !this.#stopping; attempt++) {
      const actor = await this.#actorFor(channelId);
      if (!actor) break; // the host began stopping while an eviction drained
      result = await actor.tell(command);
      if (actor.crashed && this.#actors.get(channelId) === actor) {
        // Restart: drop the actor; the next message rehydrates a fresh one from the store.
        this.#actors.delete(channelId);
      }
      if (result.ok || result.error !== "bounced") break;
    }
    if (!result.ok && result.error === "bounced") {
      result = { ok: false, error: "crashed", message: "session restarted twice in a row" };
    }
    if (result.ok && result.unsaved && !this.#tellUnsaved(channelId)) {
      const { unsaved: _told, ...rest } = result;
      result = rest;
    }
    this.#options.post({ type: "done", id: command.id, channelId, result });
  }

  async #actorFor(channelId: string): Promise<SessionActor | undefined> {
    const closing = this.#closing.get(channelId);
    if (closing) await closing;
    if (this.#stopping) return undefined;
    let actor = this.#actors.get(channelId);
    if (!actor) {
      actor = new SessionActor(channelId, {
        store: this.#store,
        now: this.#options.now ?? (() => this.#clock.now()),
        maxExchanges: this.#options.maxExchanges,
        dropBlock: this.#options.dropBlock,
        lend: (id, contents) => this.#lend(id, contents),
      });
      this.#actors.set(channelId, actor);
    }
    return actor;
  }

  #lend(id: string, contents: Content[]): Promise<Shown> {
    if (this.#early.has(id)) {
      const shown = this.#early.get(id);
      this.#early.delete(id);
      return Promise.resolve(shown);
    }
    const { promise, resolve } = Promise.withResolvers<Shown>();
    this.#loans.set(id, resolve);
    this.#options.post({ type: "lent", id, contents });
    return promise;
  }

  async #evict(channelId: string): Promise<void> {
    const actor = this.#actors.get(channelId);
    if (!actor) {
      this.#options.post({ type: "evicted", channelId });
      return;
    }
    this.#actors.delete(channelId);
    // The window is saved after every exchange, so draining the mailbox is all that is left.
    const done = actor.idle();
    this.#closing.set(channelId, done);
    await done;
    if (this.#closing.get(channelId) === done) this.#closing.delete(channelId);
    this.#options.post({ type: "evicted", channelId });
  }

  /**
   * Finishes the turns lent out, answers what is queued with "stopping", then closes the store
   * (which tries its held writes a last time).
   */
  async #stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#actors.values()].map((actor) => actor.stop()));
    await Promise.all([...this.#closing.values()]);
    this.#actors.clear();
    await this.#store.close();
    this.#options.post({ type: "stopped" });
  }

  /** Whether this channel's user should be told now that the answer is not saved. */
  #tellUnsaved(channelId: string): boolean {
    const now = this.#clock.now();
    const told = this.#toldUnsaved.get(channelId);
    if (told !== undefined && now - told < UNSAVED_NOTICE_MS) return false;
    this.#toldUnsaved.set(channelId, now);
    return true;
  }

  #storeEvent(event: StoreEvent): void {
    // A new outage is news again for every channel.
    if (event.type === "recovered") this.#toldUnsaved.clear();
    const { writable, pending } = this.#store;
    this.#options.post({ type: "store", event, writable, pending });
  }
}
