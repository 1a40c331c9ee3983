/**
 * Splitting a long reply into Discord-sized messages without breaking code blocks.
 *
 * Length is counted in Unicode code points (`[...text].length`), not UTF-16 code units: Discord's
 * API is written in Python 3 and counts code points (discord/discord-api-docs#1315), so an emoji
 * such as 😀 (two UTF-16 units) counts as one. Hangul syllables are one code point and one UTF-16
 * unit, so Korean text measures the same either way. Hard cuts never split a surrogate pair.
 *
 * @module
 */

/** Options for {@linkcode splitMessage}. */
export interface SplitMessageOptions {
  /**
   * Largest chunk, in code points, including any fences added to close and reopen a code block.
   * @default {2000}
   */
  maxLength?: number;
}

/** Whether the end of a text is inside a fenced code block, and that block's language tag. */
export interface CodeBlockState {
  /** True when a code fence has been opened and not closed. */
  open: boolean;
  /** The language tag of the open block, such as `"ts"`, or `""`. */
  lang: string;
}

const DEFAULT_MAX_LENGTH = 2000;
const FENCE = "```";
const CLOSING = "\n" + FENCE;
const CLOSED: CodeBlockState = { open: false, lang: "" };
/** A run of three or more backticks toggles a code block, as Discord renders it. */
const FENCE_RUN = /`{3,}/g;
/** A language tag directly after an opening fence, ended by a newline (Discord's rule). */
const LANG = /^([A-Za-z0-9_+\-.#]+)[ \t]*\r?\n/;

/**
 * Tells whether `text` ends inside a fenced code block, and with which language tag.
 *
 * Useful while streaming: close the fence of a partial reply before showing it.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const fence = "`".repeat(3);
 * deepStrictEqual(isInsideCodeBlock(`보세요:\n${fence}ts\nlet a`), { open: true, lang: "ts" });
 * deepStrictEqual(isInsideCodeBlock(`${fence}\nlet a\n${fence}`), { open: false, lang: "" });
 * ```
 */
export function isInsideCodeBlock(text: string): CodeBlockState {
  const { open, lang } = scanFences(text, CLOSED);
  return { open, lang };
}

/**
 * Splits `text` into chunks of at most `maxLength` code points for Discord.
 *
 * Cuts at a paragraph break, else a line break, else a space; a single token longer than a chunk
 * is hard-cut. A chunk that ends inside a fenced code block gets a closing fence, and the next chunk
 * reopens it with the same language tag. Whitespace-only chunks are dropped, so `""` gives `[]`;
 * a text that fits is returned unchanged as `[text]`.
 *
 * @throws {RangeError} If `maxLength` is not a positive integer, or too small to hold a fence.
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(splitMessage("첫 문단입니다.\n\n둘째 문단입니다.", { maxLength: 12 }), [
 *   "첫 문단입니다.",
 *   "둘째 문단입니다.",
 * ]);
 * ```
 */
export function splitMessage(text: string, options: SplitMessageOptions = {}): string[] {
  return splitMessageParts(text, options).map((part) => part.content);
}

/** One message of a split text, and the slice of the text it shows. */
export interface MessagePart {
  /** The message to post, with any fences added to close or reopen a code block. */
  content: string;
  /**
   * The slice of the source text this message stands for, separators and fences dropped at the
   * cut included, so that the sources of consecutive parts join back into the text.
   */
  source: string;
}

/**
 * Splits `text` as {@linkcode splitMessage} does, and says which slice of `text` each chunk
 * shows: joining every part's `source` gives `text` back (a whitespace-only text has no parts).
 * Lets a caller that posted only some chunks tell exactly which text a reader has seen.
 *
 * @throws {RangeError} If `maxLength` is not a positive integer, or too small to hold a fence.
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(splitMessageParts("첫 문단입니다.\n\n둘째 문단입니다.", { maxLength: 12 }), [
 *   { content: "첫 문단입니다.", source: "첫 문단입니다.\n\n" },
 *   { content: "둘째 문단입니다.", source: "둘째 문단입니다." },
 * ]);
 * ```
 */
export function splitMessageParts(text: string, options: SplitMessageOptions = {}): MessagePart[] {
  const { maxLength = DEFAULT_MAX_LENGTH } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(
      `Cannot split message as 'maxLength' must be a positive integer: current value is ${maxLength}`,
    );
  }
  const parts: MessagePart[] = [];
  /** Source of dropped whitespace-only chunks before the first kept one. */
  let unclaimed = "";
  // `rest` only ever loses characters at its start, so it stays a suffix of `text`.
  const push = (prefix: string, body: string, suffix: string, start: number, end: number) => {
    const source = text.slice(start, end);
    if (body.trim() !== "") {
      parts.push({ content: prefix + body + suffix, source: unclaimed + source });
      unclaimed = "";
    } else if (parts.length > 0) parts[parts.length - 1].source += source;
    else unclaimed += source;
  };
  let state = CLOSED;
  let rest = text;
  while (rest.length > 0) {
    const start = text.length - rest.length;
    let prefix = state.open ? `${FENCE}${state.lang}\n` : "";
    if (codePointLength(prefix) + codePointLength(rest) <= maxLength) {
      push(prefix, rest, "", start, text.length);
      break;
    }
    if (state.open && maxLength - codePointLength(prefix) - CLOSING.length < 1) {
      prefix = `${FENCE}\n`;
    }
    const budget = maxLength - codePointLength(prefix);
    // Try the whole budget first; reserve room for a closing fence only if the chunk needs one.
    let { end, skip } = findCut(rest, state, budget);
    let body = rest.slice(0, end);
    let after = scanFences(body, state);
    if (after.open) {
      if (budget - CLOSING.length < 1) {
        throw new RangeError(
          `Cannot split a code block as 'maxLength' leaves no room inside its fences: current value is ${maxLength}`,
        );
      }
      ({ end, skip } = findCut(rest, state, budget - CLOSING.length));
      body = rest.slice(0, end);
      after = scanFences(body, state);
    }
    state = after.open ? after : CLOSED;
    rest = rest.slice(end + skip);
    if (state.open) {
      // The fence just added closes the block: drop the original closing fence if it comes next.
      const closing = /^\s*`{3,}/.exec(rest);
      if (closing) [state, rest] = [CLOSED, rest.slice(closing[0].length)];
    }
    if (!state.open) rest = rest.replace(/^\n+/, "");
    push(prefix, body, after.open ? CLOSING : "", start, text.length - rest.length);
  }
  return parts;
}

/** A cut: the chunk is `rest.slice(0, end)`; `skip` separator characters are dropped after it. */
interface Cut {
  end: number;
  skip: number;
}

/** Picks where to end a chunk of at most `budget` code points of `rest`. */
function findCut(rest: string, state: CodeBlockState, budget: number): Cut {
  const limit = indexAfterCodePoints(rest, budget);
  const acceptable = (end: number) => end > 0 && !endsAtOpening(rest.slice(0, end), state);

  const paragraph = rest.lastIndexOf("\n\n", limit);
  if (paragraph >= limit / 2 && acceptable(paragraph)) return { end: paragraph, skip: 2 };
  for (let i = rest.lastIndexOf("\n", limit); i > 0; i = rest.lastIndexOf("\n", i - 1)) {
    if (acceptable(i)) return { end: i, skip: 1 };
  }
  for (let i = lastSpace(rest, limit); i > 0; i = lastSpace(rest, i - 1)) {
    if (acceptable(i)) return { end: i, skip: 1 };
  }
  return { end: hardCut(rest, limit), skip: 0 };
}

/** Index of the last space or tab at or before `from`, or -1. */
function lastSpace(text: string, from: number): number {
  return Math.max(text.lastIndexOf(" ", from), text.lastIndexOf("\t", from));
}

/** Moves a hard cut at `limit` back so that it does not split a run of backticks. */
function hardCut(rest: string, limit: number): number {
  let end = limit;
  while (end > 0 && rest[end - 1] === "`" && rest[end] === "`") end--;
  return end > 0 ? end : limit;
}

/** True when `body` ends right after a fence that opens a block, which would show it empty. */
function endsAtOpening(body: string, state: CodeBlockState): boolean {
  const { open, openedAt } = scanFences(body, state);
  return open && openedAt >= 0 && /^[A-Za-z0-9_+\-.#]*\s*$/.test(body.slice(openedAt));
}

/** Follows the code fences of `text` from `start`; `openedAt` is where the open block's text begins. */
function scanFences(
  text: string,
  start: CodeBlockState,
): CodeBlockState & { openedAt: number } {
  let state = { ...start, openedAt: -1 };
  for (const match of text.matchAll(FENCE_RUN)) {
    if (state.open) {
      state = { open: false, lang: "", openedAt: -1 };
      continue;
    }
    const openedAt = match.index + match[0].length;
    const lang = LANG.exec(text.slice(openedAt))?.[1] ?? "";
    state = { open: true, lang, openedAt };
  }
  return state;
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** The UTF-16 index just after the first `count` code points of `text`. */
function indexAfterCodePoints(text: string, count: number): number {
  let index = 0;
  for (const char of text) {
    if (count-- <= 0) break;
    index += char.length;
  }
  return index;
}
