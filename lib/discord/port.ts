/**
 * The Discord port: what the bot does on Discord ({@link DiscordPort}), the gateway events it
 * handles ({@link DiscordHandlers}) and the payload shapes they speak. `connectDiscord` in
 * `lib/discord/adapter.ts` implements it over discordeno; tests hand in fakes.
 *
 * @module
 */
import type { ChatMessage, ComponentPress, ReferencedMessage, SlashCommand } from "./events.ts";

/** Re-exported: the port hands these to its handlers. */
export type { ChatMessage, ComponentPress, ReferencedMessage, SlashCommand };

/** A button, in Discord's shape (type 2); the bot's buttons all carry a `custom_id`. */
export interface Button {
  /** Always 2 (BUTTON). */
  type: 2;
  /** 1 primary, 2 secondary, 3 success, 4 danger. */
  style: 1 | 2 | 3 | 4;
  /** The text on the button, at most 80 characters. */
  label: string;
  /** Comes back in the press's interaction; at most 100 characters. */
  custom_id: string;
}

/** A row of components on a message (type 1 ACTION_ROW), in Discord's shape. */
export interface ActionRow {
  /** Always 1 (ACTION_ROW). */
  type: 1;
  /** Up to five buttons. */
  components: Button[];
}

/** A message fetched from a channel's history. */
export interface HistoryMessage {
  /** The message's snowflake id. */
  id: string;
  /** The author's user id. */
  authorId: string;
  /** The name people see: global display name, else username. */
  authorName: string;
  /** True for bot accounts, this bot included. */
  authorIsBot: boolean;
  /** The text; empty for a message with only attachments or embeds. */
  content: string;
  /** Epoch ms. */
  timestamp: number;
  /** Epoch ms of its last edit; absent when never edited. */
  editedAt?: number;
}

/** A slash command definition, as Discord's bulk-overwrite endpoint takes it. */
export interface CommandDefinition {
  /** What the user types after `/`: lowercase, at most 32 characters. */
  name: string;
  /** Shown under the name in Discord's command picker; at most 100 characters. */
  description: string;
  /** `name` in other languages, by Discord locale (such as `ko`). */
  name_localizations?: Record<string, string>;
  /** `description` in other languages, by Discord locale. */
  description_localizations?: Record<string, string>;
  /** The command's options; `type` is Discord's option type number (4 is an integer). */
  options?: CommandOption[];
  /**
   * Permissions a member needs to see and use the command, a bit set as a string of digits
   * (`"32"` is Manage Server); server admins can change it in the server's settings.
   */
  default_member_permissions?: string;
  /**
   * Where it can be used: 0 servers, 1 the bot's DMs, 2 other private channels. Replaces the
   * deprecated `dm_permission`, which the bot never sends.
   */
  contexts?: number[];
  /** How the app must be installed for it: 0 to a server (guild install), 1 to a user. */
  integration_types?: number[];
}

/** One option of a command, or a subcommand (type 1) holding options of its own. */
export interface CommandOption {
  /** Discord's option type: 1 a subcommand, 3 a string, 4 an integer, 5 a boolean, 7 a channel. */
  type: number;
  /** The option's name, lowercase, at most 32 characters. */
  name: string;
  /** Shown under the name in Discord's picker; at most 100 characters. */
  description: string;
  /** Whether the user must give it. @default false */
  required?: boolean;
  /** For an integer option: the smallest value Discord accepts. */
  min_value?: number;
  /** For an integer option: the largest value Discord accepts. */
  max_value?: number;
  /** For a string option (type 3): the longest value Discord lets a user type. */
  max_length?: number;
  /** For a string option: the only values a user can pick. */
  choices?: { name: string; value: string; name_localizations?: Record<string, string> }[];
  /** For a channel option (type 7): the channel types a user can pick. */
  channel_types?: number[];
  /** For a subcommand (type 1): its own options. */
  options?: CommandOption[];
  /** `name` in other languages, by Discord locale. */
  name_localizations?: Record<string, string>;
  /** `description` in other languages, by Discord locale. */
  description_localizations?: Record<string, string>;
}

/** The text of a post or an edit, read as the request leaves rather than when it is made. */
export interface LatestContent {
  /**
   * Read just before the request goes out, after any wait for Discord's request budget, and sent
   * instead of `content`; read again if the request is retried. A request that waited thus
   * carries all the text ready by then. A port that never waits may ignore it and send `content`.
   */
  latestContent?(): string;
  /**
   * Read just after `latestContent`: the rows of buttons the message carries as the request
   * leaves (`[]` takes them off). Undefined sends none with a post and leaves an edited message's
   * as they are. It replaces `components`.
   */
  latestComponents?(): ActionRow[] | undefined;
}

/** What the bot does on Discord. Small, so tests and other transports can stand in. */
export interface DiscordPort {
  /** The bot's own user id, read from its token. */
  readonly botId: string;
  /**
   * Posts a message; with `replyTo`, as a reply that does not ping the author; with
   * `components`, carrying those rows of buttons. Returns its id.
   */
  sendMessage(
    channelId: string,
    content: string,
    options?: { replyTo?: string; components?: ActionRow[] } & LatestContent,
  ): Promise<string>;
  /**
   * Replaces a message's text; mentions in it still ping no one. A `streaming` edit (an answer
   * still growing) yields Discord's request budget to first posts and final edits. `components`
   * replaces the message's buttons (`[]` takes them off); left out, they stay as they are.
   */
  editMessage(
    channelId: string,
    messageId: string,
    content: string,
    options?: { streaming?: boolean; components?: ActionRow[] } & LatestContent,
  ): Promise<void>;
  /** Deletes one of the bot's messages. */
  deleteMessage(channelId: string, messageId: string): Promise<void>;
  /** Shows "typing…" in a channel for about 10 seconds, or until the bot posts. */
  triggerTyping(channelId: string): Promise<void>;
  /**
   * One message, read as a reply's context: its author, text and files; undefined when Discord
   * sent something the bot cannot read as a message.
   */
  getMessage(channelId: string, messageId: string): Promise<ReferencedMessage | undefined>;
  /** Newest first, as Discord returns them. */
  getMessages(
    channelId: string,
    query: { before?: string; after?: string; limit: number },
  ): Promise<HistoryMessage[]>;
  /** Acknowledges an interaction now and answers later with `editInteractionReply`. */
  deferInteraction(interactionId: string, token: string): Promise<void>;
  /** Sends an immediate reply to an interaction; by default visible only to its user. */
  replyToInteraction(
    interactionId: string,
    token: string,
    content: string,
    options?: { ephemeral?: boolean },
  ): Promise<void>;
  /**
   * Acknowledges a button press without a reply or a change to its message (type 6, deferred
   * update): the message is changed, if at all, by a later edit.
   */
  acknowledgeComponent(interactionId: string, token: string): Promise<void>;
  /** Replaces the interaction's first response, such as a deferred one. */
  editInteractionReply(token: string, content: string): Promise<void>;
  /** Posts another message after the interaction's first response, for long answers. */
  followUpInteraction(token: string, content: string): Promise<void>;
  /** Replaces the bot's slash commands: in `guildId` only when given (instant), else globally. */
  registerCommands(commands: CommandDefinition[], guildId?: string): Promise<void>;
}

/** Gateway events the bot handles. */
export interface DiscordHandlers {
  /** Every message the bot can see, its own included; the handler decides what to answer. */
  onMessage(message: ChatMessage): void | Promise<void>;
  /** A slash command was used. */
  onCommand(command: SlashCommand): void | Promise<void>;
  /** A button on one of the bot's messages was pressed. */
  onComponent?(press: ComponentPress): void | Promise<void>;
  /** The gateway session is established (READY), not on a resume. */
  onReady?(): void;
  /**
   * Discord closed the gateway for good (bad token, a privileged intent not enabled, bad
   * sharding): the shard will not reconnect, so the process should say why and stop.
   */
  onGatewayRefused?(reason: string): void;
}

/** A connected Discord adapter. */
export interface DiscordConnection extends DiscordPort {
  /** True while the gateway session is up. */
  readonly connected: boolean;
  /** Discord REST answers with status 429 seen so far. */
  readonly rateLimited: number;
  /** Closes the gateway and clears its timers, so the process can exit. */
  close(): Promise<void>;
}
