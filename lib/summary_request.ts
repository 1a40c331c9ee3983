/**
 * Parsing the `!요약` command as Korean users type it.
 *
 * @module
 */

/** What to summarize: the last minutes, or a span after or before a message. */
export type SummaryRequest =
  | { kind: "recent"; minutes: number }
  | { kind: "after"; messageId: string; minutes?: number }
  | { kind: "before"; messageId: string; minutes: number };

/** The result of {@linkcode parseSummaryCommand} for a `!요약` command. */
export type SummaryParseResult =
  | { ok: true; request: SummaryRequest }
  | { ok: false; error: string };

const COMMAND = "!요약";
const DEFAULT_MINUTES = 30;
const MAX_MINUTES = 24 * 60;
const MESSAGE_ID = /^\d{17,20}$/;
const DURATION = /^(?:(\d+)\s*시간\s*(반)?)?\s*(?:(\d+)\s*분)?$/;

const USAGE = "사용법: `!요약`, `!요약 20분`, `!요약 1시간 30분`, " +
  "`!요약 <메시지ID> 이후 30분`, `!요약 <메시지ID> 이전 1시간`";
const ERRORS = {
  usage: `무슨 뜻인지 모르겠어. ${USAGE}`,
  unit: "시간에는 단위를 붙여줘. 예: `!요약 20분`, `!요약 1시간`",
  messageId: "메시지 ID는 17~20자리 숫자야. 메시지를 우클릭해서 `ID 복사`로 가져와줘.",
  direction: "메시지 ID 뒤에 `이후`나 `이전`을 적어줘. 예: `!요약 <메시지ID> 이후 30분`",
  beforeNeedsTime: "이전 요약은 시간을 같이 적어줘. 예: `!요약 <메시지ID> 이전 1시간`",
  range: "시간은 1분부터 24시간(1440분)까지 정할 수 있어.",
};

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
