import assert from "node:assert/strict";
import type { Exchange } from "../lib/history_window.ts";
import { SqliteStore } from "../lib/store.ts";
import { until } from "../tests/harness.ts";
import { type FromHost, SessionHost } from "./session_host.ts";

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
      return Promise.reject(new Error("disk full"));
    }
    return append(channelId, exchange, keep);
  };
  const { host, delivered, asked } = hostWith(store);
  host.receive(chat("1", "one"));
  await until(() => delivered.length === 1, "the first answer");
  failNext = true;
  host.receive(chat("2", "two")); // its save fails: the actor crashes
  host.receive(chat("3", "three"));
  host.receive(chat("4", "four"));
  await until(() => delivered.length === 4, "all four answers");
  assert.deepEqual(delivered.map((d) => [d.commandId, d.result.ok]), [
    ["1", true],
    ["2", false],
    ["3", true],
    ["4", true],
  ]);
  assert.deepEqual(delivered[1].result, { ok: false, error: "crashed", message: "disk full" });
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
