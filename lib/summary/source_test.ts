import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { HistoryMessage } from "../discord/adapter.ts";
import { buildTranscript, collectMessages, snowflakeAt, snowflakeTime } from "./source.ts";

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const MINUTE = 60_000;

/** A message `minutesAgo` before NOW; `n` keeps ids unique within one millisecond. */
function message(minutesAgo: number, content: string, extra: Partial<HistoryMessage> = {}, n = 0) {
  const at = NOW - minutesAgo * MINUTE;
  return {
    id: String(BigInt(snowflakeAt(at)) + BigInt(n)),
    authorId: "1",
    authorName: "민수",
    authorIsBot: false,
    content,
    timestamp: at,
    ...extra,
  };
}

/** A channel history paged the way Discord pages it: newest first, `before`/`after` exclusive. */
function channel(messages: HistoryMessage[]) {
  const queries: { before?: string; after?: string; limit: number }[] = [];
  const newestFirst = [...messages].sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  return {
    queries,
    getMessages(_channelId: string, query: { before?: string; after?: string; limit: number }) {
      queries.push(query);
      let page: HistoryMessage[];
      if (query.after) {
        const newer = newestFirst.filter((m) => BigInt(m.id) > BigInt(query.after!));
        page = newer.slice(Math.max(0, newer.length - query.limit));
      } else {
        page = newestFirst
          .filter((m) => !query.before || BigInt(m.id) < BigInt(query.before))
          .slice(0, query.limit);
      }
      return Promise.resolve(page);
    },
  };
}

Deno.test("snowflakeAt() and snowflakeTime() round-trip a time", () => {
  strictEqual(snowflakeTime(snowflakeAt(NOW)), NOW);
  strictEqual(snowflakeTime("175928847299117063"), 1462015105796);
});

Deno.test("collectMessages() takes the last minutes, oldest first, without bots or commands", async () => {
  const discord = channel([
    message(40, "너무 옛날 얘기"),
    message(20, "점심 뭐 먹지"),
    message(15, "봇이 한 말", { authorIsBot: true }),
    message(10, "!요약 20분"),
    message(5, "   "),
    message(1, "김밥 먹자", { authorName: "지수" }),
  ]);
  const got = await collectMessages(discord, "c", { kind: "recent", minutes: 30 }, {
    now: NOW,
    max: 300,
  });
  deepStrictEqual(got.map((m) => m.content), ["점심 뭐 먹지", "김밥 먹자"]);
});

Deno.test("collectMessages() pages 100 at a time up to max, keeping the newest", async () => {
  const history = Array.from({ length: 350 }, (_, i) => message(350 - i, `말 ${i}`, {}, i));
  const discord = channel(history);
  const got = await collectMessages(discord, "c", { kind: "recent", minutes: 1440 }, {
    now: NOW,
    max: 300,
  });
  strictEqual(got.length, 300);
  strictEqual(got[0].content, "말 50");
  strictEqual(got.at(-1)!.content, "말 349");
  deepStrictEqual(discord.queries.map((q) => q.limit), [100, 100, 100]);
  strictEqual(discord.queries[0].before, undefined);
  strictEqual(discord.queries[1].before, history[250].id);
});

Deno.test("collectMessages() stops paging at the start of the span", async () => {
  const history = Array.from({ length: 250 }, (_, i) => message(250 - i, `말 ${i}`, {}, i));
  const discord = channel(history);
  const got = await collectMessages(discord, "c", { kind: "recent", minutes: 30 }, {
    now: NOW,
    max: 300,
  });
  strictEqual(got.length, 30); // 1 to 30 minutes ago, the edge included
  strictEqual(discord.queries.length, 1);
});

Deno.test("collectMessages() reads forward after a message, for a span or until now", async () => {
  const start = message(60, "기준 메시지");
  const discord = channel([
    message(90, "그 전"),
    start,
    message(50, "십 분 뒤"),
    message(20, "사십 분 뒤"),
    message(1, "방금"),
  ]);
  const span = await collectMessages(discord, "c", {
    kind: "after",
    messageId: start.id,
    minutes: 30,
  }, { now: NOW, max: 300 });
  deepStrictEqual(span.map((m) => m.content), ["십 분 뒤"]);
  strictEqual(discord.queries[0].after, start.id);
  const untilNow = await collectMessages(discord, "c", { kind: "after", messageId: start.id }, {
    now: NOW,
    max: 300,
  });
  deepStrictEqual(untilNow.map((m) => m.content), ["십 분 뒤", "사십 분 뒤", "방금"]);
});

Deno.test("collectMessages() reads backward before a message", async () => {
  const end = message(10, "기준");
  const discord = channel([
    message(100, "너무 옛날"),
    message(50, "한 시간 안"),
    message(20, "바로 전"),
    end,
    message(5, "그 뒤"),
  ]);
  const got = await collectMessages(discord, "c", {
    kind: "before",
    messageId: end.id,
    minutes: 60,
  }, { now: NOW, max: 300 });
  deepStrictEqual(got.map((m) => m.content), ["한 시간 안", "바로 전"]);
  strictEqual(discord.queries[0].before, end.id);
});

Deno.test("collectMessages() leaves out the command's own message", async () => {
  const command = message(0, "요약해줘");
  const discord = channel([message(3, "안녕"), command]);
  const got = await collectMessages(discord, "c", { kind: "recent", minutes: 30 }, {
    now: NOW,
    max: 300,
    excludeId: command.id,
  });
  deepStrictEqual(got.map((m) => m.content), ["안녕"]);
});

Deno.test("collectMessages() does not page forever through a channel of bot chatter", async () => {
  const history = Array.from(
    { length: 2000 },
    (_, i) => message(2000 - i, "봇", { authorIsBot: true }, i),
  );
  const discord = channel(history);
  const got = await collectMessages(discord, "c", { kind: "recent", minutes: 1440 }, {
    now: NOW,
    max: 100,
  });
  strictEqual(got.length, 0);
  ok(discord.queries.length <= 6, `${discord.queries.length} pages`);
});

Deno.test("buildTranscript() joins name: content lines, one line per message", () => {
  const { transcript, included } = buildTranscript([
    { authorName: "민수", content: "안녕\n다들" },
    { authorName: "지수", content: "ㅎㅇ" },
  ], 1000);
  strictEqual(transcript, "민수: 안녕 다들\n지수: ㅎㅇ");
  strictEqual(included, 2);
});

Deno.test("buildTranscript() cuts from the oldest end to fit the budget", () => {
  const messages = Array.from({ length: 10 }, (_, i) => ({ authorName: "a", content: `${i}` }));
  const { transcript, included } = buildTranscript(messages, 16); // "a: 7\n" is 5 characters
  strictEqual(transcript, "a: 7\na: 8\na: 9");
  strictEqual(included, 3);
  ok(transcript.length <= 16);
});

Deno.test("buildTranscript() returns nothing when even the newest line is too long", () => {
  deepStrictEqual(buildTranscript([{ authorName: "a", content: "x".repeat(50) }], 10), {
    transcript: "",
    included: 0,
  });
});
