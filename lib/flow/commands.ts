/**
 * Slash commands: their definitions, registered at start-up, and their handling. Every
 * interaction gets a response, so Discord never shows "The application did not respond".
 *
 * @module
 */
import type { CommandDefinition } from "../discord/mod.ts";
import type { ChannelCommand, CommandReply } from "./command_reply.ts";
import type { SessionsPort } from "../sessions/mod.ts";
import type { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { splitMessage } from "../reply/mod.ts";
import { deliveryFailureText, text } from "../text/strings_ko.ts";
import { summaryRequestFromOptions } from "../summary/mod.ts";
import { SETTINGS_COMMAND, settingsCommand, type SettingsCommandDeps } from "./settings_command.ts";
import { type SummaryDeps, summaryText } from "./summary.ts";

/**
 * Where the everyday commands work: in servers (context 0) and in DMs with the bot (1), for the
 * bot installed to a server (integration type 0). `contexts` replaces `dm_permission`.
 */
const SERVERS_AND_DMS = { contexts: [0, 1], integration_types: [0] };

/** Slash commands, registered at start-up. */
export const COMMANDS: CommandDefinition[] = [
  {
    ...SERVERS_AND_DMS,
    name: "summarize",
    description: "Summarise recent messages in this channel",
    name_localizations: { ko: text.commands.summarize.name },
    description_localizations: { ko: text.commands.summarize.description },
    options: [
      {
        type: 4,
        name: "minutes",
        description: "How many minutes back (default 30)",
        description_localizations: { ko: text.commands.summarize.minutes },
        min_value: 1,
        max_value: 1440,
      },
      {
        type: 3,
        name: "after",
        description: "Summarise from after this message id",
        description_localizations: { ko: text.commands.summarize.after },
      },
      {
        type: 3,
        name: "before",
        description: "Summarise up to this message id (needs minutes)",
        description_localizations: { ko: text.commands.summarize.before },
      },
    ],
  },
  {
    ...SERVERS_AND_DMS,
    name: "reset",
    description: "Forget this channel's conversation",
    description_localizations: { ko: text.commands.reset },
  },
  {
    ...SERVERS_AND_DMS,
    name: "help",
    description: "How to use SoyeBot",
    description_localizations: { ko: text.commands.help },
  },
  {
    ...SERVERS_AND_DMS,
    name: "status",
    description: "Queue, quota and sessions",
    description_localizations: { ko: text.commands.status },
  },
  SETTINGS_COMMAND,
];

/** What the commands cross. */
export interface CommandDeps extends SummaryDeps, SettingsCommandDeps {
  /** `/reset` forgets the channel's session. */
  sessions: Pick<SessionsPort, "reset">;
  /** The per-user limit: a summary reads up to 300 messages and makes a large call. */
  limiter: SlidingWindowLimiter;
  /** The `/status` text, built when asked, with the settings of `guildId` when given. */
  statusText(guildId?: string): string;
}

/** The names of the commands this bot registers: any other is a stale registration. */
export const COMMAND_NAMES: ReadonlySet<string> = new Set(COMMANDS.map((c) => c.name));

/**
 * Handles one slash command. Runs inside `answerCommand` (command_reply.ts), which answers for it when it
 * throws or leaves nothing shown.
 *
 * @example
 * ```ts ignore
 * await answerCommand(command, discord, (c, reply) => handleCommand(c, reply, deps), options);
 * ```
 */
export async function handleCommand(
  command: ChannelCommand,
  reply: CommandReply,
  deps: CommandDeps,
): Promise<void> {
  switch (command.name) {
    case "help":
      return await reply.send(text.help);
    case "status":
      return await reply.send(deps.statusText(command.guildId));
    case "settings":
      return await settingsCommand(command, reply, deps);
    case "reset": {
      const result = await deps.sessions.reset(command.channelId, `reset-${command.id}`);
      const notice = result.ok ? text.resetDone : deliveryFailureText(result.error);
      return await reply.send(notice, { ephemeral: false });
    }
    case "summarize": {
      // A summary reads up to 300 messages and makes a large call: it counts like a chat.
      const limit = deps.limiter.hit(command.userId, Date.now());
      if (!limit.allowed) {
        return await reply.send(text.rateLimited(Math.ceil(limit.retryAfterMs / 1000)));
      }
      if (!deps.settings.forGuild(command.guildId).summaries) {
        return await reply.send(text.summariesOff);
      }
      return await summarizeCommand(command, reply, deps);
    }
  }
}

async function summarizeCommand(
  command: ChannelCommand,
  reply: CommandReply,
  deps: CommandDeps,
): Promise<void> {
  await reply.defer();
  const { minutes, after, before } = command.options;
  const parsed = summaryRequestFromOptions({
    minutes: typeof minutes === "number" ? minutes : undefined,
    after: after === undefined ? undefined : String(after),
    before: before === undefined ? undefined : String(before),
  });
  const summary = parsed.ok
    ? await summaryText(command.channelId, parsed.request, deps)
    : parsed.error;
  for (const chunk of splitMessage(summary)) await reply.send(chunk);
}
