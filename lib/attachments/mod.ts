/**
 * Attachments: the files on a message, as the model may read them.
 *
 * Owns which files are accepted (kinds, counts, sizes), fetching them from Discord's CDN only, and
 * turning them into parts for Gemini (a GIF's first frame as PNG, text cut to a limit).
 *
 * @module
 */
export { AttachmentBudget } from "./budget.ts";
export { attachmentOrigins, fetchAttachment } from "./fetch.ts";
export type { FetchedAttachment } from "./fetch.ts";
export { bytesMatchType } from "./file_sniff.ts";
export { GifDecoder } from "./gif_decoder.ts";
export type { GifConversion } from "./gif_frame.ts";
export { attachmentNote, attachmentParts, displayName, planTurnAttachments } from "./plan.ts";
export type { Attachment, AttachmentLimits, PlannedAttachment } from "./plan.ts";
