/**
 * ReplyStream: shows an answer as it grows, by posting its first text at once and then editing
 * in place at most once per `minEditIntervalMs`. Past 2,000 characters the text continues in a
 * new message; `splitMessage` keeps code blocks whole across the cut.
 *
 * Each message is edited only when its own text changed: a greedy split fixes a chunk's content
 * once the text has grown past it, so earlier messages settle and only the last one keeps moving.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "./clock.ts";
import type { DiscordPort } from "./discord.ts";
import { splitMessage } from "./split_message.ts";

/** Where and how a stream posts. */
export interface ReplyStreamOptions {
  discord: Pick<DiscordPort, "sendMessage" | "editMessage">;
  channelId: string;
  /** The user's message; the first part of the answer replies to it. */
  replyTo?: string;
  /** @default 1000 */
  minEditIntervalMs?: number;
  clock?: Clock;
  /** Told about Discord errors, which the stream otherwise survives. */
  onError?(error: unknown): void;
  /** Called once, when the first text becomes visible. */
  onFirstText?(): void;
}

/**
 * An answer being streamed into Discord messages.
 *
 * @example
 * ```ts
 * const stream = new ReplyStream({ discord, channelId, replyTo: messageId });
 * stream.update("안");
 * stream.update("안녕");
 * await stream.finish("안녕!");
 * ```
 */
export class ReplyStream {
  #options: ReplyStreamOptions;
  #clock: Clock;
  #text = "";
  #posted: { id: string; content: string }[] = [];
  #lastFlush = -Infinity;
  #flushing: Promise<void> | undefined;
  #timer: TimerId | undefined;
  #finished = false;

  constructor(options: ReplyStreamOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** True once any text is on screen. */
  get started(): boolean {
    return this.#posted.length > 0;
  }

  /** Ids of the messages this stream posted, in order. */
  get messageIds(): string[] {
    return this.#posted.map((m) => m.id);
  }

  /** Sets the whole text so far; it is shown now or at the next allowed edit. */
  update(textSoFar: string): void {
    if (this.#finished || textSoFar === this.#text) return;
    this.#text = textSoFar;
    this.#schedule();
  }

  /** Shows `text` in full, without waiting for the edit interval. Resolves when it is visible. */
  async finish(text: string): Promise<void> {
    this.#finished = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#text = text;
    await this.#flushing;
    await this.#flush();
  }

  /** Ends the stream with a notice: appended under the text shown, or posted alone if none was. */
  async fail(notice: string): Promise<void> {
    const shown = this.#text.trim().length > 0;
    await this.finish(shown ? `${this.#text}\n\n${notice}` : notice);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#flushing) return;
    const interval = this.#options.minEditIntervalMs ?? 1000;
    const wait = this.#lastFlush + interval - this.#clock.now();
    if (wait <= 0) {
      void this.#run();
    } else {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        void this.#run();
      }, wait);
    }
  }

  async #run(): Promise<void> {
    if (this.#finished) return;
    this.#flushing = this.#flush();
    await this.#flushing;
    this.#flushing = undefined;
    // Text that arrived during the flush goes out at the next allowed moment.
    if (!this.#finished && this.#renderedText() !== this.#text) this.#schedule();
  }

  #rendered = "";

  #renderedText(): string {
    return this.#rendered;
  }

  async #flush(): Promise<void> {
    const text = this.#text;
    if (text.trim().length === 0) return;
    this.#lastFlush = this.#clock.now();
    const chunks = splitMessage(text);
    const { discord, channelId, replyTo } = this.#options;
    try {
      for (let i = 0; i < chunks.length; i++) {
        const existing = this.#posted[i];
        if (!existing) {
          const id = await discord.sendMessage(channelId, chunks[i], i === 0 ? { replyTo } : {});
          this.#posted.push({ id, content: chunks[i] });
          if (i === 0) this.#options.onFirstText?.();
        } else if (existing.content !== chunks[i]) {
          await discord.editMessage(channelId, existing.id, chunks[i]);
          existing.content = chunks[i];
        }
      }
      this.#rendered = text;
    } catch (error) {
      this.#options.onError?.(error);
    }
  }
}
