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
  GatewayIntents,
  type GatewayManager,
  type MessageComponents,
  type RestManager,
  ShardState,
} from "discordeno";
import {
  type ChatMessage,
  chatMessageFrom,
  type ComponentPress,
  componentPressFrom,
  type Payload,
  type ReferencedMessage,
  referencedMessageFrom,
  type SlashCommand,
  slashCommandFrom,
} from "./events.ts";
import { DISCORD_REQUEST_BURST, DISCORD_REQUESTS_PER_SECOND } from "./budget.ts";
import type { ActionRow, DiscordConnection, DiscordHandlers, LatestContent } from "./port.ts";
import { discordenoLogger } from "./discordeno_logger.ts";
import { type CamelMessage, pacedRest, toHistoryMessage } from "./rest.ts";
import { log } from "../log.ts";
import { RequestPacer, type RequestPriority, type SharedBudget } from "./request_pacer.ts";
import type { ShardRange } from "./shard_range.ts";
import { ManagedRoles } from "./managed_roles.ts";
import { superviseReconnects } from "./shard_reconnect.ts";
import { botIdFromToken, requireSnowflake, requireUrlSafeToken } from "../snowflake.ts";

/** Re-exported: the payloads the adapter hands to its handlers. */
export type { ChatMessage, ComponentPress, ReferencedMessage, SlashCommand };
/** Re-exported: the port this adapter implements, so importers need no other module. */
export type * from "./port.ts";

/** No @everyone, no roles, no users: the model's text can never ping anyone. */
const NO_MENTIONS = { parse: [] as never[], repliedUser: false };

const INTENTS = GatewayIntents.Guilds | GatewayIntents.GuildMessages |
  GatewayIntents.DirectMessages | GatewayIntents.MessageContent;

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
  /** Bodies of an answer's posts and edits: how urgent each is, and where its newest text is. */
  const answerBodies = new WeakMap<object, { priority: RequestPriority } & LatestContent>();
  const answerBody = (body: unknown) =>
    typeof body === "object" && body !== null ? answerBodies.get(body) : undefined;
  const botId = botIdFromToken(options.token);
  const paced = pacedRest({
    token: options.token,
    apiUrl: options.apiUrl,
    applicationId: botId,
    pacer,
    priorityOf: (body) => answerBody(body)?.priority ?? "post",
    leaving(body) {
      const answer = answerBody(body);
      if (!answer) return;
      const message = body as { content: string; components?: MessageComponents };
      if (answer.latestContent) message.content = answer.latestContent();
      if (answer.latestComponents) {
        const rows = answer.latestComponents();
        if (rows === undefined) delete message.components;
        else message.components = discordShaped(rows);
      }
    },
  });
  const rest = paced.rest;

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
            const press = componentPressFrom(d);
            if (press && !press.ok) return refused(payload.t, press.reason);
            if (press) return void handlers.onComponent?.(press.value);
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
      return paced.rateLimited();
    },
    async sendMessage(channelId, content, sendOptions) {
      requireSnowflake(channelId, "channel id");
      const body = {
        content,
        allowedMentions: NO_MENTIONS,
        ...(sendOptions?.components ? { components: discordShaped(sendOptions.components) } : {}),
        ...(sendOptions?.replyTo
          ? { messageReference: { messageId: sendOptions.replyTo, failIfNotExists: false } }
          : {}),
      };
      const { latestContent, latestComponents } = sendOptions ?? {};
      if (latestContent || latestComponents) {
        answerBodies.set(body, { priority: "post", latestContent, latestComponents });
      }
      // Only the id is read: the raw answer, without discordeno's camelCase pass over it.
      const message = await rest.makeRequest("POST", rest.routes.channels.messages(channelId), {
        body,
      }) as { id: string };
      return String(message.id);
    },
    async editMessage(channelId, messageId, content, editOptions) {
      requireSnowflake(channelId, "channel id");
      requireSnowflake(messageId, "message id");
      const body = {
        content,
        allowedMentions: NO_MENTIONS,
        ...(editOptions?.components ? { components: discordShaped(editOptions.components) } : {}),
      };
      answerBodies.set(body, {
        priority: editOptions?.streaming ? "edit" : "final",
        latestContent: editOptions?.latestContent,
        latestComponents: editOptions?.latestComponents,
      });
      // Nothing of the answer is read, so discordeno's camelCase pass over it is skipped.
      await rest.makeRequest("PATCH", rest.routes.channels.message(channelId, messageId), { body });
    },
    async deleteMessage(channelId, messageId) {
      requireSnowflake(channelId, "channel id");
      requireSnowflake(messageId, "message id");
      await rest.deleteMessage(channelId, messageId);
    },
    async triggerTyping(channelId) {
      requireSnowflake(channelId, "channel id");
      // Typing is cosmetic: it goes only when the budget is idle, never queued beside answers.
      if (!pacer.tryTakeIdle()) return;
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
    async acknowledgeComponent(interactionId, token) {
      await rest.sendInteractionResponse(
        requireSnowflake(interactionId, "interaction id"),
        requireUrlSafeToken(token),
        { type: 6 },
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

/**
 * Rows already in Discord's shape (`custom_id`), typed as discordeno's camelCase ones: its
 * camel-to-snake pass leaves keys with an underscore as they are.
 */
function discordShaped(rows: ActionRow[]): MessageComponents {
  return rows as unknown as MessageComponents;
}

/** The counts of `GET /gateway/bot`'s session start limit, without its concurrency. */
function sessionStartLimit(limit: { total: number; remaining: number; resetAfter: number }) {
  return { total: limit.total, remaining: limit.remaining, resetAfter: limit.resetAfter };
}
