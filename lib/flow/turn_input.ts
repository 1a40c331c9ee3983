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
import {
  type Attachment,
  type AttachmentBudget,
  type AttachmentLimits,
  attachmentNote,
  attachmentOrigins,
  attachmentParts,
  bytesMatchType,
  displayName,
  fetchAttachment,
  type FetchedAttachment,
  type GifConversion,
  type PlannedAttachment,
  planTurnAttachments,
} from "../attachments/mod.ts";
import type { ChatMessage, DiscordPort, ReferencedMessage } from "../discord/mod.ts";
import type { Content, Part } from "../gemini/mod.ts";
import type { Logger } from "../log.ts";
import type { BrokerResult } from "../broker/mod.ts";
import { attachmentText, failureText } from "../text/strings_ko.ts";

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
  /** The files sent, by display name, for a notice that names the one Gemini would not take. */
  files?: string[];
  /** Gives the files' bytes back to the process's budget, once the call has settled. */
  release?(): void;
}

/** The input, or the short Korean reply that ends the turn before any Gemini call. */
export type Gathered = { ok: true; input: TurnInput } | { ok: false; text: string };

/** What gathering crosses. */
export interface GatherDeps {
  /** Reads a replied-to message Discord did not embed. */
  discord: Pick<DiscordPort, "getMessage">;
  /** How many files, and bytes, a turn may bring. */
  limits: AttachmentLimits;
  /**
   * Fetches one file's bytes, at most `maxBytes` of them as they arrive (allowed hosts and the
   * deadline already bound); never rejects.
   */
  fetch(url: string, maxBytes: number): Promise<FetchedAttachment>;
  /** The process's room for files in flight: a turn holds its files' bytes until it ends. */
  budget: Pick<AttachmentBudget, "take">;
  /** Converts a GIF's first frame to PNG off the event loop (`GifDecoder`); never rejects. */
  gifToPng(gif: Uint8Array): Promise<GifConversion>;
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
  const forwardedFiles = forwarded?.attachments ?? [];
  const own = [...forwardedFiles, ...(message.attachments ?? [])];
  if (!replied && !forwarded && own.length === 0) return { ok: true, input: { line, parts: [] } };

  const plan = planTurnAttachments(replied?.attachments ?? [], own, deps.limits);
  if (!plan.ok) {
    return {
      ok: false,
      text: attachmentText.refused(plan.problem, displayName(plan.problem.filename)),
    };
  }
  const dropped = [...plan.dropped];
  const planned = [...plan.replied, ...plan.own];
  // Room in the process's budget before any byte arrives: the declared sizes, which the fetch
  // holds each file to, so the bytes held never pass what was taken.
  const declared = planned.reduce((sum, file) => sum + file.size, 0);
  const release = planned.length > 0 ? await deps.budget.take(declared, deps.timeoutMs) : noop;
  if (!release) {
    deps.logger.warn("No room for {bytes} attachment bytes within {waitMs} ms; the user is told", {
      bytes: declared,
      waitMs: deps.timeoutMs,
    });
    return { ok: false, text: attachmentText.busy };
  }

  const fresh = freshLinks(message, replied, deps);
  const readings = await Promise.all(
    planned.map((file) => readFile(file, plan.replied.includes(file), fresh, deps)),
  );
  const fileParts: Part[] = [];
  const sent = new Set<PlannedAttachment>();
  for (const [index, file] of planned.entries()) {
    const reading = readings[index];
    if (reading.ok) {
      fileParts.push(...reading.parts);
      sent.add(file);
    } else if (plan.replied.includes(file)) {
      // Not the replier's file: the answer goes on without it.
      deps.logger.info("Replied-to file left out: {why}", {
        attachmentId: file.id,
        why: reading.text,
      });
      dropped.push(file);
    } else {
      release();
      return { ok: false, text: reading.text };
    }
  }

  const notes = (files: PlannedAttachment[]) =>
    files.filter((f) => sent.has(f)).map(attachmentNote);
  const forwardedCount = forwardedFiles.length;
  const ownNotes = notes(plan.own.slice(forwardedCount)).join(" ");
  let stored = ownNotes ? `${line.trimEnd()} ${ownNotes}` : line;
  const parts: Part[] = [];
  if (forwarded) {
    const quote = cut(forwarded.content, REPLY_QUOTE_MAX_CHARS);
    const forwardNotes = notes(plan.own.slice(0, forwardedCount)).join(" ");
    stored = `${stored.trimEnd()} ${attachmentText.forwardQuote(quote, forwardNotes)}`;
    if (quote !== forwarded.content) {
      const whole = cut(forwarded.content, REPLY_TEXT_MAX_CHARS);
      parts.push({ text: `${attachmentText.forwardFull}\n${whole}` });
    }
  }
  if (replied) {
    const quote = cut(replied.content, REPLY_QUOTE_MAX_CHARS);
    const droppedNotes = dropped.map((file: Attachment) =>
      attachmentText.droppedNote(displayName(file.filename))
    );
    const repliedNotes = [...notes(plan.replied), ...droppedNotes].join(" ");
    stored = `${attachmentText.replyQuote(replied.authorName, quote, repliedNotes)}\n${stored}`;
    if (quote !== replied.content) {
      const whole = cut(replied.content, REPLY_TEXT_MAX_CHARS);
      parts.push({ text: `${attachmentText.replyFull(replied.authorName)}\n${whole}` });
    }
  }
  const files = planned.filter((f) => sent.has(f)).map((f) => displayName(f.filename));
  return {
    ok: true,
    input: { line: stored, parts: [...parts, ...fileParts], files, release },
  };
}

const noop = () => {};

/** One file fetched and made into parts, or the short reply that says why not. */
async function readFile(
  file: PlannedAttachment,
  fromReplied: boolean,
  fresh: FreshLinks,
  deps: GatherDeps,
): Promise<{ ok: true; parts: Part[] } | { ok: false; text: string }> {
  const name = displayName(file.filename);
  // At most the size Discord gave: a file that is really larger is cut off as it streams in, so
  // the message's total (checked on the declared sizes) holds for the bytes fetched too.
  const maxBytes = Math.min(file.size, deps.limits.maxBytes);
  let result = await deps.fetch(file.url, maxBytes);
  if (isExpired(result)) {
    // Signed links expire: one fresh read of the message, one more try, never a loop.
    const url = await fresh(file.id, fromReplied);
    if (url !== undefined && url !== file.url) result = await deps.fetch(url, maxBytes);
  }
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
      : result.reason === "too_large"
      ? attachmentText.largerThanSaid(name)
      : result.reason === "host"
      ? attachmentText.notFromDiscord(name)
      : attachmentText.fetchFailed(name);
    return { ok: false, text };
  }
  if (!bytesMatchType(file.mimeType, result.bytes)) {
    return { ok: false, text: attachmentText.notWhatItSays(name) };
  }
  let sendable: PlannedAttachment = file;
  let bytes = result.bytes;
  if (file.mimeType === "image/gif") {
    // Decoded in the worker, never on this thread: a GIF's header can promise gigabytes.
    const converted = await deps.gifToPng(bytes);
    if (!converted.ok) {
      const text = converted.reason === "too_large"
        ? attachmentText.imageTooLarge(name)
        : attachmentText.unreadable(name);
      return { ok: false, text };
    }
    sendable = { ...file, mimeType: "image/png" };
    bytes = converted.png;
  }
  const parts = attachmentParts(sendable, bytes);
  return parts ? { ok: true, parts } : { ok: false, text: attachmentText.unreadable(name) };
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

/**
 * The words for a call that got no answer: a refusal that was the file's (an upload Gemini
 * refused, or a 400 while files were sent) names the file, not the bot's configuration.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { attachmentText } from "../text/strings_ko.ts";
 * const refused = { ok: false, reason: "rejected", status: 400 } as const;
 * strictEqual(turnFailureText(refused, ["photo.png"]), attachmentText.notSent("photo.png"));
 * ```
 */
export function turnFailureText(result: BrokerResult, files: readonly string[] = []): string {
  if (result.ok || result.reason !== "rejected") return failureText(result);
  const fileRefused = result.file === true || (result.status === 400 && files.length > 0);
  if (!fileRefused) return failureText(result);
  return attachmentText.notSent(files.length === 1 ? files[0] : undefined);
}

/** A CDN answer meaning the signed URL expired (or was never valid): read the message again. */
function isExpired(result: FetchedAttachment): boolean {
  return !result.ok && result.reason === "failed" &&
    (result.status === 403 || result.status === 404);
}

/** A file's fresh URL by its id, from one new read of the message that carries it. */
type FreshLinks = (attachmentId: string, fromReplied: boolean) => Promise<string | undefined>;

/**
 * Discord signs attachment URLs with an expiry, so a message read a while ago (a reply's, a
 * forward's) can carry dead links. Each message is read again at most once per turn, however many
 * of its files expired, and only when one did.
 */
function freshLinks(
  message: ChatMessage,
  replied: ReferencedMessage | undefined,
  deps: GatherDeps,
): FreshLinks {
  const reads = new Map<string, Promise<Map<string, string>>>();
  const read = (channelId: string, id: string) => {
    let links = reads.get(id);
    if (!links) {
      links = deps.discord.getMessage(channelId, id).then(
        (again) => new Map((again?.attachments ?? []).map((file) => [file.id, file.url])),
        (error) => {
          deps.logger.info("Message not read again for fresh file links: {error}", {
            error: String(error),
          });
          return new Map<string, string>();
        },
      );
      reads.set(id, links);
    }
    return links;
  };
  return async (attachmentId, fromReplied) => {
    if (fromReplied && !replied) return undefined;
    const links = fromReplied && replied
      ? await read(
        replied.channelId ?? message.replyReference?.channelId ?? message.channelId,
        replied.id,
      )
      : await read(message.channelId, message.id);
    return links.get(attachmentId);
  };
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
  shared: Pick<GatherDeps, "budget" | "gifToPng">,
): (message: ChatMessage, line: string) => Promise<Gathered> {
  const allowedOrigins = attachmentOrigins(discordApiUrl);
  const timeoutMs = attachments.fetchTimeoutMs;
  return (message, line) =>
    gatherTurnInput(message, line, {
      discord,
      limits: attachments,
      fetch: (url, maxBytes) => fetchAttachment(url, { allowedOrigins, timeoutMs, maxBytes }),
      timeoutMs,
      logger,
      ...shared,
    });
}
