/**
 * `/settings`: a server's admins choose its persona, the channels where the bot answers every
 * message, and whether summaries work there.
 *
 * Registered for members with Manage Server only, and checked again here against the
 * interaction's `member.permissions`: a server can widen who sees a command in its own settings,
 * and a stale or forged registration must not let anyone else change what the bot says.
 *
 * @module
 */
import type { CommandDefinition } from "../discord/mod.ts";
import type { Logger } from "../log.ts";
import { PERSONA_MAX_CHARS } from "../text/prompts.ts";
import type { ChannelMode, SettingsPort } from "../store/mod.ts";
import { isSnowflake } from "../snowflake.ts";
import { text } from "../text/strings_ko.ts";
import type { ChannelCommand, CommandReply } from "./command_reply.ts";
import type { SearchMode } from "./status.ts";

/** Discord's MANAGE_GUILD permission bit ("Manage Server"). */
export const MANAGE_GUILD = 1n << 5n;
/** Discord's ADMINISTRATOR bit, which grants every permission. */
const ADMINISTRATOR = 1n << 3n;

/** Channel types that carry messages: text, voice chat, announcement, threads, stage chat. */
const MESSAGE_CHANNEL_TYPES = [0, 2, 5, 10, 11, 12, 13];

const labels = text.commands.settings;

/** The `/settings` definition, registered at start-up. */
export const SETTINGS_COMMAND: CommandDefinition = {
  name: "settings",
  description: "This server's persona, channel modes and summaries (Manage Server)",
  name_localizations: { ko: labels.name },
  description_localizations: { ko: labels.description },
  default_member_permissions: String(MANAGE_GUILD),
  // Servers only, for the bot installed to a server.
  contexts: [0],
  integration_types: [0],
  options: [
    {
      type: 1,
      name: "persona",
      description: "This server's own persona; leave text out for the default",
      description_localizations: { ko: labels.persona },
      options: [{
        type: 3,
        name: "text",
        description: `The persona, at most ${PERSONA_MAX_CHARS} characters`,
        description_localizations: { ko: labels.personaText },
        max_length: PERSONA_MAX_CHARS,
      }],
    },
    {
      type: 1,
      name: "channel",
      description: "Answer only when mentioned, or every message, in a channel",
      description_localizations: { ko: labels.channel },
      options: [
        {
          type: 7,
          name: "channel",
          description: "The channel",
          description_localizations: { ko: labels.channelChannel },
          required: true,
          channel_types: MESSAGE_CHANNEL_TYPES,
        },
        {
          type: 3,
          name: "mode",
          description: "mention: only when mentioned; always: every message",
          description_localizations: { ko: labels.channelMode },
          required: true,
          choices: [
            { name: "mention", value: "mention", name_localizations: { ko: labels.modeMention } },
            { name: "always", value: "always", name_localizations: { ko: labels.modeAlways } },
          ],
        },
      ],
    },
    {
      type: 1,
      name: "summaries",
      description: "Turn !요약 and /summarize on or off in this server",
      description_localizations: { ko: labels.summaries },
      options: [{
        type: 5,
        name: "enabled",
        description: "True to turn them on",
        description_localizations: { ko: labels.summariesEnabled },
        required: true,
      }],
    },
    {
      type: 1,
      name: "search",
      description: "Let answers here search Google and show their sources (billed per search)",
      description_localizations: { ko: labels.search },
      options: [{
        type: 5,
        name: "enabled",
        description: "True to turn it on",
        description_localizations: { ko: labels.searchEnabled },
        required: true,
      }],
    },
  ],
};

/**
 * True when a `member.permissions` bit set (a string of digits) holds Manage Server or
 * Administrator.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(canManageServer("32"), true);
 * strictEqual(canManageServer("2048"), false);
 * strictEqual(canManageServer(undefined), false);
 * ```
 */
export function canManageServer(permissions: string | undefined): boolean {
  if (permissions === undefined || !/^\d{1,20}$/.test(permissions)) return false;
  const bits = BigInt(permissions);
  return (bits & (MANAGE_GUILD | ADMINISTRATOR)) !== 0n;
}

/** What `/settings` crosses. */
export interface SettingsCommandDeps {
  /** Where the settings live. */
  settings: SettingsPort;
  /** Where a setting the store refused is logged. */
  logger: Logger;
  /**
   * The operator's `GEMINI_SEARCH`, which overrides a server's search setting: an admin is told
   * when it does. @default "servers"
   */
  searchMode?: SearchMode;
}

/**
 * Answers `/settings`: refuses anyone without Manage Server and any use outside a server,
 * otherwise changes one setting and says what it is now. A setting the store could not write is
 * not changed, and the admin is told so.
 */
export async function settingsCommand(
  command: ChannelCommand,
  reply: CommandReply,
  deps: SettingsCommandDeps,
): Promise<void> {
  const guildId = command.guildId;
  if (guildId === undefined) return await reply.send(text.settings.guildOnly);
  if (!canManageServer(command.memberPermissions)) return await reply.send(text.settings.refused);
  const change = settingsChange(command);
  if (change === undefined) return await reply.send(text.settings.invalid);
  if (typeof change === "string") return await reply.send(change);
  try {
    // Written off this thread: a database held by another connection delays only this answer.
    await change.apply(deps.settings, guildId);
  } catch (error) {
    deps.logger.error("Setting not saved: {error}", { guildId, error: String(error) });
    return await reply.send(text.settings.notSaved);
  }
  // Visible to the channel: people there should know why the bot started (or stopped) talking.
  // A search setting the operator's switch overrides is saved, and said to wait for it.
  const searchMode = command.subcommand === "search" ? deps.searchMode ?? "servers" : "servers";
  const overridden = searchMode === "off"
    ? text.settings.searchOperatorOff
    : searchMode === "always"
    ? text.settings.searchOperatorAlways
    : undefined;
  const done = overridden === undefined ? change.done : `${change.done}\n${overridden}`;
  await reply.send(done, { ephemeral: false });
}

/** One change to make and what to say once it is made. */
interface Change {
  apply(settings: SettingsPort, guildId: string): Promise<void>;
  done: string;
}

/** The change a `/settings` interaction asks for, a refusal to show, or undefined for nonsense. */
function settingsChange(command: ChannelCommand): Change | string | undefined {
  const options = command.options;
  switch (command.subcommand) {
    case "persona": {
      const persona = typeof options.text === "string" ? options.text.trim() : "";
      if (persona.length > PERSONA_MAX_CHARS) {
        return text.settings.personaTooLong(PERSONA_MAX_CHARS, persona.length);
      }
      if (persona.length === 0) {
        return {
          apply: (s, g) => s.setPersona(g, undefined),
          done: text.settings.personaReset,
        };
      }
      return {
        apply: (s, g) => s.setPersona(g, persona),
        done: text.settings.personaSet(persona.length),
      };
    }
    case "channel": {
      const { channel, mode } = options;
      if (!isSnowflake(channel) || (mode !== "mention" && mode !== "always")) return undefined;
      // Only a channel of this server, as Discord resolved it: an id is no proof of that.
      if (command.channelGuilds?.[channel] !== command.guildId) {
        return text.settings.otherServerChannel;
      }
      const chosen: ChannelMode = mode;
      return {
        apply: (s, g) => s.setChannelMode(g, channel, chosen),
        done: chosen === "always"
          ? text.settings.channelAlways(channel)
          : text.settings.channelMention(channel),
      };
    }
    case "summaries": {
      const enabled = options.enabled;
      if (typeof enabled !== "boolean") return undefined;
      return {
        apply: (s, g) => s.setSummaries(g, enabled),
        done: enabled ? text.settings.summariesOn : text.settings.summariesOff,
      };
    }
    case "search": {
      const enabled = options.enabled;
      if (typeof enabled !== "boolean") return undefined;
      return {
        apply: (s, g) => s.setSearch(g, enabled),
        done: enabled ? text.settings.searchOn : text.settings.searchOff,
      };
    }
    default:
      return undefined;
  }
}
