/**
 * Replies: how an answer is shown in Discord.
 *
 * Owns the reply stream (an answer shown as it grows, edits paced, split at Discord's length limit,
 * marked when cut short) and the ⏳ countdown a waiting user sees.
 *
 * @module
 */
export { Countdown } from "./countdown.ts";
export { splitMessage } from "./split_message.ts";
export { ReplyStream } from "./stream.ts";
