/**
 * RetryingStore: a {@link SessionStore} that keeps the writes its disk refuses and writes them
 * when the disk takes them again, so a full disk or a read-only remount costs no conversation
 * that outlives the outage.
 *
 * A write the backend refuses for now (SQLite's error, or Redis away: see {@link isStoreOutage})
 * is held in memory ({@link PendingWrites}) and retried with exponential backoff; a later write for the same channel queues behind it, so each
 * channel's writes reach the disk in the order they were made, and `load` returns the window as
 * it will be once they have. Any other error is a bug and is thrown, as the inner store threw it.
 * Every refusal, recovery and drop is reported through `onEvent`, never silently.
 *
 * @module
 */
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { Exchange } from "../sessions/mod.ts";
import { type PendingWrite, PendingWrites } from "./pending_writes.ts";
import {
  isStoreOutage,
  type SessionStore,
  type UnansweredTurn,
  type WriteOutcome,
} from "./sqlite.ts";

/** What a {@link RetryingStore} reports. */
export type StoreEvent =
  /** A new write was refused and is held to retry; `error` is SQLite's own message. */
  | { type: "write_failed"; channelId: string; error: string; pending: number }
  /** A retry of the held writes was refused again. */
  | { type: "retry_failed"; error: string; pending: number; retryInMs: number }
  /** Every held write is on disk now. */
  | { type: "recovered"; written: number }
  /** Writes that will never reach the disk: the queue was full, or the store closed first. */
  | {
    type: "dropped";
    reason: "queue_full" | "closed";
    count: number;
    channelId?: string;
    error: string;
  };

/** The store's state as readiness and the metrics read it. */
export interface StoreHealth {
  /** False while any write is held because the disk refused it. */
  writable: boolean;
  /** Writes held in memory, waiting for the disk. */
  pendingWrites: number;
  /** Write attempts the disk refused since start, retries included. */
  writeFailures: number;
  /** Writes given up for good since start (queue full, shutdown, or a host that died holding them). */
  writesDropped: number;
}

/** Options for {@linkcode RetryingStore}. */
export interface RetryingStoreOptions {
  /** Time for the retry timer. @default systemClock */
  clock?: Clock;
  /** Most writes held over all channels. @default 2000 */
  maxPending?: number;
  /** Delays between retries. @default { baseMs: 1000, maxMs: 30000 } */
  retry?: BackoffOptions;
  /** Told of every refusal, recovery and drop. */
  onEvent?(event: StoreEvent): void;
}

/** Delays between retries unless told otherwise: soon at first, then at most every 30 s. */
const DEFAULT_RETRY: BackoffOptions = { baseMs: 1_000, maxMs: 30_000 };

/**
 * Wraps a store so that refused writes wait in memory and are retried.
 *
 * @example
 * ```ts
 * import { RetryingStore } from "./retrying.ts";
 * import { SqliteStore } from "./sqlite.ts";
 *
 * const store = new RetryingStore(SqliteStore.open(":memory:"), { onEvent: console.log });
 * await store.append("1", { user: "hi", model: "yo", at: 0 }, 20); // "saved"
 * await store.close();
 * ```
 */
export class RetryingStore implements SessionStore {
  #inner: SessionStore;
  #options: RetryingStoreOptions;
  #clock: Clock;
  #pending: PendingWrites;
  /** Every call runs after the previous one, so a retry never races a new write. */
  #chain: Promise<unknown> = Promise.resolve();
  #timer: TimerId | undefined;
  #attempt = 0;
  /** Held writes written since the outage began, for the recovery report. */
  #written = 0;
  /** SQLite's last refusal, while an outage lasts. */
  #lastError: string | undefined;
  #closed = false;

  /** Wraps `inner`; nothing is held until a write is refused. */
  constructor(inner: SessionStore, options: RetryingStoreOptions = {}) {
    this.#inner = inner;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#pending = new PendingWrites({ maxWrites: options.maxPending });
  }

  /** False while any write is held because the disk refused it. */
  get writable(): boolean {
    return this.#pending.size === 0;
  }

  /** Writes held in memory. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The stored window with the channel's held writes applied. */
  load(channelId: string): Promise<Exchange[]> {
    return this.#serial(async () =>
      this.#pending.overlay(channelId, await this.#inner.load(channelId))
    );
  }

  /** Writes the exchange, or holds it behind the channel's earlier held writes. */
  append(channelId: string, exchange: Exchange, keep: number): Promise<WriteOutcome> {
    return this.#serial(() => this.#write({ kind: "append", channelId, exchange, keep }));
  }

  /**
   * Notes a turn in flight. Best effort: a note the disk refuses is skipped, not held, since it
   * only serves the notice after a killed process; the exchange itself is what is kept.
   */
  beginTurn(channelId: string, id: string, at: number): Promise<void> {
    return this.#serial(() => this.#bestEffort(() => this.#inner.beginTurn(channelId, id, at)));
  }

  /** Ends a turn that recorded nothing; best effort, as {@link RetryingStore.beginTurn}. */
  endTurn(channelId: string, id: string): Promise<void> {
    return this.#serial(() => this.#bestEffort(() => this.#inner.endTurn(channelId, id)));
  }

  /** The channel's running memory, as the inner store has it. */
  loadMemory(channelId: string): Promise<string> {
    return this.#serial(() => this.#inner.loadMemory(channelId));
  }

  /**
   * Saves a fold. Best effort: a fold the disk refuses leaves its exchanges stored unfolded (the
   * write is one transaction), and the next load folds them again.
   */
  saveMemory(channelId: string, memory: string, keep: number): Promise<void> {
    return this.#serial(() =>
      this.#bestEffort(() => this.#inner.saveMemory(channelId, memory, keep))
    );
  }

  /** The turns a killed process left in flight, as the inner store reads them. */
  takeUnanswered(): Promise<UnansweredTurn[]> {
    return this.#serial(() => this.#inner.takeUnanswered());
  }

  /** Forgets the channel, at once or, while the disk refuses, once it takes the delete. */
  delete(channelId: string): Promise<void> {
    return this.#serial(async () => void await this.#write({ kind: "delete", channelId }));
  }

  /** Tries the held writes once more, reports any left as dropped, and closes the inner store. */
  close(): Promise<void> {
    return this.#serial(async () => {
      this.#closed = true;
      this.#clock.clearTimeout(this.#timer);
      const error = await this.#flushAll();
      if (error !== undefined) {
        this.#emit({ type: "dropped", reason: "closed", count: this.#pending.clear(), error });
      } else this.#recovered();
      await this.#inner.close();
    });
  }

  async #bestEffort(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!isStoreOutage(error)) throw error;
    }
  }

  async #write(write: PendingWrite): Promise<WriteOutcome> {
    const { channelId } = write;
    let error: string | undefined;
    if (this.#pending.has(channelId)) {
      // Behind the channel's held writes, never ahead of them.
      if (!this.#hold(write, this.#lastError ?? "writes held")) return "unsaved";
      error = await this.#flushChannel(channelId);
    } else {
      try {
        await this.#apply(write);
      } catch (thrown) {
        if (!isStoreOutage(thrown)) throw thrown;
        error = this.#lastError = thrown.message;
        if (!this.#hold(write, error)) return "unsaved";
      }
    }
    if (error !== undefined) {
      this.#lastError = error;
      this.#emit({ type: "write_failed", channelId, error, pending: this.#pending.size });
      this.#schedule();
      return "unsaved";
    }
    // The disk took this write: the other channels' held writes may go now too.
    if (this.#pending.size > 0) this.#retrySoon();
    else this.#recovered();
    return "saved";
  }

  /** Queues a refused write; false (and reported) when the queue is full. */
  #hold(write: PendingWrite, error: string): boolean {
    if (this.#pending.add(write)) return true;
    this.#emit({
      type: "dropped",
      reason: "queue_full",
      count: 1,
      channelId: write.channelId,
      error,
    });
    return false;
  }

  /** Writes the channel's held writes in order; SQLite's message if one was refused. */
  async #flushChannel(channelId: string): Promise<string | undefined> {
    for (let write = this.#pending.peek(channelId); write; write = this.#pending.peek(channelId)) {
      try {
        await this.#apply(write);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
      this.#pending.shift(channelId);
      this.#written++;
    }
    return undefined;
  }

  async #flushAll(): Promise<string | undefined> {
    for (const channelId of this.#pending.channels) {
      const error = await this.#flushChannel(channelId);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  async #apply(write: PendingWrite): Promise<void> {
    if (write.kind === "delete") await this.#inner.delete(write.channelId);
    else await this.#inner.append(write.channelId, write.exchange, write.keep);
  }

  async #retry(): Promise<void> {
    if (this.#closed) return;
    const error = await this.#flushAll();
    if (error === undefined) return this.#recovered();
    this.#lastError = error;
    const retryInMs = this.#schedule();
    this.#emit({ type: "retry_failed", error, pending: this.#pending.size, retryInMs });
  }

  /** Arms the retry timer unless it is armed; returns the delay it runs after. */
  #schedule(): number {
    if (this.#closed) return 0;
    if (this.#timer !== undefined) return 0;
    const delay = backoffDelay(this.#attempt, this.#options.retry ?? DEFAULT_RETRY);
    this.#attempt++;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#serial(() => this.#retry());
    }, delay);
    // Held writes must not keep a finished process alive; close() gives them their last try.
    if (this.#clock === systemClock) Deno.unrefTimer(this.#timer as number);
    return delay;
  }

  /** Retries now, after the call running: a write just went through. */
  #retrySoon(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#serial(() => this.#retry());
  }

  /** Ends an outage, if there was one: every held write is on disk. */
  #recovered(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#attempt = 0;
    if (this.#lastError === undefined) return;
    this.#emit({ type: "recovered", written: this.#written });
    this.#written = 0;
    this.#lastError = undefined;
  }

  #emit(event: StoreEvent): void {
    this.#options.onEvent?.(event);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }
}
