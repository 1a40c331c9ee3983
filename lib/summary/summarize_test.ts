import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { BrokerRequest, BrokerResult } from "../broker/port.ts";
import type { HistoryMessage } from "../discord/adapter.ts";
import { SUMMARY_INSTRUCTION } from "../text/prompts.ts";
import { text } from "../text/strings_ko.ts";
import { summarize } from "./summarize.ts";
import { MemorySummaryCache, SUMMARY_CACHE_MS } from "./cache.ts";
import type { SummaryRequest } from "./request.ts";
import { snowflakeAt } from "./source.ts";

const RECENT: SummaryRequest = { kind: "recent", minutes: 30 };

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const USAGE = { promptTokens: 10, cachedTokens: 0, outputTokens: 5, thinkingTokens: 0 };

function said(minutesAgo: number, authorName: string, content: string): HistoryMessage {
  const at = NOW - minutesAgo * 60_000;
  return {
    id: snowflakeAt(at),
    authorId: "1",
    authorName,
    authorIsBot: false,
    content,
    timestamp: at,
  };
}

/** Summarizes the last 30 minutes of `history` with Gemini answering `result`. */
async function run(history: HistoryMessage[], result: BrokerResult, excludeId?: string) {
  const asked: BrokerRequest[] = [];
  const reply = await summarize("42", { kind: "recent", minutes: 30 }, {
    discord: { getMessages: () => Promise.resolve([...history].reverse()) },
    generate: (request) => (asked.push(request), Promise.resolve(result)),
    maxMessages: 300,
    excludeId,
    now: NOW,
  });
  return { reply, asked };
}

Deno.test("summarize() sends the transcript with the summary instruction and adds a header", async () => {
  const history = [said(20, "민수", "내일 몇 시?"), said(10, "지수", "세 시")];
  const { reply, asked } = await run(history, {
    ok: true,
    text: "- 내일 세 시에 만나기로 함\n",
    usage: USAGE,
    attempts: 1,
  });
  strictEqual(reply, `${text.summaryHeaderRecent(30, 2)}\n- 내일 세 시에 만나기로 함`);
  strictEqual(asked.length, 1);
  strictEqual(asked[0].priority, "summary");
  strictEqual(asked[0].systemInstruction, SUMMARY_INSTRUCTION);
  deepStrictEqual(asked[0].contents, [
    { role: "user", parts: [{ text: "민수: 내일 몇 시?\n지수: 세 시" }] },
  ]);
});

Deno.test("summarize() leaves the command's own message out", async () => {
  const command = said(1, "민수", "요약해 줘");
  const { asked } = await run([said(5, "지수", "안녕"), command], {
    ok: true,
    text: "- 인사",
    usage: USAGE,
    attempts: 1,
  }, command.id);
  deepStrictEqual(asked[0].contents[0].parts, [{ text: "지수: 안녕" }]);
});

Deno.test("summarize() says so when there is nothing to summarise, without asking Gemini", async () => {
  const { reply, asked } = await run([], { ok: false, reason: "unavailable" });
  strictEqual(reply, text.summaryNothing);
  strictEqual(asked.length, 0);
});

Deno.test("summarize() turns no answer into a notice", async () => {
  const history = [said(5, "민수", "안녕")];
  const empty = await run(history, { ok: true, text: "  ", usage: USAGE, attempts: 1 });
  strictEqual(empty.reply, text.summaryFailed);
  const unavailable = await run(history, { ok: false, reason: "unavailable" });
  strictEqual(unavailable.reply, text.summaryFailed);
  const blocked = await run(history, { ok: false, reason: "blocked" });
  strictEqual(blocked.reply, text.blocked);
});

Deno.test("summarize() answers the same range again from the cache, without asking, and says so", async () => {
  const cache = new MemorySummaryCache();
  const history = [said(20, "민수", "내일 몇 시?"), said(10, "지수", "세 시")];
  const asked: BrokerRequest[] = [];
  const ask = (messages: HistoryMessage[], now: number, request: SummaryRequest = RECENT) =>
    summarize("42", request, {
      discord: { getMessages: () => Promise.resolve([...messages].reverse()) },
      generate: (
        r,
      ) => (asked.push(r),
        Promise.resolve({ ok: true, text: "- 세 시", usage: USAGE, attempts: 1 })),
      maxMessages: 300,
      now,
      cache,
    });
  const first = await ask(history, NOW);
  strictEqual(await ask(history, NOW + 30_000), `${first}\n${text.summaryCached(0)}`);
  strictEqual(await ask(history, NOW + 150_000), `${first}\n${text.summaryCached(2)}`);
  strictEqual(asked.length, 1, "answered twice from the cache");
  // A different range, new messages, or a summary grown old: made afresh.
  await ask(history, NOW + 160_000, { kind: "recent", minutes: 60 });
  await ask([...history, said(0, "민수", "좋아")], NOW + 170_000);
  await ask(history, NOW + SUMMARY_CACHE_MS + 1);
  strictEqual(asked.length, 4);
});

Deno.test("summarize() caches only a summary, never a failure", async () => {
  const cache = new MemorySummaryCache();
  const history = [said(5, "민수", "안녕")];
  const results: BrokerResult[] = [
    { ok: false, reason: "unavailable" },
    { ok: true, text: "- 인사", usage: USAGE, attempts: 1 },
  ];
  const ask = () =>
    summarize("42", RECENT, {
      discord: { getMessages: () => Promise.resolve([...history]) },
      generate: () => Promise.resolve(results.shift()!),
      maxMessages: 300,
      now: NOW,
      cache,
    });
  strictEqual(await ask(), text.summaryFailed);
  strictEqual(await ask(), `${text.summaryHeaderRecent(30, 1)}\n- 인사`);
});
