/**
 * StoreBoard: each worker host's store as it last reported, summed into the one health figure
 * readiness and the metrics read. A host that never reported is writable.
 *
 * @module
 */
import type { StoreEvent, StoreHealth } from "../../lib/store/retrying.ts";

/**
 * The hosts' stores, as one.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const board = new StoreBoard();
 * board.report(0, { type: "write_failed", channelId: "1", error: "disk full", pending: 1 }, false, 1);
 * strictEqual(board.health.writable, false);
 * strictEqual(board.hostDied(0), 1); // its held write died with it
 * strictEqual(board.health.writable, true);
 * ```
 */
export class StoreBoard {
  #hosts = new Map<number, { writable: boolean; pending: number }>();
  #writeFailures = 0;
  #writesDropped = 0;

  /** Writable only when every host's store is; the held writes and counts over all of them. */
  get health(): StoreHealth {
    const states = [...this.#hosts.values()];
    return {
      writable: states.every((s) => s.writable),
      pendingWrites: states.reduce((sum, s) => sum + s.pending, 0),
      writeFailures: this.#writeFailures,
      writesDropped: this.#writesDropped,
    };
  }

  /** Host `host`'s store reported `event`, and is now `writable` with `pending` writes held. */
  report(host: number, event: StoreEvent, writable: boolean, pending: number): void {
    this.#hosts.set(host, { writable, pending });
    if (event.type === "write_failed" || event.type === "retry_failed") this.#writeFailures++;
    else if (event.type === "dropped") this.#writesDropped += event.count;
  }

  /** Host `host` died: the writes it held are lost. Returns how many. */
  hostDied(host: number): number {
    const lost = this.#hosts.get(host)?.pending ?? 0;
    this.#hosts.delete(host);
    this.#writesDropped += lost;
    return lost;
  }
}
