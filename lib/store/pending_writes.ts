/**
 * Writes the store refused, held in memory in order per channel until the disk takes them.
 *
 * A channel's queue is compacted as it grows, losing nothing the store would have kept: a delete
 * makes everything queued before it moot, and since the store trims a channel to its newest
 * `keep` exchanges, only the newest `keep` queued appends can still reach the stored window. So a
 * channel holds at most one delete and `keep` appends, and the bound on the total is only reached
 * when very many channels talk during one outage.
 *
 * @module
 */
import type { Exchange } from "../sessions/mod.ts";

/** A write waiting for the disk. */
export type PendingWrite =
  | { kind: "append"; channelId: string; exchange: Exchange; keep: number }
  | { kind: "delete"; channelId: string };

/** Options for {@linkcode PendingWrites}. */
export interface PendingWritesOptions {
  /** Most writes held over all channels; past it a new write is refused. @default 2000 */
  maxWrites?: number;
}

/**
 * Queued writes, per channel in the order they were made, channels in the order they first
 * queued.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingWrites } from "./pending_writes.ts";
 *
 * const pending = new PendingWrites();
 * pending.add({ kind: "append", channelId: "1", exchange: { user: "u", model: "m", at: 0 }, keep: 20 });
 * assert.deepEqual(pending.overlay("1", []), [{ user: "u", model: "m", at: 0 }]);
 * ```
 */
export class PendingWrites {
  /** Most writes held over all channels. */
  readonly maxWrites: number;
  #queues = new Map<string, PendingWrite[]>();
  #size = 0;

  /** Makes an empty queue. */
  constructor(options: PendingWritesOptions = {}) {
    this.maxWrites = options.maxWrites ?? 2000;
  }

  /** Writes held, over all channels. */
  get size(): number {
    return this.#size;
  }

  /** Channels with writes held, in the order they first queued. */
  get channels(): string[] {
    return [...this.#queues.keys()];
  }

  /** Whether `channelId` has writes held. */
  has(channelId: string): boolean {
    return this.#queues.has(channelId);
  }

  /**
   * Queues a write behind the channel's earlier ones, compacting the channel's queue. False,
   * and nothing changed, when it would take the total past `maxWrites`.
   */
  add(write: PendingWrite): boolean {
    const queue = this.#queues.get(write.channelId) ?? [];
    const next = compact([...queue, write]);
    if (this.#size - queue.length + next.length > this.maxWrites) return false;
    this.#size += next.length - queue.length;
    this.#queues.set(write.channelId, next);
    return true;
  }

  /** The channel's oldest write, the next one to try. */
  peek(channelId: string): PendingWrite | undefined {
    return this.#queues.get(channelId)?.[0];
  }

  /** Forgets the channel's oldest write, once the store took it. */
  shift(channelId: string): void {
    const queue = this.#queues.get(channelId);
    if (!queue) return;
    queue.shift();
    this.#size--;
    if (queue.length === 0) this.#queues.delete(channelId);
  }

  /** Forgets every write; returns how many there were. */
  clear(): number {
    const dropped = this.#size;
    this.#queues.clear();
    this.#size = 0;
    return dropped;
  }

  /** The channel's window as it will be once its writes are done, from the `stored` one. */
  overlay(channelId: string, stored: Exchange[]): Exchange[] {
    const queue = this.#queues.get(channelId);
    if (!queue) return stored;
    let window = stored;
    for (const write of queue) {
      window = write.kind === "delete" ? [] : newest([...window, write.exchange], write.keep);
    }
    return window;
  }
}

/** A channel's queue with what can no longer change the stored window left out. */
function compact(queue: PendingWrite[]): PendingWrite[] {
  const lastDelete = queue.findLastIndex((w) => w.kind === "delete");
  const head = lastDelete >= 0 ? [queue[lastDelete]] : [];
  const appends = queue.slice(lastDelete + 1);
  const last = appends.at(-1);
  return [...head, ...(last?.kind === "append" ? newest(appends, last.keep) : appends)];
}

/** The last `n` items of `items`. */
function newest<T>(items: T[], n: number): T[] {
  return items.slice(Math.max(0, items.length - n));
}
