/**
 * The `/status` reply: queue, sessions, latency and every key's quota left, read when asked.
 *
 * @module
 */
import type { GuildSettings, SettingsPort } from "../settings_store.ts";
import { text } from "../strings_ko.ts";
import type { KeyStatus } from "../token_pool.ts";

/** The figures `/status` shows, read from the running bot. */
export interface StatusSources {
  /** Requests waiting for the broker. */
  queueLength: number;
  /** Live sessions. */
  liveSessions: number;
  /** Median time to first text, or undefined with no samples yet. */
  medianMs: number | undefined;
  /** Every key's state now. */
  keys: KeyStatus[];
  /** Epoch ms now, for when a refused key is checked next. */
  now: number;
  /** The settings of the server `/status` was used in; absent in a DM. */
  server?: GuildSettings;
}

/**
 * The `/status` text.
 *
 * @example
 * ```ts
 * import { match } from "node:assert/strict";
 * match(statusText({ queueLength: 0, liveSessions: 1, medianMs: undefined, keys: [], now: 0 }), /아직 없음/);
 * ```
 */
export function statusText(sources: StatusSources): string {
  return text.status({
    queue: sources.queueLength,
    sessions: sources.liveSessions,
    medianMs: sources.medianMs,
    keys: sources.keys.map((k) => ({
      keyId: k.keyId,
      // The learned limit, which may be below the configured one after the server's 429s.
      minuteLeft: k.disabledUntil ? 0 : Math.max(0, k.effective.rpm - k.requestsLastMinute),
      dayLeft: k.disabledUntil ? 0 : Math.max(0, k.effective.rpd - k.requestsToday),
      checkInMs: k.disabledUntil === undefined ? undefined : k.disabledUntil - sources.now,
    })),
    ...(sources.server === undefined ? {} : {
      server: {
        personaChars: sources.server.persona?.length,
        alwaysChannelIds: [...sources.server.alwaysChannels].sort(),
        summaries: sources.server.summaries,
      },
    }),
  });
}

/** What `/status` reads from the running bot, each read when the command is used. */
export interface LiveStatus {
  /** Requests waiting for the broker. */
  queueLength(): number;
  /** Live sessions. */
  liveSessions(): number;
  /** Time to first text: how many samples, and their median. */
  firstTextLatency(): { count: number; p50: number };
  /** Every key's state at `now`. */
  keys(now: number): KeyStatus[];
  /** Each server's settings. */
  settings: Pick<SettingsPort, "forGuild">;
  /** Epoch ms now. @default Date.now */
  now?: () => number;
}

/** The `/status` text of the running bot, with the settings of `guildId` when given. */
export function liveStatusText(live: LiveStatus, guildId?: string): string {
  const now = (live.now ?? Date.now)();
  const latency = live.firstTextLatency();
  return statusText({
    queueLength: live.queueLength(),
    liveSessions: live.liveSessions(),
    medianMs: latency.count === 0 ? undefined : latency.p50,
    keys: live.keys(now),
    now,
    ...(guildId === undefined ? {} : { server: live.settings.forGuild(guildId) }),
  });
}
