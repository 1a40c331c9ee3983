/**
 * Gather: what a chat turn shows the model besides the user's words. The message replied to
 * (embedded in the event, or fetched when Discord left it out) and the files on both, fetched
 * before the turn begins, so no other message in the channel waits on a download.
 *
 * Two outputs with two lifetimes: `line` is what the conversation window keeps (the user's
 * words, a short quote of the reply, a note per file: name and type, never bytes), and `parts`
 * go into this one request only (the files' bytes or text, the whole replied-to text).
 *
 * @module
 */
import { attachmentOrigins, fetchAttachment, type FetchedAttachment } from "../attachment_fetch.ts";
import {
  type AttachmentLimits,
  attachmentNote,
  attachmentParts,
  displayName,
  planAttachments,
  type PlannedAttachment,
} from "../attachments.ts";
import type { ChatMessage, DiscordPort, ReferencedMessage } from "../discord.ts";
import type { Content, Part } from "../gemini.ts";
import type { Logger } from "../log.ts";
import { attachmentText } from "../strings_ko.ts";

/** Characters of a replied-to message the window keeps. */
export const REPLY_QUOTE_MAX_CHARS = 200;
/** Characters of a replied-to message the model reads in this turn. */
export const REPLY_TEXT_MAX_CHARS = 4000;

/** What a turn asks the model: the line to keep, and the parts for this request only. */
export interface TurnInput {
  /** Stored in the window: the user's line with its reply quote and file notes. */
  line: string;
  /** Added to the request's last user turn, never stored. */
  parts: Part[];
}

/** The input, or the short Korean reply that ends the turn before any Gemini call. */
export type Gathered = { ok: true; input: TurnInput } | { ok: false; text: string };

/** What gathering crosses. */
export interface GatherDeps {
  /** Reads a replied-to message Discord did not embed. */
  discord: Pick<DiscordPort, "getMessage">;
  /** How many files, and bytes, a turn may bring. */
  limits: AttachmentLimits;
  /** Fetches one file's bytes (allowed hosts, deadline and byte cap already bound); never rejects. */
  fetch(url: string): Promise<FetchedAttachment>;
  /** How long fetching a replied-to message may take before the turn goes on without it. */
  timeoutMs: number;
  /** Where fetch failures are logged. */
  logger: Logger;
}

/**
 * Builds the turn's input from `message` and the gate's `line`.
 *
 * @example
 * ```ts ignore
 * const gathered = await gatherTurnInput(message, "민수: 이거 봐", deps);
 * if (!gathered.ok) await reply(discord, logger, message, gathered.text);
 * ```
 */
export async function gatherTurnInput(
  message: ChatMessage,
  line: string,
  deps: GatherDeps,
): Promise<Gathered> {
  const replied = message.replyTo ?? await fetchReplied(message, deps);
  const forwarded = message.forwarded;
  // A forward's files are in its snapshot, under the same rules and limits as its own.
  const own = [...(forwarded?.attachments ?? []), ...(message.attachments ?? [])];
  if (!replied && !forwarded && own.length === 0) return { ok: true, input: { line, parts: [] } };

  const repliedFiles = replied?.attachments ?? [];
  const plan = planAttachments([...repliedFiles, ...own], deps.limits);
  if (!plan.ok) {
    return {
      ok: false,
      text: attachmentText.refused(plan.problem, displayName(plan.problem.filename)),
    };
  }
  const fetched = await Promise.all(plan.planned.map((file) => deps.fetch(file.url)));
  await refetchExpired(plan.planned, fetched, repliedFiles.length, message, replied, deps);
  const fileParts: Part[] = [];
  for (const [index, file] of plan.planned.entries()) {
    const result = fetched[index];
    const name = displayName(file.filename);
    if (!result.ok) {
      deps.logger.warn("Attachment not fetched: {reason}", {
        attachmentId: file.id,
        reason: result.reason,
        status: result.status,
      });
      const text = result.reason === "timeout"
        ? attachmentText.fetchTimedOut(name)
        : isExpired(result)
        ? attachmentText.expired(name)
        : attachmentText.fetchFailed(name);
      return { ok: false, text };
    }
    const parts = attachmentParts(file, result.bytes);
    if (!parts) return { ok: false, text: attachmentText.unreadable(name) };
    fileParts.push(...parts);
  }

  const notes = (files: PlannedAttachment[]) => files.map(attachmentNote).join(" ");
  const forwardedCount = forwarded?.attachments.length ?? 0;
  const ownStart = repliedFiles.length + forwardedCount;
  const ownNotes = notes(plan.planned.slice(ownStart));
  let stored = ownNotes ? `${line.trimEnd()} ${ownNotes}` : line;
  const parts: Part[] = [];
  if (forwarded) {
    const quote = cut(forwarded.content, REPLY_QUOTE_MAX_CHARS);
    const forwardNotes = notes(plan.planned.slice(repliedFiles.length, ownStart));
    stored = `${stored.trimEnd()} ${attachmentText.forwardQuote(quote, forwardNotes)}`;
    if (quote !== forwarded.content) {
      const whole = cut(forwarded.content, REPLY_TEXT_MAX_CHARS);
      parts.push({ text: `${attachmentText.forwardFull}\n${whole}` });
    }
  }
  if (replied) {
    const quote = cut(replied.content, REPLY_QUOTE_MAX_CHARS);
    const repliedNotes = notes(plan.planned.slice(0, repliedFiles.length));
    stored = `${attachmentText.replyQuote(replied.authorName, quote, repliedNotes)}\n${stored}`;
    if (quote !== replied.content) {
      const whole = cut(replied.content, REPLY_TEXT_MAX_CHARS);
      parts.push({ text: `${attachmentText.replyFull(replied.authorName)}\n${whole}` });
    }
  }
  return { ok: true, input: { line: stored, parts: [...parts, ...fileParts] } };
}

/**
 * `contents` with `parts` added to its last user turn, as a copy: the window lent by the session
 * is not changed, so the parts never reach the store.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const contents = [{ role: "user", parts: [{ text: "민수: 봐" }] }];
 * deepStrictEqual(withTurnParts(contents, [{ text: "[파일 a.txt]\nhi" }]), [
 *   { role: "user", parts: [{ text: "민수: 봐" }, { text: "[파일 a.txt]\nhi" }] },
 * ]);
 * ```
 */
export function withTurnParts(contents: readonly Content[], parts: readonly Part[]): Content[] {
  const last = contents.findLastIndex((content) => content.role === "user");
  if (parts.length === 0 || last < 0) return [...contents];
  return contents.map((content, index) =>
    index === last ? { ...content, parts: [...content.parts, ...parts] } : content
  );
}

/** A CDN answer meaning the signed URL expired (or was never valid): read the message again. */
function isExpired(result: FetchedAttachment): boolean {
  return !result.ok && result.reason === "failed" &&
    (result.status === 403 || result.status === 404);
}

/**
 * Discord signs attachment URLs with an expiry, so a message read a while ago (a reply's, a
 * forward's) can carry dead links: each file the CDN answered 403 or 404 is fetched once more
 * from the URL a fresh read of its message gives. Changes `fetched` in place; one read a
 * message, never a loop.
 */
async function refetchExpired(
  planned: readonly PlannedAttachment[],
  fetched: FetchedAttachment[],
  repliedCount: number,
  message: ChatMessage,
  replied: ReferencedMessage | undefined,
  deps: GatherDeps,
): Promise<void> {
  const expired = planned.map((_, index) => index).filter((index) => isExpired(fetched[index]));
  if (expired.length === 0) return;
  const read = async (channelId: string, id: string) => {
    try {
      return await deps.discord.getMessage(channelId, id);
    } catch (error) {
      deps.logger.info("Message not read again for fresh file links: {error}", {
        error: String(error),
      });
      return undefined;
    }
  };
  const needsReplied = expired.some((index) => index < repliedCount);
  const needsOwn = expired.some((index) => index >= repliedCount);
  const repliedChannel = replied?.channelId ?? message.replyReference?.channelId ??
    message.channelId;
  const [freshReplied, freshOwn] = await Promise.all([
    needsReplied && replied ? read(repliedChannel, replied.id) : undefined,
    needsOwn ? read(message.channelId, message.id) : undefined,
  ]);
  const freshUrl = new Map<string, string>();
  for (const file of [...(freshReplied?.attachments ?? []), ...(freshOwn?.attachments ?? [])]) {
    freshUrl.set(file.id, file.url);
  }
  await Promise.all(expired.map(async (index) => {
    const url = freshUrl.get(planned[index].id);
    if (url === undefined || url === planned[index].url) return;
    fetched[index] = await deps.fetch(url);
  }));
}

/** The replied-to message Discord left out, or undefined when it cannot be read in time. */
async function fetchReplied(
  message: ChatMessage,
  deps: GatherDeps,
): Promise<ReferencedMessage | undefined> {
  const reference = message.replyReference;
  if (!reference) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), deps.timeoutMs);
  });
  try {
    const fetched = deps.discord.getMessage(reference.channelId, reference.messageId);
    const replied = await Promise.race([fetched, late]);
    if (!replied) deps.logger.info("Replied-to message not read in time; answering without it");
    return replied;
  } catch (error) {
    // Deleted meanwhile, or no access: the user's own words still get an answer.
    deps.logger.info("Replied-to message not read: {error}", { error: String(error) });
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max).join("")}…` : text;
}

/**
 * The gather a running bot uses: files fetched only from Discord's hosts (and `discordApiUrl`'s),
 * each within `attachments`' byte cap and deadline; failures logged to `logger`.
 */
export function gatherFor(
  attachments: AttachmentLimits & { fetchTimeoutMs: number },
  discordApiUrl: string,
  discord: Pick<DiscordPort, "getMessage">,
  logger: Logger,
): (message: ChatMessage, line: string) => Promise<Gathered> {
  const fetchOptions = {
    allowedOrigins: attachmentOrigins(discordApiUrl),
    timeoutMs: attachments.fetchTimeoutMs,
    maxBytes: attachments.maxBytes,
  };
  return (message, line) =>
    gatherTurnInput(message, line, {
      discord,
      limits: attachments,
      fetch: (url) => fetchAttachment(url, fetchOptions),
      timeoutMs: attachments.fetchTimeoutMs,
      logger,
    });
}
