/**
 * ReplyStream: shows an answer as it grows, by posting its first text at once and then editing
 * in place at most once per `minEditIntervalMs`, the final edit included. Posting is never held
 * back; a message's first edit may follow its post at once. At most one post or edit is on its
 * way at a time, and each reads the text as it leaves (`latestContent`): when Discord's request
 * budget makes it wait, it carries all the text ready by then, so an answer complete by its turn
 * costs one request, and a newer edit never queues behind an older one. Past 2,000 characters
 * the text continues in a new message; `splitMessage` keeps code blocks whole across the cut, and
 * a code block still being written is shown closed until its real closing fence arrives (the
 * final text too, so an answer that never closes its block still shows as code).
 *
 * Each message is edited only when its own text changed: a greedy split fixes a chunk's content
 * once the text has grown past it, so earlier messages settle and only the last one keeps moving.
 *
 * The final text matters most: while Discord refuses it, it is retried with backoff for up to
 * {@link FINAL_RETRY_MS}, and then the user is told the answer could not be shown. `shownText`
 * is what the messages on screen actually say, so history can record that and nothing more.
 *
 * Every wait, even one of 0 ms, goes through the clock's `setTimeout`: a flush that rescheduled
 * itself directly would loop in microtasks and starve every timer in the process (heartbeats,
 * health checks, signal handlers), as a whitespace-only first chunk once did.
 *
 * @module
 */
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { ActionRow, DiscordPort } from "../discord/mod.ts";
import { isInsideCodeBlock, type MessagePart, splitMessageParts } from "./split_message.ts";
import { text as strings } from "../text/strings_ko.ts";

/** Re-exported because {@link ReplyStreamOptions.clock} is one. */
export type { Clock };

/** How long the final text is retried while Discord refuses it, in milliseconds. */
export const FINAL_RETRY_MS = 30_000;

/** Waits between attempts at the final text: about 0.5, 1, 2 s, then every 4 s. */
const FINAL_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 4_000 };

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
  /** How long `finish` retries the final text. @default FINAL_RETRY_MS */
  finalRetryMs?: number;
  /** Randomness for the retries' jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** Told about Discord errors, which the stream otherwise survives. */
  onError?(error: unknown): void;
  /**
   * Awaited once, just before the first text is posted: a ⏳ countdown is deleted here, so the
   * answer never appears under it.
   */
  beforeFirstText?(): Promise<void> | void;
  /** Called once, when the first text becomes visible. */
  onFirstText?(): void;
  /**
   * Buttons (a stop button) shown on the stream's last message while the answer still grows. They
   * ride on an edit that brings new text (never on a post, never on an edit of their own) and come
   * off with the final edit, so an answer shown whole by its first post never carries them and
   * costs one request. Read as each request leaves. @default none
   */
  components?: ActionRow[];
}

/** How {@link ReplyStream.finish} shows its text. */
export interface FinishOptions {
  /**
   * A short aside shown under the answer (such as "cut short here"), after its code block is
   * closed; not part of {@link ReplyStream.shownText}.
   */
  notice?: string;
}

/** A message the stream posted, what it shows, and the slice of the text that stands for. */
interface Posted {
  id: string;
  content: string;
  source: string;
  /** Whether it carries the stream's `components`. */
  buttons?: boolean;
}

/**
 * An answer being streamed into Discord messages.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * const shown: string[] = [];
 * const discord = {
 *   sendMessage: (_channelId: string, content: string) => (shown.push(content), Promise.resolve("1")),
 *   editMessage: (_channelId: string, _id: string, content: string) => (shown.push(content), Promise.resolve()),
 * };
 * const stream = new ReplyStream({ discord, channelId: "42", replyTo: "7" });
 * stream.update("안녕");
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * strictEqual(await stream.finish("안녕!"), true);
 * deepStrictEqual(shown, ["안녕", "안녕!"]);
 * strictEqual(stream.shownText, "안녕!");
 * ```
 */
export class ReplyStream {
  #options: ReplyStreamOptions;
  #clock: Clock;
  #interval: number;
  /** The answer so far, as the model wrote it. */
  #text = "";
  /** What the messages must show once finished: the final text, its notice under it. */
  #finalDisplay: string | undefined;
  /** The last display split into messages, and the display it was split from. */
  #parts: MessagePart[] = [];
  #partsOf: string | undefined;
  #posted: Posted[] = [];
  /** The final notice, left out of `shownText`. */
  #notice: string | undefined;
  /** When the last edit was sent. */
  #lastEdit = -Infinity;
  #flushing: Promise<boolean> | undefined;
  #timer: TimerId | undefined;
  #finished = false;
  #complete = false;
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

  /**
   * The answer as the user sees it: the text of the messages on screen, joined (a code block
   * shown closed includes its closing fence), the final notice left out. Less than the final
   * text when Discord refused part of it.
   */
  get shownText(): string {
    const shown = this.#posted.map((m) => m.source).join("");
    const notice = this.#notice;
    if (notice === undefined) return shown;
    return (shown.endsWith(notice) ? shown.slice(0, -notice.length) : shown).trimEnd();
  }

  /** Sets the whole text so far; it is shown now or at the next allowed edit. */
  update(textSoFar: string): void {
    if (this.#finished || textSoFar === this.#text) return;
    this.#text = textSoFar;
    this.#schedule();
  }

  /**
   * Shows `text` in full, as soon as the edit interval allows. While Discord refuses it, retries
   * with backoff (`onError` hears of each refusal) for up to `finalRetryMs`, then posts a short
   * notice that the answer could not be shown. Resolves true when the whole text is visible.
   * Later calls do nothing and resolve as the first did.
   */
  async finish(text: string, options: FinishOptions = {}): Promise<boolean> {
    if (this.#finished) return this.#complete;
    this.#finished = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#text = text;
    this.#notice = options.notice;
    // A post or edit still waiting for its turn reads this as it leaves.
    this.#finalDisplay = finalDisplay(text, options.notice);
    await this.#flushing;
    const giveUpAt = this.#clock.now() + (this.#options.finalRetryMs ?? FINAL_RETRY_MS);
    for (let attempt = 0;; attempt++) {
      if (!this.#shown()) await this.#sleep(this.#untilNextEdit());
      if (await this.#flush(true)) return this.#complete = true;
      const delay = backoffDelay(attempt, { ...FINAL_BACKOFF, random: this.#options.random });
      if (this.#clock.now() + delay > giveUpAt) break;
      await this.#sleep(delay);
    }
    await this.#tellNotShown();
    return false;
  }

  /** Ends the stream with a notice: under the text so far, or posted alone if none. */
  fail(notice: string): Promise<boolean> {
    return this.finish(this.#text, { notice });
  }

  /** Arms the timer for the next flush: always a timer, so other work runs in between. */
  #schedule(minDelayMs = 0): void {
    if (this.#timer !== undefined || this.#flushing || this.#finished) return;
    const wait = Math.max(0, minDelayMs, this.#untilNextEdit());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, wait);
  }

  /** Milliseconds until the edit interval allows the next edit; zero or less when it does now. */
  #untilNextEdit(): number {
    return this.#lastEdit + this.#interval - this.#clock.now();
  }

  /** Resolves after `ms` on the clock; at once, without a timer, when `ms` is not positive. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#clock.setTimeout(resolve, ms));
  }

  async #run(): Promise<void> {
    if (this.#finished) return;
    this.#flushing = this.#flush(false);
    const ok = await this.#flushing;
    this.#flushing = undefined;
    // Text that arrived during the flush goes out at the next allowed moment; after a refusal,
    // not before an interval has passed.
    if (!this.#shown()) this.#schedule(ok ? 0 : this.#interval);
  }

  /** What the messages should show now: the final display, or the text so far, fence closed. */
  #display(): string {
    return this.#finalDisplay ?? closeOpenFence(this.#text);
  }

  /** The display now, split into messages (split again only when it changed). */
  #currentParts(): MessagePart[] {
    const display = this.#display();
    if (display !== this.#partsOf) {
      this.#partsOf = display;
      this.#parts = display.trim().length === 0 ? [] : splitMessageParts(display);
    }
    return this.#parts;
  }

  /** True when the messages on screen show the display now (or there is nothing to show). */
  #shown(): boolean {
    const parts = this.#currentParts();
    if (parts.length === 0) return true;
    return parts.length === this.#posted.length &&
      parts.every((part, i) =>
        part.content === this.#posted[i].content &&
        (!this.#posted[i].buttons || this.#buttonsFor(i, this.#posted[i], false))
      );
  }

  /**
   * Whether message `i` (`existing` on screen) should carry the buttons after a request that does
   * or does not bring it `newText`: only the last message of an answer still growing, taken on
   * with new text and kept until the answer ends or moves on to a new message.
   */
  #buttonsFor(i: number, existing: Posted | undefined, newText: boolean): boolean {
    if (this.#options.components === undefined || this.#finalDisplay !== undefined) return false;
    if (!existing || i !== this.#currentParts().length - 1) return false;
    return newText || Boolean(existing.buttons);
  }

  /**
   * Shows the display, message by message; false when Discord refused part of it (what got
   * through stays recorded). Each request reads its message's text as it leaves.
   */
  async #flush(final: boolean): Promise<boolean> {
    const { discord, channelId, replyTo, components } = this.#options;
    try {
      for (let i = 0; i < this.#currentParts().length; i++) {
        const part = this.#currentParts()[i];
        const existing = this.#posted[i];
        if (
          existing?.content === part.content &&
          Boolean(existing.buttons) === this.#buttonsFor(i, existing, false)
        ) {
          // Same message, but it may now stand for a longer slice (a separator after it).
          existing.source = part.source;
          continue;
        }
        // What was sent: this message's part of the display as the request left.
        let sent = part;
        const latestContent = () => (sent = this.#currentParts()[i] ?? sent).content;
        // Read after the text, as the request leaves: the answer may have ended meanwhile.
        const hadButtons = Boolean(existing?.buttons);
        let buttons = this.#buttonsFor(i, existing, part.content !== existing?.content);
        const latestComponents = components === undefined || !existing ? undefined : () => {
          buttons = this.#buttonsFor(i, existing, sent.content !== existing.content);
          return buttons === hadButtons ? undefined : buttons ? components : [];
        };
        const latest = latestComponents ? { latestContent, latestComponents } : { latestContent };
        if (!existing) {
          if (i === 0 && !this.#preparedFirst) {
            this.#preparedFirst = true;
            await this.#options.beforeFirstText?.();
          }
          const id = await discord.sendMessage(
            channelId,
            part.content,
            i === 0 ? { replyTo, ...latest } : latest,
          );
          this.#posted.push({ id, content: sent.content, source: sent.source, buttons });
          if (i === 0) this.#options.onFirstText?.();
        } else {
          this.#lastEdit = this.#clock.now();
          // A final edit goes first when requests queue; a growing one yields and shows later.
          await discord.editMessage(channelId, existing.id, part.content, {
            streaming: !final,
            ...latest,
          });
          Object.assign(existing, { content: sent.content, source: sent.source, buttons });
        }
      }
      // A final text shorter than what streamed (rare: the model's last word replaced it) must
      // not leave stale continuation messages behind. Last first, so a refusal leaves a prefix.
      const parts = this.#currentParts();
      if (final && discord.deleteMessage && parts.length > 0) {
        while (this.#posted.length > parts.length) {
          await discord.deleteMessage(channelId, this.#posted.at(-1)!.id);
          this.#posted.pop();
        }
      }
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  /** Tells the user their answer could not be shown in full; a refusal is only reported. */
  async #tellNotShown(): Promise<void> {
    const { discord, channelId, replyTo } = this.#options;
    try {
      await discord.sendMessage(channelId, strings.replyNotShown, { replyTo });
    } catch (error) {
      this.#options.onError?.(error);
    }
  }
}

/** The final text as shown: its code block closed, and the notice under it (alone if no text). */
function finalDisplay(text: string, notice: string | undefined): string {
  if (notice === undefined) return closeOpenFence(text);
  if (text.trim().length === 0) return notice;
  return `${closeOpenFence(text.trimEnd())}\n\n${notice}`;
}

/** Closes a code block that is still being written, so it shows as code. */
function closeOpenFence(text: string): string {
  if (!isInsideCodeBlock(text).open) return text;
  return `${text}${text.endsWith("\n") ? "" : "\n"}\`\`\``;
}
