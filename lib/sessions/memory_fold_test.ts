import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Exchange } from "./window.ts";
import { cleanMemory, foldRequest, MEMORY_MAX_CHARS, MEMORY_MAX_TOKENS } from "./memory_fold.ts";
import { FOLD_INSTRUCTION } from "../text/prompts.ts";

const exchanges: Exchange[] = [
  { user: "민수: 나 다음 주 금요일에 시험이야", model: "ㅇㅇ 망하지 마", at: 1 },
  { user: "지수: 우리 토요일에 같이 게임하기로 했지?", model: "응 8시", at: 2 },
];

Deno.test("foldRequest asks at the low priority, under the fold instruction, with a bound", () => {
  const request = foldRequest("", exchanges);
  strictEqual(request.priority, "summary");
  strictEqual(request.systemInstruction, FOLD_INSTRUCTION);
  strictEqual(request.maxOutputTokens, MEMORY_MAX_TOKENS);
  deepStrictEqual(request.contents.map((c) => c.role), ["user"]);
});

Deno.test("foldRequest carries the old memory and the exchanges, oldest first, with speakers", () => {
  const text = foldRequest("- 민수: 고1", exchanges).contents[0].parts[0].text;
  strictEqual(
    text,
    "[지금까지의 기억]\n- 민수: 고1\n\n[밀려난 대화]\n" +
      "민수: 나 다음 주 금요일에 시험이야\n봇: ㅇㅇ 망하지 마\n" +
      "지수: 우리 토요일에 같이 게임하기로 했지?\n봇: 응 8시",
  );
  strictEqual(foldRequest(" ", []).contents[0].parts[0].text?.includes("(없음)"), true);
});

Deno.test("foldRequest leaves out an exchange with a blank side", () => {
  const text = foldRequest("", [{ user: "민수: 안녕", model: " ", at: 0 }, exchanges[1]])
    .contents[0].parts[0].text ?? "";
  strictEqual(text.includes("안녕"), false);
  strictEqual(text.includes("8시"), true);
});

Deno.test("cleanMemory strips fences, headings, mentions and blank lines", () => {
  strictEqual(
    cleanMemory(
      "```\n## 기억\n- 민수 <@123456789012345678>: 시험\n\n- @everyone 토요일 8시 게임\n```",
    ),
    "- 민수 : 시험\n- everyone 토요일 8시 게임",
  );
});

Deno.test("cleanMemory cuts at a line boundary within MEMORY_MAX_CHARS", () => {
  const line = `- ${"가".repeat(98)}`; // 100 characters
  const memory = cleanMemory(Array(6).fill(line).join("\n"))!;
  strictEqual(memory.length <= MEMORY_MAX_CHARS, true);
  strictEqual(memory.split("\n").length, 3); // 3 × 100 + 2 newlines; a fourth would pass 400
  strictEqual(cleanMemory("나".repeat(1000))!.length, MEMORY_MAX_CHARS);
});

Deno.test("cleanMemory gives undefined for an answer with nothing to keep", () => {
  strictEqual(cleanMemory(""), undefined);
  strictEqual(cleanMemory("```\n\n```"), undefined);
});
