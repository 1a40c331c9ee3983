/**
 * Typing: Discord's "typing…" indicator while an answer is on its way, shown only when the first
 * text is slow. Each indicator is a REST request, and Discord allows about 50 a second per bot
 * across all its processes: a fast answer needs none.
 *
 * @module
 */
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { DiscordPort } from "../discord/mod.ts";

/** Discord's typing indicator lasts about 10 s; renew it a little sooner. */
export const TYPING_RENEW_MS = 8_000;

/** How long an answer may take to show its first text before typing is shown. */
export const TYPING_DELAY_MS = 300;

/** Options for {@linkcode startTyping}. */
export interface TypingOptions {
  /** Milliseconds before the first indicator. @default TYPING_DELAY_MS */
  delayMs?: number;
  /** Time for the delay and the renewals; tests pass a fake. @default systemClock */
  clock?: Clock;
  /** Told when an indicator fails; typing is cosmetic, so nothing else happens. */
  onError?(error: unknown): void;
}

/** A running indicator; `stop` ends it and is safe to call more than once. */
export interface Typing {
  /** Stops the indicator, or keeps it from ever being sent. */
  stop(): void;
}

/**
 * Shows typing in `channelId` after `delayMs`, renewed every {@link TYPING_RENEW_MS}, until
 * stopped.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * let sent = 0;
 * const typing = startTyping({ triggerTyping: () => (sent++, Promise.resolve()) }, "42");
 * typing.stop(); // the answer came first: no request was spent
 * strictEqual(sent, 0);
 * ```
 */
export function startTyping(
  discord: Pick<DiscordPort, "triggerTyping">,
  channelId: string,
  options: TypingOptions = {},
): Typing {
  const clock = options.clock ?? systemClock;
  let timer: TimerId | undefined;
  let stopped = false;
  const fire = () => {
    if (stopped) return;
    discord.triggerTyping(channelId).catch((error) => options.onError?.(error));
    timer = clock.setTimeout(fire, TYPING_RENEW_MS);
  };
  timer = clock.setTimeout(fire, options.delayMs ?? TYPING_DELAY_MS);
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
