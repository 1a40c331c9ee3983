/**
 * The Discord adapter: discordeno's REST and gateway managers behind a small interface.
 *
 * It speaks Discord's own payloads (snake_case, string ids), so the rest of the bot never sees a
 * bigint or discordeno's desired-properties machinery. Every message it sends carries
 * `allowed_mentions: { parse: [] }`, so nothing the model writes can ping anyone.
 *
 * @module
 */
import {
  createGatewayManager,
  createRestManager,
  GatewayIntents,
  type GatewayManager,
  type RestManager,
  ShardState,
} from "discordeno";
import { botIdFromToken } from "./config.ts";
import {
  type ChatMessage,
  chatMessageFrom,
  type Payload,
  type ReferencedMessage,
  referencedMessageFrom,
  type SlashCommand,
  slashCommandFrom,
} from "./discord_events.ts";
import { DISCORD_REQUEST_BURST, DISCORD_REQUESTS_PER_SECOND } from "./discord_budget.ts";
import { isLogged, log, type LogLevel } from "./log.ts";
import { RequestPacer, type SharedBudget } from "./request_pacer.ts";
import type { ShardRange } from "./shard_range.ts";
import { ManagedRoles } from "./managed_roles.ts";
import { superviseReconnects } from "./shard_reconnect.ts";
import { requireSnowflake, requireUrlSafeToken } from "./snowflake.ts";

/** Re-exported: the adapter hands these to its handlers. */
export type { ChatMessage, ReferencedMessage, SlashCommand };

/**
 * Routes discordeno's own logger into LogTape, so its lines share the bot's format. discordeno
 * logs several debug lines per request (one with the whole payload): each is formatted only when
 * its level is written.
 */
function discordenoLogger(name: string) {
  const logger = log.getChild(["discordeno", name]);
  // Lines reach the console through the redactor in log.ts, which also cuts interaction tokens.
  const line = (args: unknown[]) =>
    args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ");
  const at = (level: LogLevel, write: (text: string) => void) => (...args: unknown[]) => {
    if (isLogged(level)) write(line(args));
  };
  const debug = at("debug", (text) => logger.debug(text));
  const info = at("info", (text) => logger.info(text));
  const warn = at("warning", (text) => logger.warn(text));
  const error = at("error", (text) => logger.error(text));
  return {
    log: (level: number, ...args: unknown[]) => {
      if (level <= 0) debug(...args);
      else if (level === 1) info(...args);
      else if (level === 2) warn(...args);
      else error(...args);
    },
    setDepth: () => {},
    setLevel: () => {},
    debug,
    info,
    warn,
    error,
    fatal: at("fatal", (text) => logger.fatal(text)),
  };
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
  /** Where it can be used: 0 servers, 1 the bot's DMs, 2 other private channels. */
  contexts?: number[];
}

/** One option of a command, or a subcommand (type 1) holding options of its own. */
export interface CommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  min_value?: number;
  max_value?: number;
  /** For a string option (type 3): the longest value Discord lets a user type. */
  max_length?: number;
  /** For a string option: the only values a user can pick. */
  choices?: { name: string; value: string; name_localizations?: Record<string, string> }[];
  /** For a channel option (type 7): the channel types a user can pick. */
  channel_types?: number[];
  /** For a subcommand (type 1): its own options. */
  options?: CommandOption[];
  name_localizations?: Record<string, string>;
  description_localizations?: Record<string, string>;
}

/** What the bot does on Discord. Small, so tests and other transports can stand in. */
export interface DiscordPort {
  /** The bot's own user id, read from its token. */
  readonly botId: string;
  /** Posts a message; with `replyTo`, as a reply that does not ping the author. Returns its id. */
  sendMessage(channelId: string, content: string, options?: { replyTo?: string }): Promise<string>;
  /**
   * Replaces a message's text; mentions in it still ping no one. A `streaming` edit (an answer
   * still growing) yields Discord's request budget to first posts and final edits.
   */
  editMessage(
    channelId: string,
    messageId: string,
    content: string,
    options?: { streaming?: boolean },
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

/** No @everyone, no roles, no users: the model's text can never ping anyone. */
const NO_MENTIONS = { parse: [] as never[], repliedUser: false };

const INTENTS = GatewayIntents.Guilds | GatewayIntents.GuildMessages |
  GatewayIntents.DirectMessages | GatewayIntents.MessageContent;

/** How long an idle REST queue is kept for its route's next request (discordeno's default). */
const QUEUE_IDLE_MS = 60_000;

/** Ephemeral message flag. */
const EPHEMERAL = 1 << 6;

/**
 * Connects to Discord: REST at `apiUrl`, and the gateway URL that REST's `GET /gateway/bot` names.
 *
 * @example
 * ```ts ignore
 * const discord = await connectDiscord({ token, apiUrl: "https://discord.com/api" }, handlers);
 * ```
 */
export async function connectDiscord(
  options: {
    token: string;
    apiUrl: string;
    requestsPerSecond?: number;
    /** The shards this process runs; unset, all that `GET /gateway/bot` recommends. */
    shards?: ShardRange;
    /** The global budget shared with the bot's other processes (see `RedisRequestBudget`). */
    sharedBudget?: SharedBudget;
  },
  handlers: DiscordHandlers,
): Promise<DiscordConnection> {
  // Every request but interaction responses spends the bot's global budget, across processes.
  const pacer = new RequestPacer({
    perSecond: options.requestsPerSecond ?? DISCORD_REQUESTS_PER_SECOND,
    burst: DISCORD_REQUEST_BURST,
    shared: options.sharedBudget,
  });
  /** Bodies of edits to an answer still growing: they yield to first posts and final edits. */
  const background = new WeakSet<object>();
  const botId = botIdFromToken(options.token);
  const rest = createRestManager({
    token: options.token,
    applicationId: botId,
    logger: discordenoLogger("rest"),
  });
  // Point REST at apiUrl after creation: discordeno decides "proxied" (no queue, no 429
  // handling) from the URL at creation, and Discord's rate limits must be honoured everywhere.
  rest.baseUrl = options.apiUrl;
  rest.isProxied = false;
  let rateLimited = 0;
  // Every REST response passes through the invalid-request bucket with its status: count 429s.
  const bucket = rest.invalidBucket;
  const completed = bucket.handleCompletedRequest.bind(bucket);
  bucket.handleCompletedRequest = (code, sharedScope) => {
    if (code === 429) rateLimited++;
    return completed(code, sharedScope);
  };
  // The pacer sits where a request leaves: discordeno's per-route queues hold requests back and
  // release them together, so a slot taken before a queue would not pace what Discord sees.
  // Interaction responses are outside the global budget.
  const send = rest.sendRequest.bind(rest);
  rest.sendRequest = async (request) => {
    const isInteraction = request.route.startsWith("/interactions/") ||
      request.route.startsWith("/webhooks/");
    if (!isInteraction) {
      const body = request.requestBodyOptions?.body;
      const isBackground = typeof body === "object" && body !== null && background.has(body);
      await pacer.take(isBackground ? "background" : "urgent");
    }
    return await send(request);
  };
  // An idle route's queue (one per channel and route) is deleted this long after its last
  // request. Shorter, a busy channel's queue was torn down and rebuilt between two answers, and
  // each deletion logs a list of every queue (quadratic in channels). close() clears the timers.
  rest.deleteQueueDelay = QUEUE_IDLE_MS;

  const connection = await rest.getGatewayBot();
  const eventLog = log.getChild("discord");
  /** An event whose ids could steer a URL: logged by field, never by value, and dropped. */
  const refused = (event: string, reason: string) =>
    eventLog.warn("Ignored a {event}: {reason}", { event, reason });
  const roles = new ManagedRoles(botId);
  let connected = false;
  let closing = false;
  // Each shard swaps its rate-limit bucket on HELLO after IDENTIFY armed the old one's 60 s timer;
  // keep every bucket so shutdown can clear them all.
  const buckets = new Set<{ timeoutId?: ReturnType<typeof setTimeout> }>();
  const gateway: GatewayManager = createGatewayManager({
    token: options.token,
    intents: INTENTS,
    logger: discordenoLogger("gateway"),
    url: connection.url,
    connection,
    // A shard range from SHARDS of SHARD_COUNT; unset, every recommended shard runs here.
    totalShards: options.shards?.total,
    firstShardId: options.shards?.first,
    lastShardId: options.shards?.last,
    // The delay spaces out IDENTIFYs of many shards; one shard has nothing to wait for.
    spawnShardDelay:
      (options.shards ? options.shards.last - options.shards.first + 1 : connection.shards) > 1
        ? 5300
        : 0,
    // Shard counts are the operator's to set (scale-out runs shard ranges in several processes);
    // automatic resharding inside one process would fight that plan.
    resharding: { enabled: false, shardsFullPercentage: 80, checkInterval: 28_800_000 },
    preferSnakeCase: true,
    events: {
      message(shard, payload) {
        const d = (payload.d ?? {}) as Payload;
        switch (payload.t) {
          case "READY":
            connected = true;
            // Declared below the manager; READY and RESUMED only come after spawnShards.
            reconnects.connected(shard.id);
            return handlers.onReady?.();
          case "RESUMED":
            connected = true;
            reconnects.connected(shard.id);
            return;
          case "MESSAGE_CREATE": {
            const parsed = chatMessageFrom(d, (g) => roles.roleIn(g));
            if (!parsed.ok) return refused(payload.t, parsed.reason);
            return void handlers.onMessage(parsed.value);
          }
          case "INTERACTION_CREATE": {
            const parsed = slashCommandFrom(d);
            if (parsed && !parsed.ok) return refused(payload.t, parsed.reason);
            if (parsed) void handlers.onCommand(parsed.value);
            return;
          }
          case "GUILD_CREATE":
            return roles.guildSeen(d);
          case "GUILD_ROLE_CREATE":
          case "GUILD_ROLE_UPDATE":
            return roles.roleSeen(d.guild_id, d.role);
          case "GUILD_ROLE_DELETE":
            return roles.roleDeleted(d.guild_id, d.role_id);
          case "GUILD_DELETE":
            // `unavailable` marks an outage; the bot is still in the guild.
            if (d.unavailable !== true) roles.guildGone(d.id);
            return;
        }
      },
      connected(shard) {
        buckets.add(shard.bucket);
      },
      disconnected(shard) {
        connected = false;
        // Offline, unlike Disconnected, means discordeno gave up on the shard: a fatal close code
        // such as 4014 (Message Content intent not enabled) or 4004 (token refused).
        if (shard.state === ShardState.Offline && !closing) {
          handlers.onGatewayRefused?.(
            "Discord closed the gateway for good: check DISCORD_TOKEN and that the Message " +
              "Content intent is enabled for the bot in the Discord developer portal",
          );
        }
      },
    },
  });
  const reconnects = superviseReconnects(gateway, {
    sessionStartLimit: sessionStartLimit(connection.sessionStartLimit),
    refreshLimit: async () => sessionStartLimit((await rest.getGatewayBot()).sessionStartLimit),
  });
  await gateway.spawnShards();

  return {
    botId,
    get connected() {
      return connected;
    },
    get rateLimited() {
      return rateLimited;
    },
    async sendMessage(channelId, content, sendOptions) {
      requireSnowflake(channelId, "channel id");
      const message = await rest.sendMessage(channelId, {
        content,
        allowedMentions: NO_MENTIONS,
        ...(sendOptions?.replyTo
          ? { messageReference: { messageId: sendOptions.replyTo, failIfNotExists: false } }
          : {}),
      });
      return String(message.id);
    },
    async editMessage(channelId, messageId, content, editOptions) {
      requireSnowflake(channelId, "channel id");
      requireSnowflake(messageId, "message id");
      const body = { content, allowedMentions: NO_MENTIONS };
      if (editOptions?.streaming) background.add(body);
      await rest.editMessage(channelId, messageId, body);
    },
    async deleteMessage(channelId, messageId) {
      requireSnowflake(channelId, "channel id");
      requireSnowflake(messageId, "message id");
      await rest.deleteMessage(channelId, messageId);
    },
    async triggerTyping(channelId) {
      requireSnowflake(channelId, "channel id");
      // Typing is cosmetic: while requests queue, the answer itself needs the budget more.
      if (pacer.waiting > 0) return;
      await pacer.take("background");
      // Not through discordeno: it keys typing and messages to one queue per channel, so a reply
      // queued behind an in-flight typing call waited up to a second; and its unqueued path
      // rethrows network errors where nothing can catch them. Typing is cosmetic: a plain call
      // whose failures reach the caller, which ignores them.
      const response = await fetch(`${options.apiUrl}/v10/channels/${channelId}/typing`, {
        method: "POST",
        headers: { ...rest.createBaseHeaders(), authorization: `Bot ${options.token}` },
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`typing answered ${response.status}`);
    },
    async getMessage(channelId, messageId) {
      requireSnowflake(channelId, "channel id");
      requireSnowflake(messageId, "message id");
      // Through the queue (rate limits honoured), but without discordeno's camelCase pass: the
      // same parser reads it as reads a MESSAGE_CREATE's referenced_message.
      const raw = await rest.makeRequest("GET", rest.routes.channels.message(channelId, messageId));
      return referencedMessageFrom(raw);
    },
    async getMessages(channelId, query) {
      requireSnowflake(channelId, "channel id");
      if (query.before !== undefined) requireSnowflake(query.before, "before message id");
      if (query.after !== undefined) requireSnowflake(query.after, "after message id");
      const messages = await rest.getMessages(channelId, query) as unknown as CamelMessage[];
      return messages.map(toHistoryMessage);
    },
    async deferInteraction(interactionId, token) {
      await rest.sendInteractionResponse(
        requireSnowflake(interactionId, "interaction id"),
        requireUrlSafeToken(token),
        { type: 5 },
      );
    },
    async replyToInteraction(interactionId, token, content, replyOptions) {
      const ephemeral = replyOptions?.ephemeral ?? true;
      await rest.sendInteractionResponse(
        requireSnowflake(interactionId, "interaction id"),
        requireUrlSafeToken(token),
        {
          type: 4,
          data: {
            content,
            allowedMentions: NO_MENTIONS,
            ...(ephemeral ? { flags: EPHEMERAL } : {}),
          },
        },
      );
    },
    async editInteractionReply(token, content) {
      await rest.editOriginalInteractionResponse(requireUrlSafeToken(token), {
        content,
        allowedMentions: NO_MENTIONS,
      });
    },
    async followUpInteraction(token, content) {
      await rest.sendFollowupMessage(requireUrlSafeToken(token), {
        content,
        allowedMentions: NO_MENTIONS,
      });
    },
    async registerCommands(commands, guildId) {
      if (guildId !== undefined) requireSnowflake(guildId, "guild id");
      // Definitions are already in Discord's shape; skip discordeno's camel-to-snake pass.
      const route = guildId
        ? rest.routes.interactions.commands.guilds.all(rest.applicationId, guildId)
        : rest.routes.interactions.commands.commands(rest.applicationId);
      await rest.put(route, { body: commands as unknown as Record<string, unknown> });
    },
    async close() {
      closing = true;
      reconnects.stop();
      pacer.close();
      await gateway.shutdown(1000, "SoyeBot shutting down");
      connected = false;
      // Left armed after shutdown, bucket timers would hold the process open for 60 s.
      for (const shard of gateway.shards.values()) buckets.add(shard.bucket);
      for (const bucket of buckets) clearTimeout(bucket.timeoutId);
      // Likewise each REST queue's idle deletion and rate-limit reset.
      for (const queue of rest.queues.values()) {
        clearTimeout(queue.deleteQueueTimeout);
        clearTimeout(queue.timeoutId);
      }
    },
  } satisfies DiscordConnection & { rest?: RestManager };
}

/** The counts of `GET /gateway/bot`'s session start limit, without its concurrency. */
function sessionStartLimit(limit: { total: number; remaining: number; resetAfter: number }) {
  return { total: limit.total, remaining: limit.remaining, resetAfter: limit.resetAfter };
}

/** `rest.getMessages` returns camelised payloads. */
interface CamelMessage {
  id: string;
  content?: string;
  timestamp: string;
  author: { id: string; username: string; globalName?: string | null; bot?: boolean };
}

function toHistoryMessage(message: CamelMessage): HistoryMessage {
  return {
    id: String(message.id),
    authorId: String(message.author.id),
    authorName: message.author.globalName || message.author.username,
    authorIsBot: message.author.bot === true,
    content: message.content ?? "",
    timestamp: Date.parse(message.timestamp),
  };
}
