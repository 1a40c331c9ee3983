/**
 * Attachments, decided before any byte is fetched: what kind of file each is (by content type,
 * or by extension where Discord guesses wrong, as with `.ts` as `video/mp2t`), whether a message's
 * files fit the limits, the short note the conversation window keeps of each, and the Gemini
 * parts made from the bytes once they arrive.
 *
 * Pure: no I/O. Fetching is `lib/attachments/fetch.ts`; uploading large files is `lib/gemini/files.ts`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Part } from "../gemini/mod.ts";

/** A file on a Discord message, as the gateway or REST described it (nothing in it is trusted). */
export interface Attachment {
  /** The attachment's snowflake id. */
  id: string;
  /** The file name as the uploader gave it. */
  filename: string;
  /** Discord's guess at the media type, such as `image/png`; absent when it had none. */
  contentType?: string;
  /** Size in bytes, as Discord reports it. */
  size: number;
  /** Where Discord serves the bytes (its CDN); checked against the allowed hosts before fetching. */
  url: string;
}

/** How Gemini is given a file: media as bytes, text files as text. */
export type AttachmentKind = "image" | "pdf" | "audio" | "text";

/** An attachment the bot can read, with the media type Gemini is told. */
export interface PlannedAttachment extends Attachment {
  /** What kind of file it is. */
  kind: AttachmentKind;
  /** The media type sent to Gemini (`text/plain` for every text or code file). */
  mimeType: string;
}

/** How many files, and how many bytes, one message may bring. */
export interface AttachmentLimits {
  /** Files per message, the replied-to message's included. */
  maxCount: number;
  /** Bytes per file. */
  maxBytes: number;
  /** Bytes of all files together. */
  maxTotalBytes: number;
}

/** Why a message's files are refused; each names the file at fault. */
export type AttachmentProblem =
  | { kind: "count"; filename: string; max: number }
  | { kind: "unsupported"; filename: string }
  | { kind: "too_large"; filename: string; maxBytes: number }
  | { kind: "total"; filename: string; maxTotalBytes: number };

/** Characters of a text file the model reads; the rest is cut, and the cut said. */
export const TEXT_ATTACHMENT_MAX_CHARS = 100_000;

/** Characters of a file name shown in notes and replies. */
const NAME_MAX_CHARS = 80;

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"]);
/** Gemini 2.x refuses GIFs: their first frame is sent, as a PNG. */
const GIF = "image/gif";
/** Audio types Gemini takes, with the aliases browsers and Discord use for them. */
const AUDIO_TYPES: Record<string, string> = {
  "audio/wav": "audio/wav",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/mp3": "audio/mp3",
  "audio/mpeg": "audio/mp3",
  "audio/aiff": "audio/aiff",
  "audio/x-aiff": "audio/aiff",
  "audio/aac": "audio/aac",
  "audio/ogg": "audio/ogg",
  "audio/flac": "audio/flac",
  "audio/x-flac": "audio/flac",
};
/** Media types by extension, for files Discord sent without a type or as octet-stream. */
const MEDIA_EXTENSIONS: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: GIF,
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
  wav: "audio/wav",
  mp3: "audio/mp3",
  aiff: "audio/aiff",
  aac: "audio/aac",
  ogg: "audio/ogg",
  flac: "audio/flac",
};
/** Extensions read as text whatever Discord guessed (it calls `.ts` an MPEG transport stream). */
const TEXT_EXTENSIONS = new Set([
  "txt",
  "md",
  "markdown",
  "log",
  "csv",
  "tsv",
  "json",
  "jsonc",
  "yaml",
  "yml",
  "toml",
  "ini",
  "cfg",
  "conf",
  "env",
  "xml",
  "html",
  "htm",
  "css",
  "scss",
  "js",
  "mjs",
  "cjs",
  "jsx",
  "ts",
  "tsx",
  "mts",
  "cts",
  "py",
  "rb",
  "go",
  "rs",
  "java",
  "kt",
  "kts",
  "swift",
  "c",
  "h",
  "cc",
  "cpp",
  "hpp",
  "cs",
  "php",
  "lua",
  "sh",
  "bash",
  "zsh",
  "ps1",
  "sql",
  "r",
  "dart",
  "scala",
  "vue",
  "svelte",
  "diff",
  "patch",
  "gradle",
  "dockerfile",
  "makefile",
]); // deno-fmt-ignore
/** Non-`text/*` types that are text. */
const TEXT_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
  "application/typescript",
  "application/x-sh",
  "application/x-yaml",
  "application/yaml",
  "application/toml",
  "application/sql",
]);

/**
 * What kind of file `attachment` is and the media type Gemini is told, or undefined when the
 * bot cannot read it (video, archives, executables, …).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const file = { id: "1", filename: "main.ts", contentType: "video/mp2t", size: 10, url: "" };
 * deepStrictEqual(classifyAttachment(file), { kind: "text", mimeType: "text/plain" });
 * ```
 */
export function classifyAttachment(
  attachment: Attachment,
): { kind: AttachmentKind; mimeType: string } | undefined {
  const extension = extensionOf(attachment.filename);
  if (TEXT_EXTENSIONS.has(extension)) return { kind: "text", mimeType: "text/plain" };
  let type = (attachment.contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "" || type === "application/octet-stream") type = MEDIA_EXTENSIONS[extension] ?? "";
  if (IMAGE_TYPES.has(type) || type === GIF) return { kind: "image", mimeType: type };
  if (type === "application/pdf") return { kind: "pdf", mimeType: type };
  if (AUDIO_TYPES[type]) return { kind: "audio", mimeType: AUDIO_TYPES[type] };
  if (type.startsWith("text/") || TEXT_TYPES.has(type)) {
    return { kind: "text", mimeType: "text/plain" };
  }
  return undefined;
}

/**
 * Checks `attachments` against `limits` and the kinds the bot reads, in order: the first file
 * at fault is named. Sizes are Discord's; the fetch enforces them again on the bytes.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const file = { id: "1", filename: "a.exe", contentType: "application/x-msdownload", size: 9, url: "" };
 * const plan = planAttachments([file], { maxCount: 4, maxBytes: 100, maxTotalBytes: 200 });
 * strictEqual(plan.ok ? "" : plan.problem.kind, "unsupported");
 * ```
 */
export function planAttachments(
  attachments: readonly Attachment[],
  limits: AttachmentLimits,
): { ok: true; planned: PlannedAttachment[] } | { ok: false; problem: AttachmentProblem } {
  const planned: PlannedAttachment[] = [];
  let total = 0;
  for (const [index, attachment] of attachments.entries()) {
    const filename = attachment.filename;
    if (index >= limits.maxCount) {
      return { ok: false, problem: { kind: "count", filename, max: limits.maxCount } };
    }
    const kind = classifyAttachment(attachment);
    if (!kind) return { ok: false, problem: { kind: "unsupported", filename } };
    if (attachment.size > limits.maxBytes) {
      return { ok: false, problem: { kind: "too_large", filename, maxBytes: limits.maxBytes } };
    }
    total += attachment.size;
    if (total > limits.maxTotalBytes) {
      return {
        ok: false,
        problem: { kind: "total", filename, maxTotalBytes: limits.maxTotalBytes },
      };
    }
    planned.push({ ...attachment, ...kind });
  }
  return { ok: true, planned };
}

/** A turn's files as planned: the replied-to message's and the replier's own. */
export interface TurnPlan {
  /** The replied-to message's files that will be sent. */
  replied: PlannedAttachment[];
  /** The replier's own files, all of them. */
  own: PlannedAttachment[];
  /** The replied-to message's files left out: unreadable kinds, too large, or past the limits. */
  dropped: Attachment[];
}

/**
 * Plans a turn's files: the replier's own are checked as {@link planAttachments} does (the first
 * at fault refuses the turn, since the user chose to send it), then the replied-to message's
 * files are taken, in order, while they are a kind the bot reads and fit what room the limits
 * leave; the rest are dropped, not refused: the replier did not choose them and still gets an
 * answer.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const video = { id: "1", filename: "a.mp4", contentType: "video/mp4", size: 9, url: "" };
 * const plan = planTurnAttachments([video], [], { maxCount: 4, maxBytes: 100, maxTotalBytes: 200 });
 * deepStrictEqual(plan, { ok: true, replied: [], own: [], dropped: [video] });
 * ```
 */
export function planTurnAttachments(
  replied: readonly Attachment[],
  own: readonly Attachment[],
  limits: AttachmentLimits,
): ({ ok: true } & TurnPlan) | { ok: false; problem: AttachmentProblem } {
  const ownPlan = planAttachments(own, limits);
  if (!ownPlan.ok) return ownPlan;
  const plan: TurnPlan = { replied: [], own: ownPlan.planned, dropped: [] };
  let count = own.length;
  let total = own.reduce((sum, file) => sum + file.size, 0);
  for (const attachment of replied) {
    const kind = classifyAttachment(attachment);
    const fits = count < limits.maxCount && attachment.size <= limits.maxBytes &&
      total + attachment.size <= limits.maxTotalBytes;
    if (!kind || !fits) {
      plan.dropped.push(attachment);
      continue;
    }
    count++;
    total += attachment.size;
    plan.replied.push({ ...attachment, ...kind });
  }
  return { ok: true, ...plan };
}

/**
 * The note the conversation window keeps of a file: its name and type, never its bytes.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const file = { id: "1", filename: "cat.png", size: 9, url: "", kind: "image", mimeType: "image/png" } as const;
 * strictEqual(attachmentNote(file), "[첨부: cat.png (image/png)]");
 * ```
 */
export function attachmentNote(attachment: PlannedAttachment): string {
  return `[첨부: ${displayName(attachment.filename)} (${attachment.mimeType})]`;
}

/**
 * The Gemini parts for a fetched file: a label naming it, then its bytes inline (media) or its
 * text (text files, cut at {@link TEXT_ATTACHMENT_MAX_CHARS}). Undefined when the bytes are not
 * what the type said (a "text" file that is not UTF-8), and for a GIF: Gemini refuses those, and
 * this never decodes one on the caller's thread; the caller converts it first (`lib/attachments/gif_decoder.ts`)
 * and passes the PNG as `image/png`.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const file = { id: "1", filename: "a.txt", size: 2, url: "", kind: "text", mimeType: "text/plain" } as const;
 * deepStrictEqual(attachmentParts(file, new TextEncoder().encode("hi")), [{ text: "[파일 a.txt]\nhi" }]);
 * ```
 */
export function attachmentParts(
  attachment: PlannedAttachment,
  bytes: Uint8Array,
): Part[] | undefined {
  const label = `[파일 ${displayName(attachment.filename)}]`;
  if (attachment.mimeType === GIF) return undefined;
  if (attachment.kind !== "text") {
    return [{ text: label }, {
      inlineData: { mimeType: attachment.mimeType, data: base64(bytes) },
    }];
  }
  let content: string;
  try {
    content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (content.length > TEXT_ATTACHMENT_MAX_CHARS) {
    content = `${content.slice(0, TEXT_ATTACHMENT_MAX_CHARS)}\n…(이하 생략)`;
  }
  return [{ text: `${label}\n${content}` }];
}

/**
 * A file name safe to show: no control characters or backticks (it goes inside code spans), and
 * at most {@link NAME_MAX_CHARS} characters.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(displayName("a`b\nc.txt"), "a_b_c.txt");
 * ```
 */
export function displayName(filename: string): string {
  // deno-lint-ignore no-control-regex
  const clean = filename.replace(/[\u0000-\u001f\u007f`]/g, "_");
  const chars = Array.from(clean);
  return chars.length > NAME_MAX_CHARS ? `${chars.slice(0, NAME_MAX_CHARS).join("")}…` : clean;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function extensionOf(filename: string): string {
  const lower = filename.toLowerCase();
  const dot = lower.lastIndexOf(".");
  // "Dockerfile", "Makefile": the whole name is the "extension".
  return dot < 0 ? lower : lower.slice(dot + 1);
}
