/**
 * A fake Discord on loopback: the REST API v10 routes a chat bot uses, and a gateway WebSocket,
 * so a real discordeno bot can connect to it in tests. Request bodies are checked against
 * Discord's OpenAPI spec, and faults (429s, dropped gateway connections) can be injected.
 *
 * The gateway session lives in `fake_gateway.ts`.
 *
 * @example
 * ```ts ignore
 * const fake = await FakeDiscord.start();
 * // point a bot at fake.url (REST) with token fake.token; it finds the gateway via /gateway/bot
 * await fake.waitForReady();
 * await fake.sendUserMessage({ channelId: "1", guildId: "2", content: "hi", mentionsBot: true });
 * const reply = await fake.waitForRequest((r) => r.method === "POST" && r.path === "/channels/1/messages");
 * await fake.close();
 * ```
 * @module
 */

import { FakeGateway, type SessionStartLimitOptions } from "./fake_gateway.ts";
import { discordFormErrors, DiscordSpec, type SpecIssue } from "./openapi_validator.ts";

/** A request the fake received, as Discord would see it. */
export interface RecordedRequest {
  method: string;
  /** Without the `/api` and `/v10` prefixes, e.g. `/channels/1/messages`. */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body (or a multipart request's `payload_json`); undefined when empty. */
  body: unknown;
  headers: Headers;
  status: number;
  /** `Date.now()` when it arrived. */
  at: number;
}

/** A request that Discord would have refused, with the reasons. */
export interface InvalidRequest extends RecordedRequest {
  errors: string[];
}

/** A Discord user object (the subset bots read). */
export interface DiscordUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
  public_flags?: number;
}

/** A Discord message object as REST returns it and MESSAGE_CREATE carries it. */
export interface DiscordMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: DiscordUser;
  member?: Record<string, unknown>;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: DiscordUser[];
  mention_roles: string[];
  attachments: unknown[];
  embeds: unknown[];
  components?: unknown[];
  pinned: boolean;
  type: number;
  flags: number;
  webhook_id?: string;
  application_id?: string;
  nonce?: string | number;
  message_reference?: { type: number; message_id: string; channel_id: string; guild_id?: string };
  referenced_message?: DiscordMessage | null;
  /** A forward's copy of the message it forwards (no author), as Discord sends it since 2024. */
  message_snapshots?: { message: Record<string, unknown> }[];
  interaction_metadata?: Record<string, unknown>;
}

/** A stored message with its current (edited) content and whether it was deleted. */
export interface StoredMessage extends DiscordMessage {
  deleted: boolean;
}

/** Options for {@linkcode FakeDiscord.start}. */
export interface FakeDiscordOptions {
  /** The bot's user id, which is also the application id. @default {"1100000000000000001"} */
  botId?: string;
  /** HELLO's heartbeat interval. Must exceed 1016 ms, below which discordeno spins. @default {41250} */
  heartbeatIntervalMs?: number;
  /** Check request bodies against Discord's OpenAPI spec. @default {true} */
  validate?: boolean;
  /**
   * Dispatch MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages too, as Discord does, so a
   * bot that answers itself shows up in tests. @default {true}
   */
  echoBotMessages?: boolean;
  /**
   * How long a dropped gateway session stays resumable; after that RESUME gets op 9 (d=false).
   * @default {180000}
   */
  resumeWindowMs?: number;
  /** The session start limit `GET /gateway/bot` starts from; each IDENTIFY takes one. */
  sessionStartLimit?: SessionStartLimitOptions;
  /** The shard count `GET /gateway/bot` recommends. @default {1} */
  shards?: number;
}

/** Options for {@linkcode FakeDiscord.sendUserMessage}. */
export interface UserMessageOptions {
  channelId: string;
  content: string;
  /** Omit for a DM. */
  guildId?: string;
  authorId?: string;
  username?: string;
  bot?: boolean;
  webhookId?: string;
  /** Prefix `<@botId>` to the content and list the bot in `mentions`. */
  mentionsBot?: boolean;
  /** Roles Discord lists in `mention_roles` (a role mention that pinged). @default {[]} */
  mentionRoles?: string[];
  mentionEveryone?: boolean;
  /** Reply to a stored message; its author is pinged, as Discord does by default. */
  replyToMessageId?: string;
  /** Message type; 19 (REPLY) when replying, else 0 (DEFAULT). */
  type?: number;
  /** Files on the message; their bytes are served from the fake's CDN route. @default {[]} */
  attachments?: FakeAttachmentOptions[];
  /**
   * Leave `referenced_message` out of a reply's MESSAGE_CREATE (Discord does when it did not
   * fetch it), so the bot must `GET` the message itself. @default {false}
   */
  omitReferencedMessage?: boolean;
  /**
   * Forward a stored message: the new message's `content` is empty, `message_reference.type` is 1
   * and `message_snapshots[0].message` holds the forwarded content and attachments.
   */
  forwardOf?: string;
}

/** A file for {@linkcode UserMessageOptions.attachments}. */
export interface FakeAttachmentOptions {
  filename: string;
  /** Left out of the attachment object when absent, as Discord does for unknown types. */
  contentType?: string;
  bytes: Uint8Array;
  /** The size the attachment object claims. @default {bytes.length} */
  size?: number;
  /** The CDN never answers for this file (until the fake closes). @default {false} */
  stall?: boolean;
  /** The attachment's URL, when it must point elsewhere than this fake's CDN (another host). */
  url?: string;
  /**
   * The URL in the MESSAGE_CREATE has expired by the time it is fetched (the CDN answers 404);
   * reading the message again gives a fresh one. @default {false}
   */
  expired?: boolean;
  /** Like `expired`, but reading the message again gives no fresher URL. @default {false} */
  expiredForGood?: boolean;
}

/** Options for {@linkcode FakeDiscord.sendInteraction}. */
export interface InteractionOptions {
  channelId: string;
  /** Omit for a DM. */
  guildId?: string;
  /** The slash command's name. */
  name: string;
  /** The values given; a subcommand's, nested in it as Discord sends them, with `subcommand`. */
  options?: { name: string; type: number; value: unknown }[];
  /** The subcommand used (`/name subcommand ...`): sent as `options[0]` of type 1. */
  subcommand?: string;
  userId?: string;
  /**
   * The member's permissions in the channel (`member.permissions`), a bit set as a string of
   * digits. @default {the text permissions everyone has, without Manage Server}
   */
  memberPermissions?: string;
  /**
   * Leave `channel_id` and `channel` out of the payload, as Discord's schema allows; the fake
   * still files the response under `channelId`. @default {false}
   */
  omitChannelId?: boolean;
  /**
   * The server each channel option belongs to, as Discord resolves it into
   * `data.resolved.channels`. @default {the interaction's own server}
   */
  channelGuilds?: Record<string, string>;
}

/** Options for {@linkcode FakeDiscord.pressButton}. */
export interface ButtonPressOptions {
  /** The message the button is on: one the bot posted. */
  messageId: string;
  /** The button's `custom_id`. @default {the first button's on the message} */
  customId?: string;
  /** Who pressed it. @default {the default user} */
  userId?: string;
  /**
   * The member's permissions in the channel (`member.permissions`), in a guild.
   * @default {the text permissions everyone has, without Manage Messages}
   */
  memberPermissions?: string;
}

/** Options for {@linkcode FakeDiscord.joinGuild}. */
export interface JoinGuildOptions {
  guildId: string;
  /** The bot's managed role (`tags.bot_id`); omit for a guild where Discord made none. */
  botRoleId?: string;
  /** Other roles in the guild, by id. @default {[]} */
  otherRoleIds?: string[];
}

/** What the bot did with an interaction. */
export interface InteractionState {
  id: string;
  token: string;
  channelId: string;
  guildId?: string;
  /** The user who ran the command or pressed the button. */
  user: DiscordUser;
  /** 2 for a slash command, 3 for a button press. */
  type?: number;
  /** The callback types posted, in order (5 = deferred). */
  callbackTypes: number[];
  original?: StoredMessage;
  followups: StoredMessage[];
}

/** Options for {@linkcode FakeDiscord.rateLimitNext}. */
export interface RateLimitOptions {
  retryAfterSeconds: number;
  /** A global limit (`x-ratelimit-scope: global`) instead of a per-route one. @default {false} */
  global?: boolean;
  /** How many matching requests get a 429. @default {1} */
  count?: number;
}

const DEFAULT_BOT_ID = "1100000000000000001";
const DEFAULT_USER_ID = "1200000000000000001";
const DISCORD_EPOCH = 1420070400000n;
const MIN_HEARTBEAT_MS = 1017;
const INTENT_GUILDS = 1 << 0;
const INTENT_GUILD_MESSAGES = 1 << 9;
const INTENT_DIRECT_MESSAGES = 1 << 12;
const INTENT_MESSAGE_CONTENT = 1 << 15;
const PERMISSIONS_ALL_TEXT = "2248473465835073";
const MESSAGE_TYPE_REPLY = 19;
const MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20;
const MESSAGE_FLAG_LOADING = 128;

/** Errors exactly as Discord words them. */
const Errors = {
  unauthorized: { status: 401, body: { message: "401: Unauthorized", code: 0 } },
  notFound: { status: 404, body: { message: "404: Not Found", code: 0 } },
  unknownMessage: { status: 404, body: { message: "Unknown Message", code: 10008 } },
  unknownWebhook: { status: 404, body: { message: "Unknown Webhook", code: 10015 } },
  unknownInteraction: { status: 404, body: { message: "Unknown interaction", code: 10062 } },
  alreadyAcknowledged: {
    status: 400,
    body: { message: "Interaction has already been acknowledged.", code: 40060 },
  },
  notAuthor: {
    status: 403,
    body: { message: "Cannot edit a message authored by another user", code: 50005 },
  },
  invalidJson: {
    status: 400,
    body: { message: "The request body contains invalid JSON.", code: 50109 },
  },
} as const;

/** The 5xx statuses {@linkcode FakeDiscord.serverErrorsFor} can answer with. */
export type ServerErrorStatus = 500 | 502 | 503 | 504;

const SERVER_ERRORS: Record<ServerErrorStatus, string> = {
  500: "500: Internal Server Error",
  502: "502: Bad Gateway",
  503: "503: Service Unavailable",
  504: "504: Gateway Timeout",
};

type Json = Record<string, unknown>;
type Reply = { status: number; body?: unknown; errors?: string[] };
type Handler = (p: Record<string, string>, req: RecordedRequest) => Reply;

/** A fake Discord REST API v10 and gateway on 127.0.0.1 for tests. */
export class FakeDiscord {
  /** Base URL for REST (`${url}/v10/...`); give it to discordeno as `rest.baseUrl`. */
  readonly url: string;
  /** The bot's user id. */
  readonly botId: string;
  /** The application id (the same as the bot id, as for every bot made today). */
  readonly applicationId: string;
  /** A token discordeno accepts: it reads the bot id from the part before the first dot. */
  readonly token: string;
  /** Every REST request, oldest first. */
  readonly requests: RecordedRequest[] = [];
  /** The requests Discord would have refused (bad body, unknown route, bad auth). */
  readonly invalidRequests: InvalidRequest[] = [];

  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #spec: DiscordSpec | undefined;
  readonly #gateway: FakeGateway;
  readonly #echoBotMessages: boolean;
  readonly #shards: number;
  readonly #ids = new SnowflakeClock();
  readonly #routes: { method: string; pattern: URLPattern; handler: Handler }[];
  readonly #channels = new Map<string, StoredMessage[]>();
  readonly #messages = new Map<string, StoredMessage>();
  readonly #commands = new Map<string, Json[]>(); // by guild id, "" for global
  readonly #interactions = new Map<string, InteractionState>(); // by token
  readonly #rateLimits: { method: string; path: RegExp; opts: Required<RateLimitOptions> }[] = [];
  readonly #outages: { method: string; path: RegExp; status: ServerErrorStatus; until: number }[] =
    [];
  readonly #breaks: { method: string; path: RegExp; count: number }[] = [];
  readonly #failures: { method: string; path: RegExp; status: number; count: number }[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #requestListeners = new Set<(request: RecordedRequest) => void>();
  /** Attachment bytes by CDN path (`/attachments/{channel}/{id}/{name}`). */
  readonly #cdn = new Map<
    string,
    { bytes: Uint8Array; contentType?: string; stall: boolean; signature: string }
  >();
  #signatures = 0;
  /** Ends stalled CDN answers, so shutdown does not wait for them. */
  readonly #closing = new AbortController();
  /** Every CDN fetch, oldest first: path and the status answered (0 while stalled). */
  readonly cdnRequests: { path: string; status: number }[] = [];
  #closed = false;

  private constructor(opts: FakeDiscordOptions, spec: DiscordSpec | undefined) {
    this.botId = opts.botId ?? DEFAULT_BOT_ID;
    this.applicationId = this.botId;
    this.token = `${btoa(this.botId)}.fake.token`;
    this.#spec = spec;
    this.#echoBotMessages = opts.echoBotMessages ?? true;
    this.#shards = opts.shards ?? 1;
    this.#routes = this.#buildRoutes();
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req),
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
    this.#gateway = new FakeGateway({
      token: this.token,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41250,
      ready: (sessionId, shard) => ({
        v: 10,
        user: { ...this.botUser, verified: true, mfa_enabled: false, flags: 0 },
        guilds: [],
        session_id: sessionId,
        session_type: "normal",
        resume_gateway_url: this.gatewayUrl,
        application: { id: this.applicationId, flags: 0 },
        shard,
        private_channels: [],
        relationships: [],
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: ["seoul"],
        user_settings: {},
      }),
      onChange: () => this.#notify(),
      resumeWindowMs: opts.resumeWindowMs,
      sessionStartLimit: opts.sessionStartLimit,
    });
  }

  /** Starts a fake on a free loopback port. */
  static async start(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const interval = opts.heartbeatIntervalMs ?? 41250;
    if (interval < MIN_HEARTBEAT_MS) {
      throw new RangeError(
        `Cannot start FakeDiscord as 'heartbeatIntervalMs' must be at least ${MIN_HEARTBEAT_MS} ` +
          `(discordeno spins at 1016 or less): current value is ${interval}`,
      );
    }
    const spec = opts.validate === false ? undefined : await DiscordSpec.load();
    return new FakeDiscord(opts, spec);
  }

  /** The bot's user object. */
  get botUser(): DiscordUser {
    return {
      id: this.botId,
      username: "SoyeBot",
      discriminator: "0",
      global_name: null,
      avatar: null,
      bot: true,
    };
  }

  /** Every payload clients sent on the gateway, oldest first. */
  get gatewayReceived(): { op: number; d: unknown }[] {
    return this.#gateway.received;
  }

  /** How many IDENTIFYs were answered with READY. */
  get identified(): number {
    return this.#gateway.identified;
  }

  /** How many RESUMEs were answered with RESUMED. */
  get resumed(): number {
    return this.#gateway.resumed;
  }

  /** RESUMEs refused with op 9 (d=false): the session had expired or was unknown. */
  get resumesRefused(): number {
    return this.#gateway.resumesRefused;
  }

  /** Every gateway connection attempt (WebSocket upgrade request), refused ones included. */
  get gatewayConnectionAttempts(): number {
    return this.#gateway.connectionAttempts;
  }

  /** IDENTIFYs sent with no session starts left; each closed the gateway with 4004. */
  get identifiesOverLimit(): number {
    return this.#gateway.identifiesOverLimit;
  }

  /** The gateway URL the fake hands out in `/gateway/bot` and READY. */
  get gatewayUrl(): string {
    return `${this.url.replace("http:", "ws:")}/gateway`;
  }

  // ---- Inspection ----------------------------------------------------------------------------

  /** The shard ids a client holds a gateway session of now, ascending. */
  get connectedShards(): number[] {
    return this.#gateway.connectedShards;
  }

  /**
   * The most REST requests in any sliding second since `since`, over every client (every
   * process of the bot), as Discord counts the global limit: interaction callbacks left out.
   */
  busiestSecond(since = 0): number {
    const times = this.requests
      .filter((r) => r.at >= since && r.path !== "/gateway/bot")
      .filter((r) => !r.path.startsWith("/interactions/"))
      .map((r) => r.at)
      .sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    return busiest;
  }

  /** The requests for `method` whose path matches `path`. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /** Resolves with the first request, past or future, that matches `pred`. */
  waitForRequest(
    pred: (r: RecordedRequest) => boolean,
    timeoutMs = 5000,
  ): Promise<RecordedRequest> {
    return this.#waitUntil(() => this.requests.find(pred), timeoutMs, () => {
      const recent = this.requests.slice(-10).map((r) => `  ${r.method} ${r.path} -> ${r.status}`);
      return `waitForRequest: no matching request within ${timeoutMs} ms. ` +
        `Last ${recent.length} of ${this.requests.length} requests:\n${recent.join("\n")}`;
    });
  }

  /**
   * Calls `listener` with each REST request once it is answered, until the returned function is
   * called. For loads of thousands of requests, where each `waitForRequest` scanning every past
   * request would make waiting quadratic.
   */
  onRequest(listener: (request: RecordedRequest) => void): () => void {
    this.#requestListeners.add(listener);
    return () => this.#requestListeners.delete(listener);
  }

  /** Resolves once a client has identified and been sent READY. */
  async waitForReady(timeoutMs = 5000): Promise<void> {
    await this.#waitUntil(
      () => this.identified > 0 || undefined,
      timeoutMs,
      () => `waitForReady: no client identified within ${timeoutMs} ms`,
    );
  }

  /** Resolves once `count` RESUMEs in all have been answered with RESUMED. */
  async waitForResumed(count = 1, timeoutMs = 5000): Promise<void> {
    await this.#waitUntil(
      () => this.resumed >= count || undefined,
      timeoutMs,
      () => `waitForResumed: ${this.resumed} of ${count} resumes within ${timeoutMs} ms`,
    );
  }

  /** The messages stored in a channel (bot's and users'), oldest first, deleted ones flagged. */
  messagesIn(channelId: string): StoredMessage[] {
    return (this.#channels.get(channelId) ?? []).map((m) => structuredClone(m));
  }

  /** What the bot did with an interaction sent by {@linkcode FakeDiscord.sendInteraction}. */
  interaction(id: string): InteractionState | undefined {
    for (const state of this.#interactions.values()) {
      if (state.id === id) return structuredClone(state);
    }
    return undefined;
  }

  /** The application commands registered globally, or for a guild. */
  commands(guildId?: string): Json[] {
    return structuredClone(this.#commands.get(guildId ?? "") ?? []);
  }

  // ---- Faults --------------------------------------------------------------------------------

  /** Answers the next `count` requests matching `method` and `path` with a 429. */
  rateLimitNext(method: string, path: RegExp, opts: RateLimitOptions): void {
    this.#rateLimits.push({
      method: method.toUpperCase(),
      path,
      opts: { global: false, count: 1, ...opts },
    });
  }

  /**
   * Answers every request matching `method` and `path` with a 5xx for the next `ms` milliseconds
   * (`Infinity`: until the fake closes), as Discord does during an incident. Requests are
   * recorded with that status.
   */
  serverErrorsFor(
    method: string,
    path: RegExp,
    opts: { ms: number; status?: ServerErrorStatus },
  ): void {
    this.#outages.push({
      method: method.toUpperCase(),
      path,
      status: opts.status ?? 500,
      until: Date.now() + opts.ms,
    });
  }

  /**
   * Breaks the connection of the next `count` matching requests mid-response, as a reset or a
   * dying proxy would: the status line arrives, then the body fails.
   */
  breakNext(method: string, path: RegExp, count = 1): void {
    this.#breaks.push({ method: method.toUpperCase(), path, count });
  }

  /** Answers the next `count` requests matching `method` and `path` with a 5xx error, as Discord
   * does in an incident. The request is not carried out. */
  failNext(method: string, path: RegExp, status = 500, count = 1): void {
    this.#failures.push({ method: method.toUpperCase(), path, status, count });
  }

  /** Closes the gateway socket with a resumable code, so the client must RESUME. */
  dropConnection(code = 4000): void {
    this.#gateway.dropConnection(code);
  }

  /**
   * Replaces the session start limit `GET /gateway/bot` reports and IDENTIFY spends, counting
   * `resetAfterMs` from now; fields left out keep their total (or, for `remaining`, become it).
   */
  setSessionStartLimit(limit: SessionStartLimitOptions): void {
    this.#gateway.setSessionStartLimit(limit);
  }

  /**
   * Takes the gateway (not REST) down for `ms`: closes the bot's socket with `closeCode` and
   * answers every connection attempt meanwhile with HTTP 503, counting them in
   * {@linkcode FakeDiscord.gatewayConnectionAttempts}. The session stays resumable, and what is
   * dispatched meanwhile (a user's message) is replayed on RESUME. Resolves when it is over.
   */
  gatewayOutage(ms: number, closeCode = 1001): Promise<void> {
    return this.#gateway.outage(ms, closeCode);
  }

  // ---- Gateway events ------------------------------------------------------------------------

  /**
   * Sends a dispatch (op 0) with the next sequence number to the current session. Returns the
   * sequence, or undefined when no client has identified (Discord drops events for an offline bot).
   * Events sent while the socket is down are replayed on RESUME.
   */
  dispatch(t: string, d: unknown): number | undefined {
    return this.#gateway.dispatch(t, d);
  }

  /** Stores a user's message, dispatches MESSAGE_CREATE for it and returns it. */
  // deno-lint-ignore require-await
  async sendUserMessage(opts: UserMessageOptions): Promise<DiscordMessage> {
    const referenced = opts.replyToMessageId
      ? this.#messages.get(opts.replyToMessageId)
      : undefined;
    if (opts.replyToMessageId && !referenced) {
      throw new Error(`sendUserMessage: no stored message ${opts.replyToMessageId} to reply to`);
    }
    const forwarded = opts.forwardOf ? this.#messages.get(opts.forwardOf) : undefined;
    if (opts.forwardOf && !forwarded) {
      throw new Error(`sendUserMessage: no stored message ${opts.forwardOf} to forward`);
    }
    const authorId = opts.authorId ?? opts.webhookId ?? DEFAULT_USER_ID;
    const author: DiscordUser = {
      id: authorId,
      username: opts.username ?? "tester",
      discriminator: "0",
      global_name: opts.username ?? "Tester",
      avatar: null,
      public_flags: 0,
      ...(opts.bot || opts.webhookId ? { bot: true } : {}),
    };
    let content = opts.content;
    const mentions: DiscordUser[] = [];
    if (opts.mentionsBot) {
      if (!content.includes(`<@${this.botId}>`)) content = `<@${this.botId}> ${content}`;
      mentions.push(this.botUser);
    }
    if (opts.mentionEveryone && !content.includes("@everyone")) content = `@everyone ${content}`;
    // A reply pings the replied-to author unless the sender turns it off; Discord lists them.
    if (referenced && !mentions.some((u) => u.id === referenced.author.id)) {
      mentions.push(referenced.author);
    }
    const message: DiscordMessage = {
      ...this.#baseMessage(opts.channelId, opts.guildId, author, content),
      mention_everyone: opts.mentionEveryone ?? false,
      mentions,
      mention_roles: opts.mentionRoles ?? [],
      type: opts.type ?? (referenced ? MESSAGE_TYPE_REPLY : 0),
    };
    if (opts.guildId && !opts.webhookId) message.member = member();
    if (opts.webhookId) message.webhook_id = opts.webhookId;
    message.attachments = (opts.attachments ?? []).map((file) =>
      this.#attachment(opts.channelId, file)
    );
    if (referenced) {
      message.message_reference = reference(referenced);
      if (!opts.omitReferencedMessage) message.referenced_message = quoted(referenced);
    }
    if (forwarded) {
      // A forward says nothing of its own; what it carries is the snapshot.
      message.content = "";
      message.type = 0;
      message.message_reference = { ...reference(forwarded), type: MESSAGE_REFERENCE_FORWARD };
      message.message_snapshots = [{ message: snapshotOf(forwarded) }];
    }
    this.#store(message);
    this.#dispatchMessage("MESSAGE_CREATE", message);
    const sent = structuredClone(message);
    // Expired between the event and the bot's fetch: the event's URLs die, the stored ones renew.
    const expiring = (opts.attachments ?? []).flatMap((file, i) =>
      file.expired ? [(message.attachments[i] as { id: string }).id] : []
    );
    if (expiring.length > 0) this.expireAttachmentUrls(message.id, { only: expiring });
    const dead = (opts.attachments ?? []).flatMap((file, i) =>
      file.expiredForGood ? [(message.attachments[i] as { id: string }).id] : []
    );
    if (dead.length > 0) this.expireAttachmentUrls(message.id, { only: dead, refresh: false });
    return sent;
  }

  /**
   * Expires the signed CDN URLs of a stored message's attachments (its own and a forward's
   * snapshot's): the old URLs answer 404, as Discord's CDN does for an expired link, and the
   * stored message (what `GET` reads) gets fresh ones, unless `refresh` is false.
   */
  expireAttachmentUrls(
    messageId: string,
    options: { refresh?: boolean; only?: string[] } = {},
  ): void {
    const message = this.#messages.get(messageId);
    if (!message) throw new Error(`expireAttachmentUrls: no stored message ${messageId}`);
    const lists = [
      message.attachments,
      ...(message.message_snapshots ?? []).map((s) => (s.message.attachments ?? []) as unknown[]),
    ];
    for (const list of lists) {
      for (const item of list) {
        const attachment = item as { id: string; url: string; proxy_url: string };
        if (options.only && !options.only.includes(attachment.id)) continue;
        const url = new URL(attachment.url);
        const file = this.#cdn.get(url.pathname);
        if (!file) continue;
        file.signature = `expired-${++this.#signatures}`;
        if (options.refresh === false) continue;
        file.signature = `fake-${++this.#signatures}`;
        url.searchParams.set("hm", file.signature);
        attachment.url = attachment.proxy_url = url.toString();
      }
    }
  }

  /** Dispatches INTERACTION_CREATE for a slash command and returns its id and token. */
  // deno-lint-ignore require-await
  async sendInteraction(opts: InteractionOptions): Promise<{ id: string; token: string }> {
    const id = this.#ids.next();
    const token = `fake-interaction-${id}-${crypto.randomUUID()}`;
    const user = tester(opts.userId);
    const command = [...this.commands(opts.guildId), ...this.commands()]
      .find((c) => c.name === opts.name);
    const interaction: Json = {
      id,
      application_id: this.applicationId,
      type: 2,
      data: {
        id: command?.id ?? this.#ids.next(),
        name: opts.name,
        type: 1,
        ...(opts.subcommand
          ? {
            options: [{
              name: opts.subcommand,
              type: 1,
              ...(opts.options ? { options: opts.options } : {}),
            }],
          }
          : opts.options
          ? { options: opts.options }
          : {}),
        ...(opts.guildId ? { guild_id: opts.guildId } : {}),
        ...resolvedChannels(opts),
      },
      ...(opts.omitChannelId ? {} : {
        channel_id: opts.channelId,
        channel: { id: opts.channelId, type: opts.guildId ? 0 : 1 },
      }),
      token,
      version: 1,
      app_permissions: PERMISSIONS_ALL_TEXT,
      locale: "ko",
      entitlements: [],
      authorizing_integration_owners: {},
      context: opts.guildId ? 0 : 1,
    };
    this.#dispatchInteraction(interaction, {
      id,
      token,
      channelId: opts.channelId,
      guildId: opts.guildId,
      user,
      memberPermissions: opts.memberPermissions,
    });
    return { id, token };
  }

  /**
   * Dispatches INTERACTION_CREATE of type 3 (MESSAGE_COMPONENT) for a press of a button on one
   * of the bot's messages, as Discord sends it: the message it is on, the button's `custom_id`,
   * and the presser (a member with permissions in a guild, a user in a DM). Returns its id and
   * token; {@linkcode FakeDiscord.interaction} tells how the bot answered.
   */
  pressButton(opts: ButtonPressOptions): { id: string; token: string } {
    const message = this.#messages.get(opts.messageId);
    if (!message || message.deleted) throw new Error(`no message ${opts.messageId} to press on`);
    const rows = (message.components ?? []) as { components?: { custom_id?: string }[] }[];
    const customId = opts.customId ?? rows[0]?.components?.[0]?.custom_id;
    if (customId === undefined) throw new Error(`message ${opts.messageId} has no button`);
    const id = this.#ids.next();
    const token = `fake-interaction-${id}-${crypto.randomUUID()}`;
    const user = tester(opts.userId);
    const guildId = message.guild_id;
    const interaction: Json = {
      id,
      application_id: this.applicationId,
      type: 3,
      data: { custom_id: customId, component_type: 2 },
      channel_id: message.channel_id,
      channel: { id: message.channel_id, type: guildId ? 0 : 1 },
      message: stripDeleted(message),
      token,
      version: 1,
      app_permissions: PERMISSIONS_ALL_TEXT,
      locale: "ko",
      entitlements: [],
      authorizing_integration_owners: guildId ? { "0": guildId } : { "1": user.id },
      context: guildId ? 0 : 1,
    };
    this.#dispatchInteraction(interaction, {
      id,
      token,
      channelId: message.channel_id,
      guildId,
      user,
      memberPermissions: opts.memberPermissions,
      type: 3,
    });
    return { id, token };
  }

  /**
   * Sends `interaction` as INTERACTION_CREATE from its presser: a member with permissions in a
   * guild, a user in a DM; and keeps it by token, so {@linkcode FakeDiscord.interaction} can tell
   * how the bot answered.
   */
  #dispatchInteraction(
    interaction: Json,
    from: {
      id: string;
      token: string;
      channelId: string;
      guildId?: string;
      user: DiscordUser;
      memberPermissions?: string;
      type?: number;
    },
  ): void {
    const { id, token, channelId, guildId, user, memberPermissions, type } = from;
    if (guildId) {
      interaction.guild_id = guildId;
      interaction.guild_locale = "ko";
      interaction.member = {
        ...member(),
        user,
        permissions: memberPermissions ?? PERMISSIONS_ALL_TEXT,
      };
    } else {
      interaction.user = user;
    }
    this.#interactions.set(token, {
      id,
      token,
      channelId,
      ...(guildId ? { guildId } : {}),
      user,
      ...(type === undefined ? {} : { type }),
      callbackTypes: [],
      followups: [],
    });
    this.dispatch("INTERACTION_CREATE", interaction);
  }

  /**
   * Dispatches GUILD_CREATE for a guild the bot is in (to a session with the Guilds intent), with
   * the @everyone role, the bot's managed role if given, and `otherRoleIds`.
   */
  joinGuild(opts: JoinGuildOptions): number | undefined {
    if (!(this.#gateway.intents & INTENT_GUILDS)) return undefined;
    const role = (id: string, name: string, tags?: Json): Json => ({
      id,
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: id === opts.guildId ? 0 : 1,
      permissions: id === opts.guildId ? "0" : PERMISSIONS_ALL_TEXT,
      managed: tags !== undefined,
      mentionable: false,
      flags: 0,
      ...(tags ? { tags } : {}),
    });
    const roles = [
      role(opts.guildId, "@everyone"),
      ...(opts.otherRoleIds ?? []).map((id) => role(id, `role-${id}`)),
      ...(opts.botRoleId ? [role(opts.botRoleId, "SoyeBot", { bot_id: this.botId })] : []),
    ];
    return this.dispatch("GUILD_CREATE", {
      id: opts.guildId,
      name: "Test guild",
      icon: null,
      owner_id: DEFAULT_USER_ID,
      roles,
      emojis: [],
      features: [],
      member_count: 2,
      large: false,
      unavailable: false,
      joined_at: new Date().toISOString(),
      channels: [],
      threads: [],
      members: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    });
  }

  /** Closes the gateway sockets and the server, and fails pending waits. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    for (const waiter of [...this.#waiters]) waiter.fail(new Error("FakeDiscord was closed"));
    await this.#gateway.close();
    await this.#server.shutdown();
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/gateway") return this.#gateway.upgrade(req);
    if (url.pathname.startsWith("/attachments/")) return await this.#serveAttachment(req, url);
    const path = url.pathname.replace(/^(\/api)?\/v10(?=\/)/, "");
    const rec: RecordedRequest = {
      method: req.method,
      path,
      query: url.searchParams,
      body: undefined,
      headers: req.headers,
      status: 0,
      at: Date.now(),
    };
    let reply: Reply;
    try {
      rec.body = await readBody(req);
      const failure = this.#failures.find((f) => f.method === rec.method && f.path.test(path));
      if (failure && --failure.count <= 0) {
        this.#failures.splice(this.#failures.indexOf(failure), 1);
      }
      reply = failure
        ? { status: failure.status, body: { message: "500: Internal Server Error", code: 0 } }
        : path === url.pathname
        ? notFound("no /v10 prefix")
        : this.#route(rec);
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      reply = { ...Errors.invalidJson, errors: [`invalid JSON: ${e.message}`] };
    }
    const headers = reply.status === 429 ? this.#rateLimitHeaders(rec) : normalHeaders(rec.path);
    rec.status = reply.status;
    this.requests.push(rec);
    if (reply.errors) this.invalidRequests.push({ ...rec, errors: reply.errors });
    this.#notify();
    for (const listener of this.#requestListeners) listener(rec);
    const broken = this.#breaks.find((b) => b.method === rec.method && b.path.test(rec.path));
    if (broken) {
      if (--broken.count <= 0) this.#breaks.splice(this.#breaks.indexOf(broken), 1);
      const failing = new ReadableStream({ start: (c) => c.error(new Error("connection reset")) });
      return new Response(failing, { status: 200, headers });
    }
    if (reply.body === undefined) return new Response(null, { status: reply.status, headers });
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers });
  }

  #route(rec: RecordedRequest): Reply {
    if (!this.#authorized(rec)) {
      return { ...Errors.unauthorized, errors: ["missing or wrong Authorization header"] };
    }
    const limit = this.#takeRateLimit(rec);
    if (limit) return limit;
    const outage = this.#outages.find((o) =>
      o.method === rec.method && o.path.test(rec.path) && rec.at < o.until
    );
    if (outage) {
      return { status: outage.status, body: { message: SERVER_ERRORS[outage.status], code: 0 } };
    }
    const inSpec = this.#spec ? this.#spec.match(rec.method, rec.path) : true;
    if (!inSpec) return notFound(`no route ${rec.method} ${rec.path} in Discord's API`);
    for (const route of this.#routes) {
      if (route.method !== rec.method) continue;
      const match = route.pattern.exec({ pathname: rec.path });
      if (!match) continue;
      const issues = this.#spec?.issues(rec.method, rec.path, rec.body) ?? [];
      if (issues.length) return invalidFormBody(issues);
      return route.handler(match.pathname.groups as Record<string, string>, rec);
    }
    return notFound(`FakeDiscord does not implement ${rec.method} ${rec.path}`);
  }

  #authorized(rec: RecordedRequest): boolean {
    const auth = rec.headers.get("authorization");
    // Interaction callbacks and webhook-token routes are authorized by the token in the path.
    const tokenRoute = /^\/(interactions|webhooks)\//.test(rec.path);
    if (auth === null) return tokenRoute;
    return auth === `Bot ${this.token}`;
  }

  #takeRateLimit(rec: RecordedRequest): Reply | undefined {
    const rule = this.#rateLimits.find((r) => r.method === rec.method && r.path.test(rec.path));
    if (!rule) return undefined;
    if (--rule.opts.count <= 0) this.#rateLimits.splice(this.#rateLimits.indexOf(rule), 1);
    rateLimitOf.set(rec, rule.opts);
    return {
      status: 429,
      body: {
        message: "You are being rate limited.",
        retry_after: rule.opts.retryAfterSeconds,
        global: rule.opts.global,
      },
    };
  }

  #rateLimitHeaders(rec: RecordedRequest): Headers {
    const opts = rateLimitOf.get(rec)!;
    const after = opts.retryAfterSeconds;
    const headers = new Headers({
      // Discord rounds this header up to whole seconds; the fake keeps it exact so that tests
      // can use sub-second waits (discordeno sets a timer of this length for global limits).
      "retry-after": String(after),
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": (Date.now() / 1000 + after).toFixed(3),
      "x-ratelimit-reset-after": after.toFixed(3),
      "x-ratelimit-bucket": bucketHash(rec.path),
      "x-ratelimit-scope": opts.global ? "global" : "user",
    });
    if (opts.global) headers.set("x-ratelimit-global", "true");
    return headers;
  }

  #buildRoutes(): { method: string; pattern: URLPattern; handler: Handler }[] {
    const routes: [string, string, Handler][] = [
      ["GET", "/gateway/bot", () => ok(this.#gatewayBot())],
      ["GET", "/users/@me", () => ok(this.botUser)],
      ["POST", "/channels/:channel/typing", () => ({ status: 204 })],
      ["GET", "/channels/:channel/messages", (p, r) => this.#listMessages(p.channel, r.query)],
      ["POST", "/channels/:channel/messages", (p, r) => this.#createMessage(p.channel, r.body)],
      ["GET", "/channels/:channel/messages/:id", (p) => this.#getMessage(p.channel, p.id)],
      ["PATCH", "/channels/:channel/messages/:id", (p, r) => this.#editMessage(p, r.body)],
      ["DELETE", "/channels/:channel/messages/:id", (p) => this.#deleteMessage(p.channel, p.id)],
      ["GET", "/applications/:app/commands", () => ok(this.commands())],
      ["PUT", "/applications/:app/commands", (_, r) => this.#putCommands("", r.body)],
      ["POST", "/applications/:app/commands", (_, r) => this.#postCommand("", r.body)],
      ["GET", "/applications/:app/guilds/:guild/commands", (p) => ok(this.commands(p.guild))],
      [
        "PUT",
        "/applications/:app/guilds/:guild/commands",
        (p, r) => this.#putCommands(p.guild, r.body),
      ],
      [
        "POST",
        "/applications/:app/guilds/:guild/commands",
        (p, r) => this.#postCommand(p.guild, r.body),
      ],
      ["POST", "/interactions/:id/:token/callback", (p, r) => this.#callback(p, r.body)],
      ["GET", "/webhooks/:app/:token/messages/@original", (p) => this.#getOriginal(p.token)],
      [
        "PATCH",
        "/webhooks/:app/:token/messages/@original",
        (p, r) => this.#editWebhookMessage(p.token, "@original", r.body),
      ],
      ["DELETE", "/webhooks/:app/:token/messages/@original", (p) => this.#deleteOriginal(p.token)],
      [
        "PATCH",
        "/webhooks/:app/:token/messages/:id",
        (p, r) => this.#editWebhookMessage(p.token, p.id, r.body),
      ],
      ["POST", "/webhooks/:app/:token", (p, r) => this.#followup(p.token, r)],
    ];
    return routes.map(([method, pathname, handler]) => ({
      method,
      pattern: new URLPattern({ pathname }),
      handler,
    }));
  }

  // ---- REST handlers -------------------------------------------------------------------------

  #gatewayBot(): Json {
    return {
      url: this.gatewayUrl,
      shards: this.#shards,
      session_start_limit: this.#gateway.sessionStartLimit(),
    };
  }

  #listMessages(channelId: string, query: URLSearchParams): Reply {
    const limit = Number(query.get("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return invalidFormBody([{ path: "/limit", message: "must be between 1 and 100" }]);
    }
    const newestFirst = (this.#channels.get(channelId) ?? []).filter((m) => !m.deleted).reverse();
    const before = query.get("before"), after = query.get("after"), around = query.get("around");
    let page: StoredMessage[];
    if (around) {
      const older = newestFirst.filter((m) => BigInt(m.id) <= BigInt(around));
      const newer = newestFirst.filter((m) => BigInt(m.id) > BigInt(around));
      const half = Math.floor(limit / 2);
      page = [...newer.slice(Math.max(0, newer.length - half)), ...older].slice(0, limit);
    } else if (after) {
      // Discord returns the `limit` messages right after `after`, still newest first.
      const newer = newestFirst.filter((m) => BigInt(m.id) > BigInt(after));
      page = newer.slice(Math.max(0, newer.length - limit));
    } else {
      page = newestFirst.filter((m) => !before || BigInt(m.id) < BigInt(before)).slice(0, limit);
    }
    return ok(page.map(stripDeleted));
  }

  #createMessage(channelId: string, body: unknown): Reply {
    const b = (body ?? {}) as Json;
    const ref = b.message_reference as Json | undefined;
    const referenced = ref ? this.#messages.get(String(ref.message_id)) : undefined;
    if (ref && !referenced && ref.fail_if_not_exists !== false) {
      return {
        status: 400,
        body: {
          code: 50035,
          message: "Invalid Form Body",
          errors: {
            message_reference: {
              _errors: [{ code: "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", message: "Unknown message" }],
            },
          },
        },
      };
    }
    const message = this.#botMessage(channelId, b);
    if (referenced) {
      message.type = MESSAGE_TYPE_REPLY;
      message.message_reference = reference(referenced);
      message.referenced_message = quoted(referenced);
    }
    if (b.nonce !== undefined && b.nonce !== null) message.nonce = b.nonce as string;
    this.#store(message);
    this.#dispatchMessage("MESSAGE_CREATE", message);
    return ok(message);
  }

  #getMessage(channelId: string, id: string): Reply {
    const message = this.#messages.get(id);
    if (!message || message.deleted || message.channel_id !== channelId) {
      return Errors.unknownMessage;
    }
    return ok(stripDeleted(message));
  }

  #editMessage(p: Record<string, string>, body: unknown): Reply {
    const message = this.#messages.get(p.id);
    if (!message || message.deleted || message.channel_id !== p.channel) {
      return Errors.unknownMessage;
    }
    if (message.author.id !== this.botId) return Errors.notAuthor;
    return ok(this.#applyEdit(message, body));
  }

  #deleteMessage(channelId: string, id: string): Reply {
    const message = this.#messages.get(id);
    if (!message || message.deleted || message.channel_id !== channelId) {
      return Errors.unknownMessage;
    }
    message.deleted = true;
    this.#dispatchMessage("MESSAGE_DELETE", message);
    return { status: 204 };
  }

  #putCommands(guildId: string, body: unknown): Reply {
    const existing = this.#commands.get(guildId) ?? [];
    const commands = ((body ?? []) as Json[]).map((c) =>
      this.#command(guildId, c, existing.find((e) => e.name === c.name))
    );
    this.#commands.set(guildId, commands);
    return ok(commands);
  }

  #postCommand(guildId: string, body: unknown): Reply {
    const b = body as Json;
    const list = this.#commands.get(guildId) ?? [];
    const index = list.findIndex((c) => c.name === b.name);
    const command = this.#command(guildId, b, list[index]);
    if (index >= 0) list[index] = command;
    else list.push(command);
    this.#commands.set(guildId, list);
    // Discord answers 201 for a new command and 200 when one of that name was overwritten.
    return { status: index >= 0 ? 200 : 201, body: command };
  }

  #command(guildId: string, body: Json, previous: Json | undefined): Json {
    return {
      type: 1,
      description: "",
      options: [],
      default_member_permissions: null,
      nsfw: false,
      contexts: null,
      integration_types: [0],
      ...body,
      id: previous?.id ?? this.#ids.next(),
      application_id: this.applicationId,
      version: this.#ids.next(),
      ...(guildId ? { guild_id: guildId } : {}),
    };
  }

  #callback(p: Record<string, string>, body: unknown): Reply {
    const state = this.#interactions.get(p.token);
    if (!state || state.id !== p.id) return Errors.unknownInteraction;
    if (state.callbackTypes.length) return Errors.alreadyAcknowledged;
    const b = body as { type: number; data?: Json };
    state.callbackTypes.push(b.type);
    if (b.type === 4 || b.type === 5) {
      // Type 5 shows "… is thinking" until the original response is edited.
      const data = b.type === 5 ? { flags: MESSAGE_FLAG_LOADING } : (b.data ?? {});
      state.original = this.#interactionMessage(state, data);
    }
    return { status: 204 };
  }

  #getOriginal(token: string): Reply {
    const state = this.#interactions.get(token);
    if (!state) return Errors.unknownWebhook;
    if (!state.original || state.original.deleted) return Errors.unknownMessage;
    return ok(stripDeleted(state.original));
  }

  #deleteOriginal(token: string): Reply {
    const state = this.#interactions.get(token);
    if (!state) return Errors.unknownWebhook;
    if (!state.original || state.original.deleted) return Errors.unknownMessage;
    state.original.deleted = true;
    this.#dispatchMessage("MESSAGE_DELETE", state.original);
    return { status: 204 };
  }

  #editWebhookMessage(token: string, id: string, body: unknown): Reply {
    const state = this.#interactions.get(token);
    if (!state) return Errors.unknownWebhook;
    const message = id === "@original" ? state.original : state.followups.find((m) => m.id === id);
    if (!message || message.deleted) return Errors.unknownMessage;
    return ok(this.#applyEdit(message, body));
  }

  #followup(token: string, rec: RecordedRequest): Reply {
    const state = this.#interactions.get(token);
    if (!state) return Errors.unknownWebhook;
    const message = this.#interactionMessage(state, (rec.body ?? {}) as Json);
    state.followups.push(message);
    // Without ?wait=true Discord answers 204 and the caller never learns the message id.
    return rec.query.get("wait") === "true" ? ok(message) : { status: 204 };
  }

  // ---- CDN -----------------------------------------------------------------------------------

  /** An attachment object as Discord sends it, its bytes filed under a CDN path on this host. */
  #attachment(channelId: string, file: FakeAttachmentOptions): Json {
    const id = this.#ids.next();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}`;
    const signature = `fake-${++this.#signatures}`;
    this.#cdn.set(path, {
      bytes: file.bytes,
      contentType: file.contentType,
      stall: !!file.stall,
      signature,
    });
    // Discord signs CDN URLs with an expiry (ex), an issue time (is) and a MAC (hm).
    const expiry = (Date.now() / 1000 + 86_400).toString(16);
    const url = file.url ?? `${this.url}${path}?ex=${expiry}&is=0&hm=${signature}`;
    return {
      id,
      filename: file.filename,
      size: file.size ?? file.bytes.length,
      url,
      proxy_url: url,
      ...(file.contentType ? { content_type: file.contentType } : {}),
    };
  }

  /** `GET` a CDN path: the bytes, without authorization, as Discord's CDN serves them. */
  async #serveAttachment(req: Request, url: URL): Promise<Response> {
    const record = { path: url.pathname, status: 0 };
    this.cdnRequests.push(record);
    const file = this.#cdn.get(url.pathname);
    if (req.method !== "GET" || !file) {
      record.status = 404;
      return new Response("Not Found", { status: 404 });
    }
    if (url.searchParams.get("hm") !== file.signature) {
      // An expired or tampered signed URL.
      record.status = 404;
      return new Response("This content is no longer available.", { status: 404 });
    }
    if (file.stall) {
      await new Promise((resolve) => this.#closing.signal.addEventListener("abort", resolve));
      record.status = 503;
      return new Response(null, { status: 503 });
    }
    record.status = 200;
    const headers = new Headers({ "content-length": String(file.bytes.length) });
    if (file.contentType) headers.set("content-type", file.contentType);
    return new Response(file.bytes.slice(), { headers });
  }

  // ---- Messages ------------------------------------------------------------------------------

  #baseMessage(
    channelId: string,
    guildId: string | undefined,
    author: DiscordUser,
    content: string,
  ): DiscordMessage {
    return {
      id: this.#ids.next(),
      channel_id: channelId,
      ...(guildId ? { guild_id: guildId } : {}),
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      type: 0,
      flags: 0,
    };
  }

  #botMessage(channelId: string, body: Json): DiscordMessage {
    const guildId = this.#guildOf(channelId);
    const message = this.#baseMessage(channelId, guildId, this.botUser, String(body.content ?? ""));
    message.tts = body.tts === true;
    message.embeds = (body.embeds as unknown[]) ?? [];
    message.flags = Number(body.flags ?? 0);
    if (Array.isArray(body.components)) message.components = body.components;
    if (guildId) message.member = member();
    return message;
  }

  #interactionMessage(state: InteractionState, data: Json): StoredMessage {
    const message = this.#botMessage(state.channelId, data);
    message.type = MESSAGE_TYPE_CHAT_INPUT_COMMAND;
    message.webhook_id = this.applicationId;
    message.application_id = this.applicationId;
    message.interaction_metadata = {
      id: state.id,
      type: state.type ?? 2,
      user: state.user,
      // discordeno reads this unguarded: "0" is a guild install, "1" a user install.
      authorizing_integration_owners: state.guildId
        ? { "0": state.guildId }
        : { "1": state.user.id },
    };
    const stored = this.#store(message);
    this.#dispatchMessage("MESSAGE_CREATE", message);
    return stored;
  }

  /** A person edits their message `id`: new content, `edited_timestamp` now, MESSAGE_UPDATE. */
  editUserMessage(id: string, content: string): DiscordMessage {
    const message = this.#messages.get(id);
    if (!message) throw new Error(`no message ${id}`);
    return this.#applyEdit(message, { content, flags: message.flags });
  }

  #applyEdit(message: StoredMessage, body: unknown): DiscordMessage {
    const b = (body ?? {}) as Json;
    if (typeof b.content === "string") message.content = b.content;
    if (Array.isArray(b.embeds)) message.embeds = b.embeds;
    if (Array.isArray(b.components)) message.components = b.components;
    // Editing a deferred response replaces the "thinking" placeholder.
    message.flags = b.flags !== undefined && b.flags !== null
      ? Number(b.flags)
      : message.flags & ~MESSAGE_FLAG_LOADING;
    message.edited_timestamp = new Date().toISOString();
    this.#dispatchMessage("MESSAGE_UPDATE", message);
    return stripDeleted(message);
  }

  #store(message: DiscordMessage): StoredMessage {
    const stored: StoredMessage = { ...structuredClone(message), deleted: false };
    this.#messages.set(stored.id, stored);
    const list = this.#channels.get(stored.channel_id) ?? [];
    list.push(stored);
    this.#channels.set(stored.channel_id, list);
    return stored;
  }

  /** The guild a channel belongs to, as far as messages seen in it tell. */
  #guildOf(channelId: string): string | undefined {
    return this.#channels.get(channelId)?.find((m) => m.guild_id)?.guild_id;
  }

  /** Dispatches a message event as Discord would to this session's intents. */
  #dispatchMessage(t: string, message: DiscordMessage): void {
    const fromBot = message.author.id === this.botId;
    if (fromBot && !this.#echoBotMessages) return;
    const intents = this.#gateway.intents;
    const needed = message.guild_id ? INTENT_GUILD_MESSAGES : INTENT_DIRECT_MESSAGES;
    if (!(intents & needed)) return;
    if (t === "MESSAGE_DELETE") {
      this.dispatch(t, {
        id: message.id,
        channel_id: message.channel_id,
        ...(message.guild_id ? { guild_id: message.guild_id } : {}),
      });
      return;
    }
    const d = stripDeleted(message);
    // Without the privileged MESSAGE_CONTENT intent, Discord blanks content in guilds except in
    // messages that mention the bot or that the bot wrote.
    const mentioned = message.mentions.some((u) => u.id === this.botId);
    if (!(intents & INTENT_MESSAGE_CONTENT) && message.guild_id && !mentioned && !fromBot) {
      Object.assign(d, { content: "", embeds: [], attachments: [], components: [] });
    }
    this.dispatch(t, d);
  }

  // ---- Waiting -------------------------------------------------------------------------------

  #waitUntil<T>(check: () => T | undefined, timeoutMs: number, why: () => string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    if (this.#closed) return Promise.reject(new Error("FakeDiscord was closed"));
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        poll: () => {
          const value = check();
          if (value !== undefined) (finish(), resolve(value));
        },
        fail: (e) => (finish(), reject(e)),
      };
      const timer = setTimeout(() => waiter.fail(new Error(why())), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter.poll();
  }
}

// ---- Helpers -----------------------------------------------------------------------------------

interface Waiter {
  poll(): void;
  fail(e: Error): void;
}

/** Timestamp-based ids that sort in creation order, like Discord's snowflakes. */
class SnowflakeClock {
  #last = 0n;

  next(): string {
    const candidate = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    this.#last = candidate > this.#last ? candidate : this.#last + 1n;
    return this.#last.toString();
  }
}

/** Which 429 rule answered a request, for building its headers. */
const rateLimitOf = new WeakMap<RecordedRequest, Required<RateLimitOptions>>();

async function readBody(req: Request): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    // discordeno sends files as multipart with the JSON in payload_json.
    const json = (await req.formData()).get("payload_json");
    return typeof json === "string" ? JSON.parse(json) : undefined;
  }
  const text = await req.text();
  return text === "" ? undefined : JSON.parse(text);
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function notFound(error: string): Reply {
  return { ...Errors.notFound, errors: [error] };
}

function invalidFormBody(issues: SpecIssue[]): Reply {
  return {
    status: 400,
    body: { code: 50035, message: "Invalid Form Body", errors: discordFormErrors(issues) },
    errors: issues.map((i) => `${i.path || "/"} ${i.message}`),
  };
}

/** Rate-limit headers with plenty remaining, so discordeno's queue never waits. */
function normalHeaders(path: string): Headers {
  return new Headers({
    "x-ratelimit-limit": "5",
    "x-ratelimit-remaining": "4",
    "x-ratelimit-reset": (Date.now() / 1000 + 5).toFixed(3),
    "x-ratelimit-reset-after": "5.000",
    "x-ratelimit-bucket": bucketHash(path),
  });
}

/** A stable 32-hex-digit bucket id per route, with ids replaced so one route is one bucket. */
function bucketHash(path: string): string {
  const route = path.replace(/\/\d{5,}/g, "/:id").replace(/\/[\w-]{40,}/g, "/:token");
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(route)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0").repeat(2);
}

/** The user the fake's interactions come from, by id. */
function tester(id: string = DEFAULT_USER_ID): DiscordUser {
  return {
    id,
    username: "tester",
    discriminator: "0",
    global_name: "Tester",
    avatar: null,
    public_flags: 0,
  };
}

function member(): Json {
  return {
    roles: [],
    joined_at: "2024-01-01T00:00:00.000000+00:00",
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    nick: null,
    avatar: null,
    banner: null,
    communication_disabled_until: null,
  };
}

function reference(m: DiscordMessage): NonNullable<DiscordMessage["message_reference"]> {
  return {
    type: 0,
    message_id: m.id,
    channel_id: m.channel_id,
    ...(m.guild_id ? { guild_id: m.guild_id } : {}),
  };
}

/** `message_reference.type` of a forward (0 is a reply). */
const MESSAGE_REFERENCE_FORWARD = 1;

/** What a forward's `message_snapshots[0].message` holds: the content, no author or ids. */
function snapshotOf(m: StoredMessage): Record<string, unknown> {
  const { content, attachments, embeds, type, timestamp, edited_timestamp, flags } = stripDeleted(
    m,
  );
  return {
    type,
    content,
    attachments,
    embeds,
    timestamp,
    edited_timestamp,
    flags,
    mentions: [],
    mention_roles: [],
  };
}

/** A replied-to message as Discord embeds it: one level deep, without its own reply. */
function quoted(m: StoredMessage): DiscordMessage {
  const { referenced_message: _nested, ...rest } = stripDeleted(m);
  return rest;
}

/** The message as Discord shows it: without the fake's bookkeeping. */
function stripDeleted(m: DiscordMessage | StoredMessage): DiscordMessage {
  const { deleted: _deleted, ...rest } = m as StoredMessage;
  return structuredClone(rest);
}

/** `data.resolved.channels` for the channel options (type 7) given, as Discord sends them. */
function resolvedChannels(opts: InteractionOptions): Json {
  const channels: Json = {};
  for (const option of opts.options ?? []) {
    if (option.type !== 7 || typeof option.value !== "string") continue;
    const guildId = opts.channelGuilds?.[option.value] ?? opts.guildId;
    channels[option.value] = {
      id: option.value,
      name: "general",
      type: 0,
      permissions: PERMISSIONS_ALL_TEXT,
      ...(guildId ? { guild_id: guildId } : {}),
    };
  }
  return Object.keys(channels).length > 0 ? { resolved: { channels } } : {};
}
