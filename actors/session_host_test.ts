import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ManualClock } from "../lib/clock.ts";
import type { Exchange } from "../lib/history_window.ts";
import { SqliteStore } from "../lib/store.ts";
import { until } from "../tests/harness.ts";
import { type FromHost, SessionHost, UNSAVED_NOTICE_MS } from "./session_host.ts";

/** A host driven directly, answering every reply request at once. */
function hostWith(store: SqliteStore) {
  const delivered: Extract<FromHost, { type: "delivered" }>[] = [];
  const asked: string[][] = [];
  const host: SessionHost = new SessionHost({
    store,
    now: () => 0,
    post: (message) => {
      if (message.type === "delivered") delivered.push(message);
      if (message.type === "reply") {
        asked.push(message.contents.map((c) => c.parts[0].text));
        const text = `re ${message.contents.at(-1)!.parts[0].text}`;
        queueMicrotask(() => host.receive({ type: "replied", callId: message.callId, text }));
      }
    },
  });
  return { host, delivered, asked };
}

const chat = (id: string, text: string) => ({
  type: "deliver" as const,
  command: { kind: "chat" as const, id, channelId: "c", text },
});

Deno.test("SessionHost hands commands queued behind a crash to a fresh actor, in order", async () => {
  const store = SqliteStore.open(":memory:");
  const append = store.append.bind(store);
  let failNext = false;
  store.append = (channelId: string, exchange: Exchange, keep: number) => {
    if (failNext) {
      failNext = false;
      return Promise.reject(new Error("a bug in append"));
    }
    return append(channelId, exchange, keep);
  };
  const { host, delivered, asked } = hostWith(store);
  host.receive(chat("1", "one"));
  await until(() => delivered.length === 1, "the first answer");
  failNext = true;
  host.receive(chat("2", "two")); // its save throws a bug (not SQLite): the actor crashes
  host.receive(chat("3", "three"));
  host.receive(chat("4", "four"));
  await until(() => delivered.length === 4, "all four answers");
  assert.deepEqual(delivered.map((d) => [d.commandId, d.result.ok]), [
    ["1", true],
    ["2", false],
    ["3", true],
    ["4", true],
  ]);
  assert.deepEqual(delivered[1].result, {
    ok: false,
    error: "crashed",
    message: "a bug in append",
  });
  // The fresh actor started from the persisted window: "two" was never saved.
  assert.deepEqual(asked.at(-1), ["one", "re one", "three", "re three", "four"]);
  assert.deepEqual((await store.load("c")).map((e) => e.user), ["one", "three", "four"]);
  await store.close();
});

Deno.test("SessionHost stop answers queued commands with stopping and closes the store", async () => {
  const store = SqliteStore.open(":memory:");
  const out: FromHost[] = [];
  let answer: ((text: string) => void) | undefined;
  const host: SessionHost = new SessionHost({
    store,
    post: (message) => {
      out.push(message);
      if (message.type === "reply") {
        answer = (text) => host.receive({ type: "replied", callId: message.callId, text });
      }
    },
  });
  host.receive(chat("1", "running"));
  host.receive(chat("2", "queued"));
  await until(() => answer !== undefined, "the reply request");
  host.receive({ type: "stop" });
  await until(
    () => out.some((m) => m.type === "delivered" && m.commandId === "2"),
    "the queued command's answer",
  );
  answer!("done");
  await until(() => out.at(-1)?.type === "stopped", "stopped");
  const results = out.flatMap((m) => m.type === "delivered" ? [[m.commandId, m.result]] : []);
  assert.deepEqual(results, [
    ["2", { ok: false, error: "stopping" }],
    ["1", { ok: true, reply: "done" }],
  ]);
});

/**
 * A host on a real SQLite database whose disk the test fills and frees (`PRAGMA max_page_count`
 * makes SQLite itself answer "database or disk is full"), on a manual clock.
 */
function hostOnDisk() {
  const db = new DatabaseSync(":memory:");
  const store = SqliteStore.over(db);
  const clock = new ManualClock(0);
  const delivered: Extract<FromHost, { type: "delivered" }>[] = [];
  const storeNews: Extract<FromHost, { type: "store" }>[] = [];
  const asked: string[][] = [];
  const host: SessionHost = new SessionHost({
    store,
    clock,
    post: (message) => {
      if (message.type === "delivered") delivered.push(message);
      if (message.type === "store") storeNews.push(message);
      if (message.type === "reply") {
        asked.push(message.contents.map((c) => c.parts[0].text.slice(0, 8)));
        // Large enough that the full disk can't fit the exchange in a page it already has.
        const text = `re ${message.contents.at(-1)!.parts[0].text}`.padEnd(20_000, ".");
        queueMicrotask(() => host.receive({ type: "replied", callId: message.callId, text }));
      }
    },
  });
  const disk = {
    fill() {
      const { page_count } = db.prepare("PRAGMA page_count").get() as { page_count: number };
      db.exec(`PRAGMA max_page_count = ${page_count}`);
    },
    free: () => db.exec("PRAGMA max_page_count = 1000000"),
  };
  /** Delivers a chat and waits for its result. */
  const say = async (id: string, text: string) => {
    const before = delivered.length;
    host.receive(chat(id, text));
    await until(() => delivered.length > before, `the answer to ${id}`);
    return delivered.at(-1)!.result;
  };
  return { host, store, clock, disk, storeNews, asked, say };
}

Deno.test("SessionHost answers while the disk is full, flags the turn unsaved, and writes it once the disk frees", async () => {
  const { host, store, clock, disk, storeNews, asked, say } = hostOnDisk();
  assert.equal((await say("1", "one")).ok, true);
  disk.fill();
  const refused = await say("2", "two");
  assert.equal(refused.ok && refused.unsaved, true);
  assert.deepEqual(storeNews.map((n) => [n.event.type, n.writable, n.pending]), [
    ["write_failed", false, 1],
  ]);
  const failed = storeNews[0].event;
  assert.equal(failed.type === "write_failed" && failed.error, "database or disk is full");
  assert.equal(failed.type === "write_failed" && failed.channelId, "c");

  // The next turn is told nothing new (the channel was just told) but still sees "two".
  assert.deepEqual(await say("3", "three"), { ok: true, reply: `re three`.padEnd(20_000, ".") });
  assert.deepEqual(asked.at(-1), ["one", "re one..", "two", "re two..", "three"]);
  // Evicted and back: the new actor reads the held writes back, in order.
  host.receive({ type: "evict", channelId: "c" });
  await until(() => host.size === 0, "the eviction");
  await say("4", "four");
  assert.deepEqual(asked.at(-1)!.filter((t) => !t.startsWith("re")), [
    "one",
    "two",
    "three",
    "four",
  ]);
  assert.deepEqual((await store.load("c")).map((e) => e.user), ["one"]);

  disk.free();
  await clock.tick(1000);
  assert.deepEqual(storeNews.at(-1), {
    type: "store",
    event: { type: "recovered", written: 3 },
    writable: true,
    pending: 0,
  });
  assert.deepEqual((await store.load("c")).map((e) => e.user), ["one", "two", "three", "four"]);

  // A new outage is told again at once.
  disk.fill();
  const again = await say("5", "five");
  assert.equal(again.ok && again.unsaved, true);
  disk.free();
  host.receive({ type: "stop" });
  await until(() => storeNews.at(-1)?.event.type === "recovered", "the last flush at stop");
});

Deno.test("SessionHost tells a channel again once UNSAVED_NOTICE_MS has passed while the disk stays full", async () => {
  const { host, clock, disk, say } = hostOnDisk();
  disk.fill();
  const first = await say("1", "one");
  assert.equal(first.ok && first.unsaved, true);
  await clock.tick(UNSAVED_NOTICE_MS - 1);
  const soon = await say("2", "two");
  assert.equal(soon.ok && soon.unsaved, undefined);
  await clock.tick(1);
  const later = await say("3", "three");
  assert.equal(later.ok && later.unsaved, true);
  host.receive({ type: "stop" });
});
