import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { parseDuration, parseSummaryCommand, summaryRequestFromOptions } from "./request.ts";
import { text } from "../text/strings_ko.ts";

const ID = "1234567890123456789";

function assertError(content: string, includes: string): void {
  const result = parseSummaryCommand(content);
  ok(result !== undefined && !result.ok, `expected an error for ${content}`);
  ok(result.error.includes(includes), `"${result.error}" lacks "${includes}"`);
}

Deno.test("parseDuration() reads minutes, hours and both", () => {
  strictEqual(parseDuration("20분"), 20);
  strictEqual(parseDuration("90분"), 90);
  strictEqual(parseDuration("1시간"), 60);
  strictEqual(parseDuration("1시간30분"), 90);
  strictEqual(parseDuration("1시간 30분"), 90);
  strictEqual(parseDuration(" 2 시간 5 분 "), 125);
});

Deno.test("parseDuration() reads 반 as half an hour", () => {
  strictEqual(parseDuration("1시간 반"), 90);
  strictEqual(parseDuration("2시간반"), 150);
});

Deno.test("parseDuration() leaves bounds to the caller", () => {
  strictEqual(parseDuration("0분"), 0);
  strictEqual(parseDuration("25시간"), 1500);
});

Deno.test("parseDuration() rejects text that is not a duration", () => {
  for (
    const text of [
      "",
      "20",
      "분",
      "반",
      "1.5시간",
      "30분 1시간",
      "1시간 반 10분",
      "20분 정도",
      "20min",
    ]
  ) {
    strictEqual(parseDuration(text), undefined, text);
  }
});

Deno.test("parseSummaryCommand() ignores messages that are not the command", () => {
  for (const content of ["안녕", "요약해줘", "!요약abc", "!요약해줘", "!도움말", "!요 약", ""]) {
    strictEqual(parseSummaryCommand(content), undefined, content);
  }
});

Deno.test("parseSummaryCommand() summarizes the last 30 minutes by default", () => {
  const expected = { ok: true, request: { kind: "recent", minutes: 30 } };
  deepStrictEqual(parseSummaryCommand("!요약"), expected);
  deepStrictEqual(parseSummaryCommand("  !요약  "), expected);
});

Deno.test("parseSummaryCommand() reads the recent span in each written form", () => {
  const cases: [string, number][] = [
    ["!요약 20분", 20],
    ["!요약 1시간", 60],
    ["!요약 1시간30분", 90],
    ["!요약 1시간 30분", 90],
    ["!요약 90분", 90],
    ["!요약 20 분", 20],
    ["!요약\n2시간", 120],
    ["!요약 24시간", 1440],
  ];
  for (const [content, minutes] of cases) {
    deepStrictEqual(parseSummaryCommand(content), {
      ok: true,
      request: { kind: "recent", minutes },
    }, content);
  }
});

Deno.test("parseSummaryCommand() reads a span after a message, with or without a time", () => {
  deepStrictEqual(parseSummaryCommand(`!요약 ${ID} 이후`), {
    ok: true,
    request: { kind: "after", messageId: ID },
  });
  deepStrictEqual(parseSummaryCommand(`!요약 ${ID} 이후 30분`), {
    ok: true,
    request: { kind: "after", messageId: ID, minutes: 30 },
  });
  deepStrictEqual(parseSummaryCommand(`!요약 ${ID} 이후 1시간 30분`), {
    ok: true,
    request: { kind: "after", messageId: ID, minutes: 90 },
  });
});

Deno.test("parseSummaryCommand() reads a span before a message", () => {
  deepStrictEqual(parseSummaryCommand(`!요약 ${ID} 이전 1시간`), {
    ok: true,
    request: { kind: "before", messageId: ID, minutes: 60 },
  });
});

Deno.test("parseSummaryCommand() accepts message ids of 17 to 20 digits", () => {
  for (const id of ["1".repeat(17), "1".repeat(20)]) {
    deepStrictEqual(parseSummaryCommand(`!요약 ${id} 이후`), {
      ok: true,
      request: { kind: "after", messageId: id },
    });
  }
});

Deno.test("parseSummaryCommand() asks for a time before a message", () => {
  assertError(`!요약 ${ID} 이전`, "이전 요약은 시간을 같이 적어줘");
});

Deno.test("parseSummaryCommand() rejects message ids of the wrong length", () => {
  assertError(`!요약 ${"1".repeat(16)} 이후`, "17~20자리");
  assertError(`!요약 ${"1".repeat(21)} 이후`, "17~20자리");
  assertError("!요약 123456", "17~20자리");
});

Deno.test("parseSummaryCommand() asks for 이후 or 이전 after a message id", () => {
  assertError(`!요약 ${ID}`, "`이후`나 `이전`");
  assertError(`!요약 ${ID} 다음`, "사용법");
});

Deno.test("parseSummaryCommand() asks for a unit on a bare number", () => {
  assertError("!요약 20", "단위");
  assertError(`!요약 ${ID} 이후 20`, "단위");
});

Deno.test("parseSummaryCommand() keeps the time between 1 minute and 24 hours", () => {
  for (const content of ["!요약 0분", "!요약 25시간", "!요약 1441분", `!요약 ${ID} 이전 0분`]) {
    assertError(content, "1분부터 24시간");
  }
});

Deno.test("parseSummaryCommand() explains usage on unknown words", () => {
  for (
    const content of [
      "!요약 어제",
      "!요약 20분 부탁해",
      "!요약 1시간 30분 정도",
      `!요약 ${ID} 이후 조금`,
      `!요약 ${ID} 이전 1시간 뭐`,
    ]
  ) {
    assertError(content, "사용법");
  }
});

Deno.test("summaryRequestFromOptions() reads /summarize options like !요약", () => {
  deepStrictEqual(summaryRequestFromOptions({}), {
    ok: true,
    request: { kind: "recent", minutes: 30 },
  });
  deepStrictEqual(summaryRequestFromOptions({ minutes: 90 }), {
    ok: true,
    request: { kind: "recent", minutes: 90 },
  });
  deepStrictEqual(summaryRequestFromOptions({ after: ID }), {
    ok: true,
    request: { kind: "after", messageId: ID },
  });
  deepStrictEqual(summaryRequestFromOptions({ after: ID, minutes: 30 }), {
    ok: true,
    request: { kind: "after", messageId: ID, minutes: 30 },
  });
  deepStrictEqual(summaryRequestFromOptions({ before: ID, minutes: 60 }), {
    ok: true,
    request: { kind: "before", messageId: ID, minutes: 60 },
  });
});

Deno.test("summaryRequestFromOptions() explains bad options in Korean", () => {
  const error = (options: Parameters<typeof summaryRequestFromOptions>[0]) => {
    const result = summaryRequestFromOptions(options);
    return result.ok ? undefined : result.error;
  };
  strictEqual(error({ before: ID }), text.summaryErrors.beforeNeedsTime);
  strictEqual(error({ after: "abc" }), text.summaryErrors.messageId);
  strictEqual(error({ after: ID, before: ID }), text.summaryErrors.afterAndBefore);
  strictEqual(error({ minutes: 0 }), text.summaryErrors.range);
  strictEqual(error({ minutes: 2000 }), text.summaryErrors.range);
});
