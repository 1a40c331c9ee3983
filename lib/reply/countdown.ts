/**
 * Countdown: one ⏳ message telling a user how long their answer waits for quota or a retry,
 * edited every 5 s (not every second, which would spend Discord's edit budget) and deleted before
 * the answer appears. However many retries happen, it stays one message: while a call runs the
 * countdown is paused (the message stays, unedited), and a retry's wait resumes it.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { DiscordPort } from "../discord/mod.ts";
import { text } from "../text/strings_ko.ts";

/** The Discord interface the countdown posts, edits and deletes its message through. */
export type { DiscordPort };

/** Where the countdown is shown. */
export interface CountdownOptions {
  /** Posts, edits and deletes the message. */
  discord: Pick<DiscordPort, "sendMessage" | "editMessage" | "deleteMessage">;
  /** The Discord channel the message goes to. */
  channelId: string;
  /** The user's message id the countdown replies to, when there is one. */
  replyTo?: string;
  /** Milliseconds between edits. @default 5000 */
  intervalMs?: number;
  /** Time for the edit timer and the seconds shown; tests pass a fake. @default systemClock */
  clock?: Clock;
  /** Told when posting, editing or deleting fails (for logs); the countdown never throws. */
  onError?(error: unknown): void;
  /** Told when the message is posted, edited and deleted (for logs). */
  onChange?(what: "posted" | "edited" | "deleted", secondsLeft: number): void;
}

/**
 * A countdown message.
 *
 * @example
 * ```ts ignore
 * const countdown = new Countdown({ discord, channelId });
 * countdown.show(Date.now() + 30_000); // posts "⏳ … 30초 …", edits it every 5 s
 * countdown.pause(); // the call started: stop editing, keep the message for a retry
 * await countdown.clear(); // the answer is coming: delete it
 * ```
 */
export class Countdown {
  #options: CountdownOptions;
  #clock: Clock;
  #startsAt = 0;
  #messageId: Promise<string | undefined> | undefined;
  #shown = "";
  #timer: TimerId | undefined;
  #editing: Promise<void> | undefined;
  #clearing: Promise<void> | undefined;
  #paused = false;

  /** Creates a countdown; nothing is posted until {@link Countdown.show}. */
  constructor(options: CountdownOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** True once `clear()` was called. */
  get cleared(): boolean {
    return this.#clearing !== undefined;
  }

  /** Shows (or moves) the countdown to `startsAt` (epoch ms); resumes it when paused. */
  show(startsAt: number): void {
    if (this.cleared) return;
    this.#startsAt = startsAt;
    this.#paused = false;
    if (this.#messageId) {
      // Already on screen. Running: the next 5 s edit shows the new time. Paused (a retry after
      // a call): the shown time is stale, so correct it now and resume the edits.
      if (this.#timer === undefined) {
        void this.#edit();
        this.#schedule();
      }
      return;
    }
    const seconds = this.#secondsLeft();
    const content = text.waiting(seconds);
    this.#shown = content;
    const { discord, channelId, replyTo } = this.#options;
    this.#messageId = discord.sendMessage(channelId, content, { replyTo }).then(
      (id) => {
        this.#options.onChange?.("posted", seconds);
        // Count the 5 s from when the message is there: Discord's queue can hold a post a while.
        if (!this.cleared && !this.#paused && this.#timer === undefined) this.#schedule();
        return id;
      },
      (error) => {
        this.#options.onError?.(error);
        return undefined;
      },
    );
  }

  /**
   * Stops the edits while a call runs but keeps the message, so that a retry after it reuses the
   * same message instead of posting another.
   */
  pause(): void {
    this.#paused = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Deletes the message, if one was posted, after any edit in flight. Every call returns the same
   * promise, so callers can chain the answer's first post after it and keep "⏳ gone, then the
   * answer" in order.
   */
  clear(): Promise<void> {
    this.#clearing ??= this.#delete();
    return this.#clearing;
  }

  async #delete(): Promise<void> {
    this.pause();
    const id = await this.#messageId;
    await this.#editing;
    if (!id) return;
    try {
      await this.#options.discord.deleteMessage(this.#options.channelId, id);
      this.#options.onChange?.("deleted", 0);
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  #secondsLeft(): number {
    return Math.max(0, Math.ceil((this.#startsAt - this.#clock.now()) / 1000));
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.cleared) return;
      this.#schedule();
      void this.#edit();
    }, this.#options.intervalMs ?? 5000);
  }

  /** Edits the message to the current time left, unless it already says that. */
  async #edit(): Promise<void> {
    await this.#editing;
    const id = await this.#messageId;
    const seconds = this.#secondsLeft();
    const content = text.waiting(seconds);
    if (!id || this.cleared || content === this.#shown) return;
    this.#shown = content;
    this.#editing = this.#options.discord.editMessage(this.#options.channelId, id, content).then(
      () => this.#options.onChange?.("edited", seconds),
      (error) => this.#options.onError?.(error),
    );
    await this.#editing;
  }
}
