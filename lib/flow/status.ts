/**
 * The `/status` reply: queue, sessions, latency and every key's quota left, read when asked.
 *
 * @module
 */
import { SEARCH_FREE_QUERIES_PER_MONTH, SEARCH_USD_PER_1000_QUERIES } from "../broker/mod.ts";
import type { GuildSettings, SettingsPort } from "../store/mod.ts";
import { text } from "../text/strings_ko.ts";
import type { KeyStatus } from "../quota/mod.ts";

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
  /** The operator's Google Search switch (`GEMINI_SEARCH`). @default "servers" */
  searchMode?: SearchMode;
  /** Today's grounded answers and the Google searches they ran. @default none */
  searchToday?: { groundedCalls: number; searchQueries: number };
}

/** The operator's Google Search switch, `GEMINI_SEARCH`. */
export type SearchMode = "off" | "servers" | "always";

/**
 * Whether chat answers in a server with `settings` (undefined: a DM) may search Google.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(searchAllowed("servers", { search: true }), true);
 * strictEqual(searchAllowed("servers", undefined), false);
 * strictEqual(searchAllowed("off", { search: true }), false);
 * strictEqual(searchAllowed("always", undefined), true);
 * ```
 */
export function searchAllowed(
  mode: SearchMode,
  settings: Pick<GuildSettings, "search"> | undefined,
): boolean {
  if (mode === "always") return true;
  return mode === "servers" && settings?.search === true;
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
        search: searchState(sources.searchMode ?? "servers", sources.server),
      },
    }),
    search: {
      today: sources.searchToday?.groundedCalls ?? 0,
      queriesToday: sources.searchToday?.searchQueries ?? 0,
      usdPer1000: SEARCH_USD_PER_1000_QUERIES,
      freePerMonth: SEARCH_FREE_QUERIES_PER_MONTH,
    },
  });
}

/** How `/status` names a server's search state, the operator's switch over its own. */
function searchState(
  mode: SearchMode,
  server: GuildSettings,
): "on" | "off" | "operator_off" | "always" {
  if (mode === "always") return "always";
  if (mode === "off") return server.search ? "operator_off" : "off";
  return server.search ? "on" : "off";
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
  /** The operator's Google Search switch. @default "servers" */
  searchMode?: SearchMode;
  /** Today's grounded answers and their searches. @default none */
  searchToday?(): { groundedCalls: number; searchQueries: number };
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
    ...(live.searchMode ? { searchMode: live.searchMode } : {}),
    ...(live.searchToday ? { searchToday: live.searchToday() } : {}),
  });
}
