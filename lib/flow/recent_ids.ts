/**
 * The ids of the last messages this process took in, so a MESSAGE_CREATE Discord delivers again
 * (a RESUME replays every event after the sequence the client sent) is answered once.
 *
 * @module
 */

/** How many message ids are remembered: minutes of traffic for a busy process, ~100 KB. */
export const RECENT_MESSAGE_IDS = 5000;

/** A set of the last `capacity` ids added; the oldest leaves when a new one comes in. */
export class RecentIds {
  readonly #ids = new Set<string>();

  /** Remembers at most `capacity` ids. */
  constructor(readonly capacity: number = RECENT_MESSAGE_IDS) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Adds `id`; false when it was already among the last `capacity` ids. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    // A Set iterates in insertion order: its first id is the oldest.
    if (this.#ids.size > this.capacity) this.#ids.delete(this.#ids.values().next().value!);
    return true;
  }

  /** How many ids are remembered now. */
  get size(): number {
    return this.#ids.size;
  }
}
