/**
 * HostPool: the supervisor's worker hosts, one slot per host index. It spawns each worker, sends
 * it its init message, drops messages from a worker that has since been replaced, keeps a
 * worker's uncaught error from taking the process down, and stops all workers with a deadline.
 *
 * What to do when a host dies (restart it or give up) is the supervisor's policy, not this
 * module's.
 *
 * @module
 */
import type { FromHost, ToHost } from "./host.ts";
import type { HostInit } from "./host_worker.ts";

/** What the pool tells its owner. */
export interface HostPoolOptions {
  /** How many hosts. */
  size: number;
  /** Sent to every worker as its first message. */
  init: HostInit;
  /**
   * A message from a current worker. `answer` posts back to that same worker, and does nothing
   * once it has been replaced: a restarted host has forgotten what it asked. `index` is the host's.
   */
  onMessage(message: FromHost, answer: (message: ToHost) => void, index: number): void;
  /** The current worker at `index` threw an uncaught error; it has been terminated. */
  onError(index: number, error: string): void;
}

interface Slot {
  worker: Worker;
  /** Set while `stop` waits for this worker's "stopped". */
  stopped?: () => void;
}

/**
 * A fixed number of session-host workers, each replaceable.
 *
 * @example
 * ```ts ignore
 * const pool = new HostPool({ size: 2, init, onMessage, onError });
 * pool.post(0, { type: "evict", channelId: "42" });
 * ```
 */
export class HostPool {
  #options: HostPoolOptions;
  #slots: Slot[] = [];

  /** Spawns `size` workers and sends each its init message. */
  constructor(options: HostPoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.size; i++) this.#slots.push(this.#spawn(i));
  }

  /** How many hosts. */
  get size(): number {
    return this.#slots.length;
  }

  /** Posts a message to the current worker at `index`. */
  post(index: number, message: ToHost): void {
    this.#slots[index].worker.postMessage(message);
  }

  /** Ends the current worker at `index` at once, as a crash would. */
  terminate(index: number): void {
    this.#slots[index].worker.terminate();
  }

  /** Replaces the worker at `index` with a fresh one; the old one's messages are dropped. */
  respawn(index: number): void {
    this.#slots[index] = this.#spawn(index);
  }

  /**
   * Asks every worker to stop, waits until each has said "stopped" or `timeoutMs` has passed,
   * then terminates them all.
   */
  async stop(timeoutMs: number): Promise<void> {
    const stopped = this.#slots.map((slot) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      slot.stopped = resolve;
      slot.worker.postMessage({ type: "stop" } satisfies ToHost);
      return promise;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([Promise.all(stopped), timeout]);
    clearTimeout(timer);
    for (const slot of this.#slots) slot.worker.terminate();
  }

  #spawn(index: number): Slot {
    const worker = new Worker(new URL("./host_worker.ts", import.meta.url), {
      type: "module",
    });
    const slot: Slot = { worker };
    const current = () => this.#slots[index] === slot;
    const answer = (message: ToHost) => {
      if (current()) worker.postMessage(message);
    };
    worker.onmessage = (event: MessageEvent<FromHost>) => {
      if (!current()) return; // a message from a host that was replaced
      if (event.data.type === "stopped") slot.stopped?.();
      else this.#options.onMessage(event.data, answer, index);
    };
    worker.onerror = (event) => {
      // Handled here: an uncaught error in a host must not take the whole process down.
      event.preventDefault();
      if (!current()) return;
      worker.terminate();
      this.#options.onError(index, event.message);
    };
    worker.postMessage(this.#options.init);
    return slot;
  }
}
