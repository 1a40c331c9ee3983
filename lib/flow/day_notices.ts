/**
 * When to tell a channel that today's Gemini budget is spent: once per channel per Pacific day
 * (the day the quota resets on), and after that only to a message that mentions or replies to
 * the bot, so an always-answer channel does not get the same notice under every message.
 *
 * @module
 */
import { pacificDayCache } from "../pacific_day.ts";

/**
 * The channels told today.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const notices = new DayNotices();
 * const now = Date.UTC(2026, 11, 6, 20);
 * strictEqual(notices.shouldTell("1", { mentioned: false }, now), true);
 * strictEqual(notices.shouldTell("1", { mentioned: false }, now + 1000), false);
 * strictEqual(notices.shouldTell("1", { mentioned: true }, now + 2000), true);
 * ```
 */
export class DayNotices {
  #dayOf = pacificDayCache();
  #day = "";
  #told = new Set<string>();

  /**
   * True when the spent day should be said in `channelId` now: the first time today, or to a
   * message that mentioned the bot. Counts it as told.
   */
  shouldTell(channelId: string, message: { mentioned: boolean }, now: number): boolean {
    const day = this.#dayOf(now);
    if (day !== this.#day) {
      // A new day: yesterday's channels are forgotten, so the set holds one day's at most.
      this.#day = day;
      this.#told.clear();
    }
    const toldToday = this.#told.has(channelId);
    this.#told.add(channelId);
    return !toldToday || message.mentioned;
  }
}
