import assert from "node:assert/strict";
import { type Exchange, WINDOW_EXCHANGES } from "../lib/history_window.ts";
import { SqliteStore } from "../lib/store.ts";
import { delay, until } from "../tests/harness.ts";
import { type FromHost, SessionHost, type ToHost } from "./session_host.ts";

type Done = Extract<FromHost, { type: "done" }>;

/** A host driven directly, recording what it posts; `onLent` plays the main thread's turn. */
function hostWith(
  store: SqliteStore,
  onLent: (lent: Extract<FromHost, { type: "lent" }>, host: SessionHost) => void = () => {},
) {
  const out: FromHost[] = [];
  const host: SessionHost = new SessionHost({
    store,
    now: () => 0,
    maxExchanges: WINDOW_EXCHANGES,
    post: (message) => {
      out.push(message);
      if (message.type === "lent") onLent(message, host);
    },
  });
  const done = () => out.filter((m): m is Done => m.type === "done");
  const lent = () => out.flatMap((m) => m.type === "lent" ? [m] : []);
  return { host, out, done, lent };
}

const begin = (id: string, line: string): ToHost => ({ type: "begin", channelId: "c", id, line });
const commit = (id: string, shown: string | undefined): ToHost => ({
  type: "commit",
  channelId: "c",
  id,
  shown,
});
const lastLine = (lent: Extract<FromHost, { type: "lent" }>) => lent.contents.at(-1)!.parts[0].text;

/** Commits every lent turn at once with "re <its line>", as a fast main thread would. */
const answerAtOnce = (lent: Extract<FromHost, { type: "lent" }>, host: SessionHost) =>
  queueMicrotask(() => host.receive(commit(lent.id, `re ${lastLine(lent)}`)));

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
  const { host, done, lent } = hostWith(store, answerAtOnce);
  host.receive(begin("1", "one"));
  await until(() => done().length === 1, "the first turn");
  failNext = true;
  host.receive(begin("2", "two")); // its commit fails to save: the actor crashes
  host.receive(begin("3", "three"));
  host.receive(begin("4", "four"));
  await until(() => done().length === 4, "all four turns");
  assert.deepEqual(done().map((d) => [d.id, d.result.ok]), [
    ["1", true],
    ["2", false],
    ["3", true],
    ["4", true],
  ]);
  assert.deepEqual(done()[1].result, { ok: false, error: "crashed", message: "disk full" });
  // The fresh actor started from the persisted window: "two" was never saved.
  assert.deepEqual(
    lent().at(-1)!.contents.map((c) => c.parts[0].text),
    ["one", "re one", "three", "re three", "four"],
  );
  assert.deepEqual((await store.load("c")).map((e) => e.user), ["one", "three", "four"]);
  await store.close();
});

Deno.test("SessionHost stop answers queued commands with stopping and closes the store", async () => {
  const store = SqliteStore.open(":memory:");
  const close = store.close.bind(store);
  let closed = false;
  store.close = () => {
    closed = true;
    return close();
  };
  const { host, out, done, lent } = hostWith(store);
  host.receive(begin("1", "running"));
  host.receive(begin("2", "queued"));
  await until(() => lent().length === 1, "the first turn to be lent");
  host.receive({ type: "stop" });
  await until(() => done().some((d) => d.id === "2"), "the queued turn's answer");
  assert.equal(closed, false, "the store closed under a lent turn");
  host.receive(commit("1", "done"));
  await until(() => out.at(-1)?.type === "stopped", "stopped");
  assert.deepEqual(done().map((d) => [d.id, d.result]), [
    ["2", { ok: false, error: "stopping" }],
    ["1", { ok: true, recorded: true }],
  ]);
  assert.equal(closed, true);
  await assert.rejects(async () => await store.load("c"), "the store is still open");
  // Begun after stop: refused, not run.
  host.receive(begin("3", "late"));
  await until(() => done().some((d) => d.id === "3"), "the late turn's answer");
  assert.deepEqual(done().at(-1)!.result, { ok: false, error: "stopping" });
});

Deno.test("SessionHost buffers a commit that arrives before its turn is lent, and applies it", async () => {
  // After a host restart, main re-sends a committed turn as begin + commit in one breath.
  const store = SqliteStore.open(":memory:");
  const { host, done, lent } = hostWith(store);
  host.receive(begin("1", "held"));
  await until(() => lent().length === 1, "the first turn to be lent");
  host.receive(begin("2", "queued"));
  host.receive(commit("2", "shown before the crash")); // early: 2 waits behind 1
  host.receive(begin("3", "nothing shown"));
  host.receive(commit("3", undefined)); // early, and nothing to record
  await delay(20); // room to misbehave: lend again, or record out of order
  assert.deepEqual([lent().length, done().length], [1, 0]);
  host.receive(commit("1", "re held"));
  await until(() => done().length === 3, "all three turns");
  assert.deepEqual(done().map((d) => [d.id, d.result]), [
    ["1", { ok: true, recorded: true }],
    ["2", { ok: true, recorded: true }],
    ["3", { ok: true, recorded: false }],
  ]);
  // The buffered commits were applied to their own turns, without lending the window again.
  assert.deepEqual(lent().map((l) => l.id), ["1"]);
  assert.deepEqual(
    (await store.load("c")).map((e) => [e.id, e.user, e.model]),
    [["1", "held", "re held"], ["2", "queued", "shown before the crash"]],
  );
  assert.deepEqual(await store.takeUnanswered(), []);
  await store.close();
});
