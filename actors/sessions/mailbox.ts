/**
 * A mailbox: messages are handled one at a time, in the order they were posted.
 *
 * This is what makes an actor an actor: its state is touched by one handler call at a time, so
 * it needs no locks, and a channel's messages are answered in arrival order.
 *
 * @module
 */

interface Letter<T, R> {
  message: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * A FIFO queue drained by one handler call at a time.
 *
 * @example
 * ```ts
 * const box = new Mailbox(async (n: number) => n * 2);
 * await box.post(21); // 42
 * ```
 */
export class Mailbox<T, R> {
  #queue: Letter<T, R>[] = [];
  #running = false;
  #idleWaiters: (() => void)[] = [];
  #handler: (message: T) => Promise<R>;

  /** Makes a mailbox; `handler` is called for one message at a time. */
  constructor(handler: (message: T) => Promise<R>) {
    this.#handler = handler;
  }

  /** Queues a message; resolves with the handler's result for it. */
  post(message: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#queue.push({ message, resolve, reject });
    if (!this.#running) void this.#drain();
    return promise;
  }

  /** Messages waiting or being handled. */
  get size(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  /**
   * Answers the waiting messages `which` selects (never the one being handled) with
   * `answer(message)`, without running the handler; the rest stay queued in order. Returns how
   * many were answered. Used on shutdown.
   */
  cancelQueued(answer: (message: T) => R, which: (message: T) => boolean = () => true): number {
    const cancelled = this.#queue.filter((letter) => which(letter.message));
    this.#queue = this.#queue.filter((letter) => !which(letter.message));
    for (const letter of cancelled) letter.resolve(answer(letter.message));
    return cancelled.length;
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const letter = this.#queue.shift()!;
      try {
        letter.resolve(await this.#handler(letter.message));
      } catch (error) {
        letter.reject(error);
      }
    }
    this.#running = false;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
