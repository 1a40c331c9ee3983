import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { type Exchange, HistoryWindow } from "./history_window.ts";

const exchange = (i: number): Exchange => ({ user: `질문 ${i}`, model: `답변 ${i}`, at: i * 1000 });

Deno.test("HistoryWindow keeps the last 20 exchanges in order after 25 adds", () => {
  const history = new HistoryWindow();
  for (let i = 1; i <= 25; i++) history.add(exchange(i));
  strictEqual(history.size, 20);
  deepStrictEqual(
    history.exchanges.map((e) => e.at),
    Array.from({ length: 20 }, (_, i) => (i + 6) * 1000),
  );
});

Deno.test("HistoryWindow honours a custom maxExchanges", () => {
  const history = new HistoryWindow([], { maxExchanges: 2 });
  for (let i = 1; i <= 3; i++) history.add(exchange(i));
  strictEqual(history.maxExchanges, 2);
  deepStrictEqual(history.exchanges, [exchange(2), exchange(3)]);
});

Deno.test("HistoryWindow keeps only the newest stored exchanges it starts from", () => {
  const stored = Array.from({ length: 30 }, (_, i) => exchange(i + 1));
  const history = new HistoryWindow(stored);
  strictEqual(history.size, 20);
  deepStrictEqual(history.exchanges[0], exchange(11));
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
