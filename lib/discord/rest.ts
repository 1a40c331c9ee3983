/**
 * discordeno's REST manager as the bot uses it: pointed at `apiUrl` yet never in discordeno's
 * "proxied" mode (which has no queue and no 429 handling), every request but interaction
 * responses paced where it leaves, and Discord's 429 answers counted; and the camelised
 * history messages its `getMessages` returns, read as the port's.
 *
 * @module
 */
import { createRestManager, type RestManager } from "discordeno";
import { discordenoLogger } from "./discordeno_logger.ts";
import type { HistoryMessage } from "./port.ts";
import type { RequestPacer, RequestPriority } from "./request_pacer.ts";

/** How long an idle REST queue is kept for its route's next request (discordeno's default). */
const QUEUE_IDLE_MS = 60_000;

/** What {@linkcode pacedRest} builds the manager from. */
export interface PacedRestOptions {
  /** The bot token. */
  token: string;
  /** Where REST goes (`https://discord.com/api`, or a fake). */
  apiUrl: string;
  /** The bot's application id (its user id). */
  applicationId: string;
  /** The bot's global request budget. */
  pacer: RequestPacer;
  /** How urgent a request is, from its body (`post` for anything but an answer's edits). */
  priorityOf(body: unknown): RequestPriority;
  /**
   * Called as a request leaves, after its wait for the budget: it may set the body's text to the
   * newest, so a request that waited carries all the text ready by then.
   */
  leaving?(body: unknown): void;
}

/** discordeno's REST manager. */
export type DiscordRest = RestManager;

/** A REST manager and the count of 429 answers it has seen. */
export interface PacedRest {
  /** The manager, pacing and counting. */
  rest: DiscordRest;
  /** Discord REST answers with status 429 seen so far. */
  rateLimited(): number;
}

/**
 * Creates the REST manager with its pacing hook and 429 count.
 *
 * @example
 * ```ts ignore
 * const { rest, rateLimited } = pacedRest({ token, apiUrl, applicationId, pacer, priorityOf });
 * ```
 */
export function pacedRest(options: PacedRestOptions): PacedRest {
  const { pacer } = options;
  const rest = createRestManager({
    token: options.token,
    applicationId: options.applicationId,
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
  // Interaction responses are outside the global budget. The body is serialised inside
  // sendRequest, so what `leaving` writes into it is what Discord receives.
  const send = rest.sendRequest.bind(rest);
  rest.sendRequest = async (request) => {
    const isInteraction = request.route.startsWith("/interactions/") ||
      request.route.startsWith("/webhooks/");
    const body = request.requestBodyOptions?.body;
    if (!isInteraction) await pacer.take(options.priorityOf(body));
    options.leaving?.(body);
    return await send(request);
  };
  // An idle route's queue (one per channel and route) is deleted this long after its last
  // request. Shorter, a busy channel's queue was torn down and rebuilt between two answers, and
  // each deletion logs a list of every queue (quadratic in channels). close() clears the timers.
  rest.deleteQueueDelay = QUEUE_IDLE_MS;
  return { rest, rateLimited: () => rateLimited };
}

/** `rest.getMessages` returns camelised payloads. */
export interface CamelMessage {
  /** The message id. */
  id: string;
  /** The text; absent for a message without any. */
  content?: string;
  /** ISO 8601. */
  timestamp: string;
  /** ISO 8601 of its last edit; absent or null when never edited. */
  editedTimestamp?: string | null;
  /** Who wrote it. */
  author: { id: string; username: string; globalName?: string | null; bot?: boolean };
}

/** A camelised message as the port's {@linkcode HistoryMessage}. */
export function toHistoryMessage(message: CamelMessage): HistoryMessage {
  return {
    id: String(message.id),
    authorId: String(message.author.id),
    authorName: message.author.globalName || message.author.username,
    authorIsBot: message.author.bot === true,
    content: message.content ?? "",
    timestamp: Date.parse(message.timestamp),
    ...(message.editedTimestamp ? { editedAt: Date.parse(message.editedTimestamp) } : {}),
  };
}
