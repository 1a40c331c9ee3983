/**
 * Countdown: one ⏳ message telling a user how long their answer waits for quota or a retry,
 * edited every 5 s (not every second, which would spend Discord's edit budget) and deleted when
 * the call starts. However many retries happen, it stays one message.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "./clock.ts";
import type { DiscordPort } from "./discord.ts";
import { text } from "./strings_ko.ts";

/** Where the countdown is shown. */
export interface CountdownOptions {
  discord: Pick<DiscordPort, "sendMessage" | "editMessage" | "deleteMessage">;
  channelId: string;
  replyTo?: string;
  /** @default 5000 */
  intervalMs?: number;
  clock?: Clock;
  onError?(error: unknown): void;
  /** Told when the message is posted, edited and deleted (for logs). */
  onChange?(what: "posted" | "edited" | "deleted", secondsLeft: number): void;
}

/**
 * A countdown message.
 *
 * @example
 * ```ts
 * const countdown = new Countdown({ discord, channelId });
 * countdown.show(Date.now() + 30_000);
 * await countdown.clear();
 * ```
 */
export class Countdown {
  #options: CountdownOptions;
  #clock: Clock;
  #startsAt = 0;
  #messageId: Promise<string | undefined> | undefined;
  #timer: TimerId | undefined;
  #cleared = false;

  constructor(options: CountdownOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Shows (or moves) the countdown to `startsAt` (epoch ms). */
  show(startsAt: number): void {
    if (this.#cleared) return;
    this.#startsAt = startsAt;
    if (this.#messageId) {
      // Already on screen: the next 5 s edit shows the new time; resume edits if paused.
      if (this.#timer === undefined) this.#tick();
      return;
    }
    const seconds = this.#secondsLeft();
    const { discord, channelId, replyTo } = this.#options;
    this.#messageId = discord.sendMessage(channelId, text.waiting(seconds), { replyTo }).then(
      (id) => {
        this.#options.onChange?.("posted", seconds);
        return id;
      },
      (error) => {
        this.#options.onError?.(error);
        return undefined;
      },
    );
    this.#tick();
  }

  /**
   * Stops the edits while a call runs but keeps the message, so that a retry after it reuses the
   * same message instead of posting another.
   */
  pause(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Deletes the message, if one was posted. Safe to call more than once. */
  async clear(): Promise<void> {
    if (this.#cleared) return;
    this.#cleared = true;
    this.#clock.clearTimeout(this.#timer);
    const id = await this.#messageId;
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

  #tick(): void {
    this.#timer = this.#clock.setTimeout(async () => {
      if (this.#cleared) return;
      const id = await this.#messageId;
      if (id && !this.#cleared) {
        const seconds = this.#secondsLeft();
        try {
          await this.#options.discord.editMessage(
            this.#options.channelId,
            id,
            text.waiting(seconds),
          );
          this.#options.onChange?.("edited", seconds);
        } catch (error) {
          this.#options.onError?.(error);
        }
      }
      if (!this.#cleared && this.#timer !== undefined) this.#tick();
    }, this.#options.intervalMs ?? 5000);
  }
}
