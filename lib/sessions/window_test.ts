import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { type Exchange, HistoryWindow, MAX_EXCHANGES } from "./window.ts";
import { MEMORY_ACK, MEMORY_PREAMBLE } from "../text/prompts.ts";

const exchange = (i: number): Exchange => ({ user: `질문 ${i}`, model: `답변 ${i}`, at: i * 1000 });

Deno.test("HistoryWindow sliding by one keeps the last 20 exchanges in order after 25 adds", () => {
  const history = new HistoryWindow([], { dropBlock: 1 });
  for (let i = 1; i <= 25; i++) history.add(exchange(i));
  strictEqual(history.size, 20);
  deepStrictEqual(
    history.exchanges.map((e) => e.at),
    Array.from({ length: 20 }, (_, i) => (i + 6) * 1000),
  );
});

Deno.test("HistoryWindow honours a custom maxExchanges", () => {
  const history = new HistoryWindow([], { maxExchanges: 2, dropBlock: 1 });
  for (let i = 1; i <= 3; i++) history.add(exchange(i));
  strictEqual(history.maxExchanges, 2);
  deepStrictEqual(history.exchanges, [exchange(2), exchange(3)]);
});

Deno.test("HistoryWindow keeps only the newest stored exchanges in its window", () => {
  const stored = Array.from({ length: 30 }, (_, i) => exchange(i + 1));
  const history = new HistoryWindow(stored, { dropBlock: 10 });
  strictEqual(history.size, 20);
  deepStrictEqual(history.exchanges[0], exchange(11));
  deepStrictEqual(history.pending[0], exchange(1));
  strictEqual(stored.length, 30);
});

Deno.test("HistoryWindow rejects a maxExchanges that is not a positive integer", () => {
  throws(() => new HistoryWindow([], { maxExchanges: 0 }), RangeError);
  throws(() => new HistoryWindow([], { maxExchanges: 2.5 }), RangeError);
});

Deno.test("HistoryWindow.exchanges is a snapshot unaffected by later adds", () => {
  const history = new HistoryWindow([], { maxExchanges: 1 });
  history.add(exchange(1));
  const before = history.exchanges;
  history.add(exchange(2));
  deepStrictEqual(before, [exchange(1)]);
});

Deno.test("HistoryWindow.toContents() alternates user and model turns, oldest first", () => {
  const history = new HistoryWindow([exchange(1), exchange(2)]);
  deepStrictEqual(history.toContents(), [
    { role: "user", parts: [{ text: "질문 1" }] },
    { role: "model", parts: [{ text: "답변 1" }] },
    { role: "user", parts: [{ text: "질문 2" }] },
    { role: "model", parts: [{ text: "답변 2" }] },
  ]);
});

Deno.test("HistoryWindow.toContents() ends with the new user text when given", () => {
  const history = new HistoryWindow([exchange(1)]);
  const contents = history.toContents("오늘 날씨 어때?");
  deepStrictEqual(contents.map((c) => c.role), ["user", "model", "user"]);
  deepStrictEqual(contents.at(-1), { role: "user", parts: [{ text: "오늘 날씨 어때?" }] });
  deepStrictEqual(new HistoryWindow().toContents("안녕"), [
    { role: "user", parts: [{ text: "안녕" }] },
  ]);
});

Deno.test("HistoryWindow.toContents() leaves out an exchange with a blank side", () => {
  const history = new HistoryWindow([
    exchange(1),
    { user: "질문", model: " ", at: 0 },
    exchange(2),
  ]);
  deepStrictEqual(history.toContents("다음").map((c) => c.parts[0].text), [
    "질문 1",
    "답변 1",
    "질문 2",
    "답변 2",
    "다음",
  ]);
});

Deno.test("HistoryWindow drops the oldest block at once when it overflows, and returns it", () => {
  const history = new HistoryWindow([], { maxExchanges: 20, dropBlock: 10 });
  const left: Exchange[][] = [];
  for (let i = 1; i <= 21; i++) left.push(history.add(exchange(i)));
  deepStrictEqual(left.slice(0, 20).flat(), []);
  deepStrictEqual(left[20].map((e) => e.at / 1000), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  strictEqual(history.size, 11);
  deepStrictEqual(history.exchanges[0], exchange(11));
  deepStrictEqual(history.pending.map((e) => e.at / 1000), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

Deno.test("HistoryWindow keeps the start of its contents still between block drops", () => {
  const history = new HistoryWindow([], { maxExchanges: 20, dropBlock: 10 });
  for (let i = 1; i <= 21; i++) history.add(exchange(i));
  const before = history.toContents("다음");
  for (let i = 22; i <= 30; i++) history.add(exchange(i));
  const after = history.toContents("다음");
  // Every turn until the next drop starts with what the previous turn sent (bar its last line).
  deepStrictEqual(after.slice(0, before.length - 1), before.slice(0, -1));
  strictEqual(history.size, 20);
  strictEqual(history.add(exchange(31)).length, 10);
  deepStrictEqual(history.exchanges[0], exchange(21));
});

Deno.test("HistoryWindow with dropBlock 1 is the sliding window of today", () => {
  const history = new HistoryWindow([], { maxExchanges: 20, dropBlock: 1 });
  for (let i = 1; i <= 25; i++) history.add(exchange(i));
  strictEqual(history.size, 20);
  deepStrictEqual(history.exchanges[0], exchange(6));
  deepStrictEqual(history.add(exchange(26)), [exchange(6)]);
});

Deno.test("HistoryWindow holds MAX_EXCHANGES and slides by one unless given a block", () => {
  const history = new HistoryWindow();
  strictEqual(history.maxExchanges, MAX_EXCHANGES);
  strictEqual(history.dropBlock, 1);
});

Deno.test("HistoryWindow rejects a dropBlock outside 1..maxExchanges and a negative maxPending", () => {
  throws(() => new HistoryWindow([], { maxExchanges: 20, dropBlock: 0 }), RangeError);
  throws(
    () => new HistoryWindow([], { maxExchanges: 20, dropBlock: 21 }),
    /at most 'maxExchanges'/,
  );
  throws(() => new HistoryWindow([], { maxPending: -1 }), RangeError);
});

Deno.test("HistoryWindow.commitFold replaces the memory and lets the folded exchanges go", () => {
  const history = new HistoryWindow([], { maxExchanges: 4, dropBlock: 2 });
  for (let i = 1; i <= 5; i++) history.add(exchange(i));
  const folding = history.pending;
  // The fold is slow: another block leaves before it lands, and waits for the next fold.
  for (let i = 6; i <= 7; i++) history.add(exchange(i));
  deepStrictEqual(history.pending.map((e) => e.at / 1000), [1, 2, 3, 4]);
  strictEqual(history.commitFold("- 기억", folding), 2);
  strictEqual(history.memory, "- 기억");
  deepStrictEqual(history.pending.map((e) => e.at / 1000), [3, 4]);
  strictEqual(history.storedSize, 2 + history.size);
});

Deno.test("HistoryWindow.commitFold matches folded exchanges that crossed a worker as copies", () => {
  const history = new HistoryWindow([], { maxExchanges: 2, dropBlock: 2 });
  for (let i = 1; i <= 3; i++) history.add(exchange(i));
  strictEqual(history.commitFold("m", structuredClone(history.pending)), 2);
  deepStrictEqual(history.pending, []);
});

Deno.test("HistoryWindow forgets the oldest pending block beyond maxPending", () => {
  const history = new HistoryWindow([], { maxExchanges: 4, dropBlock: 2, maxPending: 4 });
  for (let i = 1; i <= 9; i++) history.add(exchange(i));
  // Three blocks left (1-2, 3-4, 5-6) with no fold: only the newest two wait.
  deepStrictEqual(history.pending.map((e) => e.at / 1000), [3, 4, 5, 6]);
  const none = new HistoryWindow([], { maxExchanges: 2, dropBlock: 1, maxPending: 0 });
  for (let i = 1; i <= 3; i++) none.add(exchange(i));
  deepStrictEqual(none.pending, []);
  strictEqual(none.storedSize, 2);
});

Deno.test("HistoryWindow restored from its storedSize exchanges has the same window and pending", () => {
  for (const dropBlock of [1, 3, 10, 20]) {
    const live = new HistoryWindow([], { dropBlock });
    const stored: Exchange[] = [];
    for (let i = 1; i <= 57; i++) {
      const e = exchange(i);
      live.add(e);
      stored.push(e);
      if (i % 13 === 0) live.commitFold(`m${i}`, live.pending);
      const kept = stored.slice(stored.length - live.storedSize);
      const restored = new HistoryWindow(kept, { dropBlock, memory: live.memory });
      deepStrictEqual(restored.exchanges, live.exchanges, `dropBlock ${dropBlock}, turn ${i}`);
      deepStrictEqual(restored.pending, live.pending, `dropBlock ${dropBlock}, turn ${i}`);
      deepStrictEqual(restored.toContents("x"), live.toContents("x"));
    }
  }
});

Deno.test("HistoryWindow.has() finds a command id in the window and among the pending", () => {
  const history = new HistoryWindow([], { maxExchanges: 2, dropBlock: 2 });
  for (let i = 1; i <= 3; i++) history.add({ ...exchange(i), id: `m${i}` });
  strictEqual(history.has("m1"), true);
  strictEqual(history.has("m3"), true);
  strictEqual(history.has("m4"), false);
});

Deno.test("HistoryWindow.toContents() puts the running memory first, as a user/model pair", () => {
  const history = new HistoryWindow([exchange(1)], { memory: "- 민수는 떡볶이를 좋아함" });
  const contents = history.toContents("안녕");
  deepStrictEqual(contents.map((c) => c.role), ["user", "model", "user", "model", "user"]);
  deepStrictEqual(contents[0].parts, [{ text: `${MEMORY_PREAMBLE}\n- 민수는 떡볶이를 좋아함` }]);
  deepStrictEqual(contents[1].parts, [{ text: MEMORY_ACK }]);
  deepStrictEqual(contents[2].parts, [{ text: "질문 1" }]);
  strictEqual(new HistoryWindow([], { memory: "  " }).toContents("안녕").length, 1);
});

Deno.test("HistoryWindow.toContents() sends a model turn's stored parts whole, in place of its text", () => {
  const modelParts = [
    { thoughtSignature: "c2ln", toolCall: { toolType: "GOOGLE_SEARCH_WEB", id: "a1" } },
    { text: "서울이야." },
    { text: "", thoughtSignature: "ZW5k" },
  ];
  const history = new HistoryWindow([
    { user: "수도는?", model: "서울이야.", at: 1, modelParts },
    { user: "고마워", model: "응", at: 2 },
  ]);
  const contents = history.toContents("또 물어볼게");
  deepStrictEqual(contents[1], { role: "model", parts: modelParts });
  deepStrictEqual(contents[3], { role: "model", parts: [{ text: "응" }] });
  // A copy: a caller that changes the request does not change the window.
  (contents[1].parts[1] as { text: string }).text = "바뀜";
  strictEqual(
    (history.toContents()[1].parts[1] as { text: string }).text,
    "서울이야.",
  );
});

Deno.test("a model turn goes back as its parts when it has them, signatures included; else as its text", () => {
  const parts = [{ text: "응 안녕" }, { text: "", thoughtSignature: "c2lnbmF0dXJl" }];
  const history = new HistoryWindow([
    { user: "민수: 옛날", model: "옛날 대답", at: 1 },
    { user: "민수: 안녕", model: "응 안녕", at: 2, modelParts: parts },
  ]);
  const contents = history.toContents("민수: 또");
  deepStrictEqual(contents[1], { role: "model", parts: [{ text: "옛날 대답" }] });
  deepStrictEqual(contents[3], { role: "model", parts });
  deepStrictEqual(contents.at(-1), { role: "user", parts: [{ text: "민수: 또" }] });
});
