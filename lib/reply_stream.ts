/**
 * ReplyStream: shows an answer as it grows, by posting its first text at once and then editing
 * in place at most once per `minEditIntervalMs`, the final edit included. Posting is never held
 * back; a message's first edit may follow its post at once. Past 2,000 characters
 * the text continues in a new message; `splitMessage` keeps code blocks whole across the cut, and
 * a code block still being written is shown closed until its real closing fence arrives.
 *
 * Each message is edited only when its own text changed: a greedy split fixes a chunk's content
 * once the text has grown past it, so earlier messages settle and only the last one keeps moving.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "./clock.ts";
import type { DiscordPort } from "./discord.ts";
import { isInsideCodeBlock, splitMessage } from "./split_message.ts";

/** Re-exported because {@link ReplyStreamOptions.clock} is one. */
export type { Clock };

/** Where and how a stream posts. */
export interface ReplyStreamOptions {
  /** Posts and edits; with `deleteMessage`, also removes what a shorter final text left over. */
  discord:
    & Pick<DiscordPort, "sendMessage" | "editMessage">
    & Partial<Pick<DiscordPort, "deleteMessage">>;
  /** The channel the answer is posted in. */
  channelId: string;
  /** The user's message; the first part of the answer replies to it. */
  replyTo?: string;
  /** The shortest time between two edits. @default 1000 */
  minEditIntervalMs?: number;
  /** Time for the edit interval, so tests advance it instead of sleeping. @default systemClock */
  clock?: Clock;
  /** Told about Discord errors, which the stream otherwise survives. */
  onError?(error: unknown): void;
  /**
   * Awaited once, just before the first text is posted: a ⏳ countdown is deleted here, so the
   * answer never appears under it.
   */
  beforeFirstText?(): Promise<void> | void;
  /** Called once, when the first text becomes visible. */
  onFirstText?(): void;
}

/**
 * An answer being streamed into Discord messages.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const shown: string[] = [];
 * const discord = {
 *   sendMessage: (_channelId: string, content: string) => (shown.push(content), Promise.resolve("1")),
 *   editMessage: (_channelId: string, _id: string, content: string) => (shown.push(content), Promise.resolve()),
 * };
 * const stream = new ReplyStream({ discord, channelId: "42", replyTo: "7" });
 * stream.update("안녕");
 * await stream.finish("안녕!");
 * deepStrictEqual(shown, ["안녕", "안녕!"]);
 * ```
 */
export class ReplyStream {
  #options: ReplyStreamOptions;
  #clock: Clock;
  #interval: number;
  #text = "";
  /** The text the messages on screen show, before fences were closed for display. */
  #rendered = "";
  #posted: { id: string; content: string }[] = [];
  /** When the last edit was sent. */
  #lastEdit = -Infinity;
  #flushing: Promise<void> | undefined;
  #timer: TimerId | undefined;
  #finished = false;
  #preparedFirst = false;

  /** Makes a stream; nothing is posted until the first `update` or `finish`. */
  constructor(options: ReplyStreamOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#interval = options.minEditIntervalMs ?? 1000;
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

  /**
   * Shows `text` in full, as soon as the edit interval allows, retrying once a second later if
   * Discord refused it (`onError` hears of each refusal). Resolves when it is visible or the retry
   * failed too. Later calls do nothing.
   */
  async finish(text: string): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#text = text;
    await this.#flushing;
    // One retry: the final text is the one that matters most.
    for (let attempt = 0; attempt < 2; attempt++) {
      const wait = this.#untilNextEdit();
      if (wait > 0) await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, wait));
      if (await this.#flush(text, true)) return;
    }
  }

  /** Ends the stream with a notice: appended under the text so far, or posted alone if none. */
  async fail(notice: string): Promise<void> {
    const hasText = this.#text.trim().length > 0;
    await this.finish(hasText ? `${this.#text.trimEnd()}\n\n${notice}` : notice);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#flushing) return;
    const wait = this.#untilNextEdit();
    if (wait <= 0) {
      void this.#run();
    } else {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        void this.#run();
      }, wait);
    }
  }

  /** Milliseconds until the edit interval allows the next edit; zero or less when it does now. */
  #untilNextEdit(): number {
    return this.#lastEdit + this.#interval - this.#clock.now();
  }

  async #run(): Promise<void> {
    if (this.#finished) return;
    this.#flushing = this.#flush(this.#text, false).then(() => {});
    await this.#flushing;
    this.#flushing = undefined;
    // Text that arrived during the flush goes out at the next allowed moment.
    if (!this.#finished && this.#rendered !== this.#text) this.#schedule();
  }

  /** Shows `text`; false when Discord refused part of it. */
  async #flush(text: string, final: boolean): Promise<boolean> {
    if (text.trim().length === 0) return true;
    const chunks = splitMessage(final ? text : closeOpenFence(text));
    const { discord, channelId, replyTo } = this.#options;
    try {
      for (let i = 0; i < chunks.length; i++) {
        const existing = this.#posted[i];
        if (!existing) {
          if (i === 0 && !this.#preparedFirst) {
            this.#preparedFirst = true;
            await this.#options.beforeFirstText?.();
          }
          const id = await discord.sendMessage(channelId, chunks[i], i === 0 ? { replyTo } : {});
          this.#posted.push({ id, content: chunks[i] });
          if (i === 0) this.#options.onFirstText?.();
        } else if (existing.content !== chunks[i]) {
          this.#lastEdit = this.#clock.now();
          await discord.editMessage(channelId, existing.id, chunks[i]);
          existing.content = chunks[i];
        }
      }
      // A final text shorter than what streamed (rare: the model's last word replaced it) must
      // not leave stale continuation messages behind.
      if (final && discord.deleteMessage) {
        for (const extra of this.#posted.splice(chunks.length)) {
          await discord.deleteMessage(channelId, extra.id);
        }
      }
      this.#rendered = text;
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }
}

/** Closes a code block that is still being written, so it shows as code while it streams. */
function closeOpenFence(text: string): string {
  if (!isInsideCodeBlock(text).open) return text;
  return `${text}${text.endsWith("\n") ? "" : "\n"}\`\`\``;
}
