/**
 * Parsing the `!요약` command as Korean users type it.
 *
 * @module
 */
import { text as strings } from "../text/strings_ko.ts";

/** What to summarize: the last minutes, or a span after or before a message. */
export type SummaryRequest =
  | { kind: "recent"; minutes: number }
  | { kind: "after"; messageId: string; minutes?: number }
  | { kind: "before"; messageId: string; minutes: number };

/** The result of {@linkcode parseSummaryCommand} for a `!요약` command. */
export type SummaryParseResult =
  | { ok: true; request: SummaryRequest }
  | { ok: false; error: string };

const COMMAND = strings.textCommands.summarize;
const DEFAULT_MINUTES = 30;
const MAX_MINUTES = 24 * 60;
const MESSAGE_ID = /^\d{17,20}$/;
const DURATION = /^(?:(\d+)\s*시간\s*(반)?)?\s*(?:(\d+)\s*분)?$/;

const ERRORS = strings.summaryErrors;

/**
 * Reads minutes from a Korean duration: `20분`, `1시간`, `1시간30분`, `1시간 30분`, `1시간 반`.
 *
 * Returns `undefined` for anything else; bounds are the caller's to check.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(parseDuration("1시간 30분"), 90);
 * strictEqual(parseDuration("30"), undefined);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, hours, half, minutes] = match;
  if (hours === undefined && minutes === undefined) return undefined;
  if (half !== undefined && minutes !== undefined) return undefined;
  return Number(hours ?? 0) * 60 + (half ? 30 : 0) + Number(minutes ?? 0);
}

/**
 * Parses a `!요약` command; `undefined` when `content` is not one.
 *
 * On bad arguments, the error is a short Korean message to show the user.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * deepStrictEqual(parseSummaryCommand("!요약 1시간"), {
 *   ok: true,
 *   request: { kind: "recent", minutes: 60 },
 * });
 * strictEqual(parseSummaryCommand("안녕"), undefined);
 * ```
 */
export function parseSummaryCommand(content: string): SummaryParseResult | undefined {
  const text = content.trim();
  if (!text.startsWith(COMMAND)) return undefined;
  const rest = text.slice(COMMAND.length);
  if (rest !== "" && !/^\s/.test(rest)) return undefined;
  const words = rest.trim().split(/\s+/).filter((word) => word !== "");

  if (words.length === 0) return success({ kind: "recent", minutes: DEFAULT_MINUTES });
  const [first, direction, ...durationWords] = words;
  const looksLikeId = /^\d{5,}$/.test(first);
  if (!looksLikeId) {
    const minutes = parseMinutes(words.join(" "));
    return typeof minutes === "string" ? failure(minutes) : success({ kind: "recent", minutes });
  }
  if (!MESSAGE_ID.test(first)) return failure(ERRORS.messageId);
  if (direction !== "이후" && direction !== "이전") {
    return failure(direction === undefined ? ERRORS.direction : ERRORS.usage);
  }

  const messageId = first;
  if (durationWords.length === 0) {
    return direction === "이후"
      ? success({ kind: "after", messageId })
      : failure(ERRORS.beforeNeedsTime);
  }
  const minutes = parseMinutes(durationWords.join(" "));
  if (typeof minutes === "string") return failure(minutes);
  return success({ kind: direction === "이후" ? "after" : "before", messageId, minutes });
}

/** The options of the `/summarize` slash command, as Discord sends them. */
export interface SummaryOptions {
  /** Minutes covered: back from now or `before`, or on from `after`; 1 to 1440. */
  minutes?: number;
  /** Summarise from after this message id; not together with `before`. */
  after?: string;
  /** Summarise up to this message id; needs `minutes`. */
  before?: string;
}

/**
 * Turns `/summarize` options into a request, with the same rules and errors as `!요약`.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(summaryRequestFromOptions({ minutes: 20 }), {
 *   ok: true,
 *   request: { kind: "recent", minutes: 20 },
 * });
 * ```
 */
export function summaryRequestFromOptions(options: SummaryOptions): SummaryParseResult {
  const { minutes, after, before } = options;
  if (
    minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES)
  ) {
    return failure(ERRORS.range);
  }
  if (after !== undefined && before !== undefined) return failure(ERRORS.afterAndBefore);
  const messageId = (after ?? before)?.trim();
  if (messageId === undefined) {
    return success({ kind: "recent", minutes: minutes ?? DEFAULT_MINUTES });
  }
  if (!MESSAGE_ID.test(messageId)) return failure(ERRORS.messageId);
  if (after !== undefined) {
    return success(
      minutes === undefined ? { kind: "after", messageId } : { kind: "after", messageId, minutes },
    );
  }
  if (minutes === undefined) return failure(ERRORS.beforeNeedsTime);
  return success({ kind: "before", messageId, minutes });
}

/** Minutes within bounds, or the error to show. */
function parseMinutes(text: string): number | string {
  const minutes = parseDuration(text);
  if (minutes === undefined) return /^\d+$/.test(text) ? ERRORS.unit : ERRORS.usage;
  if (minutes < 1 || minutes > MAX_MINUTES) return ERRORS.range;
  return minutes;
}

function success(request: SummaryRequest): SummaryParseResult {
  return { ok: true, request };
}

function failure(error: string): SummaryParseResult {
  return { ok: false, error };
}
