/**
 * The running memory of a channel: what a fold asks Gemini, and how its answer becomes the new
 * memory. Pure: the caller sends the request through the broker at the low priority and stores
 * the result with the window (`HistoryWindow.commitFold`, `SessionStore.saveMemory`).
 *
 * @module
 */
import type { Content, Exchange } from "./window.ts";
import { FOLD_INSTRUCTION } from "../text/prompts.ts";

/**
 * The most characters of memory kept; {@linkcode FOLD_INSTRUCTION} asks for the same "400자".
 * Korean runs near 1.5 characters a token, so that is about 270 tokens.
 */
export const MEMORY_MAX_CHARS = 400;

/** The fold's output bound in tokens: the memory's ~270 with room to finish its last line. */
export const MEMORY_MAX_TOKENS = 300;

/** How the bot's side of an exchange is labelled in the fold's transcript. */
const BOT_LABEL = "봇";

/** A fold call, shaped as the broker's request (a structural subset, so lib needs no actors). */
export interface FoldRequest {
  /** Below chat: a fold never delays an answer. */
  priority: "summary";
  /** The folding instruction in place of the persona. */
  systemInstruction: string;
  /** One user turn: the old memory and the exchanges to fold. */
  contents: Content[];
  /** Bounds the new memory's length (the broker sends the lowest thinking level with it). */
  maxOutputTokens: number;
}

/**
 * Builds the request that folds `exchanges` (oldest first, as `HistoryWindow.pending` gives
 * them) into `memory`. User lines already carry their speaker ("민수: …").
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const request = foldRequest("", [{ user: "민수: 나 내일 시험", model: "ㅇㅇ 화이팅", at: 0 }]);
 * strictEqual(request.priority, "summary");
 * strictEqual(request.contents[0].parts[0].text?.includes("봇: ㅇㅇ 화이팅"), true);
 * ```
 */
export function foldRequest(memory: string, exchanges: readonly Exchange[]): FoldRequest {
  const transcript = exchanges
    .filter((e) => e.user.trim() !== "" && e.model.trim() !== "")
    .map((e) => `${e.user.trim()}\n${BOT_LABEL}: ${e.model.trim()}`)
    .join("\n");
  const text = `[지금까지의 기억]\n${memory.trim() || "(없음)"}\n\n[밀려난 대화]\n${transcript}`;
  return {
    priority: "summary",
    systemInstruction: FOLD_INSTRUCTION,
    contents: [{ role: "user", parts: [{ text }] }],
    maxOutputTokens: MEMORY_MAX_TOKENS,
  };
}

/**
 * The new memory from a fold's answer: without code fences, headings or Discord mentions, blank
 * lines squeezed out, cut at a line boundary to {@linkcode MEMORY_MAX_CHARS}. Returns `undefined`
 * when nothing usable is left, so the caller keeps the old memory and folds again later.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(cleanMemory("## 기억\n\n- 민수: 내일 시험"), "- 민수: 내일 시험");
 * strictEqual(cleanMemory("  "), undefined);
 * ```
 */
export function cleanMemory(answer: string): string | undefined {
  const lines = answer
    .replace(/<(?:@[!&]?|#)\d+>/g, "")
    .replace(/@(everyone|here)\b/g, "$1")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("```") && !/^#{1,6}\s/.test(line));
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    const cost = length === 0 ? line.length : length + 1 + line.length;
    if (cost > MEMORY_MAX_CHARS) {
      // A first line longer than the whole budget is cut rather than lost.
      if (kept.length === 0) kept.push(Array.from(line).slice(0, MEMORY_MAX_CHARS).join(""));
      break;
    }
    kept.push(line);
    length = cost;
  }
  const memory = kept.join("\n");
  return memory === "" ? undefined : memory;
}
