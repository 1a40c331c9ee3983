import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ManualClock } from "../../lib/clock.ts";
import { type Exchange, MAX_EXCHANGES } from "../../lib/sessions/window.ts";
import { MEMORY_ACK, MEMORY_PREAMBLE } from "../../lib/text/prompts.ts";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import { delay, until } from "../../tests/harness.ts";
import { type FromHost, SessionHost, type ToHost, UNSAVED_NOTICE_MS } from "./host.ts";

type Done = Extract<FromHost, { type: "done" }>;

/** A host driven directly, recording what it posts; `onLent` plays the main thread's turn. */
function hostWith(
  store: SqliteStore,
  onLent: (lent: Extract<FromHost, { type: "lent" }>, host: SessionHost) => void = () => {},
  window: { maxExchanges?: number; dropBlock?: number } = {},
) {
  const out: FromHost[] = [];
  const host: SessionHost = new SessionHost({
    store,
    now: () => 0,
    maxExchanges: MAX_EXCHANGES,
    ...window,
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

/**
 * A host on a real SQLite database whose disk the test fills and frees (`PRAGMA max_page_count`
 * makes SQLite itself answer "database or disk is full"), on a manual clock.
 */
function hostOnDisk() {
  const db = new DatabaseSync(":memory:");
  const store = SqliteStore.over(db);
  const clock = new ManualClock(0);
  const done: Done[] = [];
  const storeNews: Extract<FromHost, { type: "store" }>[] = [];
  const asked: string[][] = [];
  const host: SessionHost = new SessionHost({
    store,
    clock,
    maxExchanges: MAX_EXCHANGES,
    post: (message) => {
      if (message.type === "done") done.push(message);
      if (message.type === "store") storeNews.push(message);
      if (message.type === "lent") {
        asked.push(message.contents.map((c) => (c.parts[0].text ?? "").slice(0, 8)));
        // Large enough that the full disk can't fit the exchange in a page it already has.
        const shown = `re ${lastLine(message)}`.padEnd(20_000, ".");
        queueMicrotask(() => host.receive(commit(message.id, shown)));
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
  /** Begins a turn and waits for its result. */
  const say = async (id: string, line: string) => {
    const before = done.length;
    host.receive(begin(id, line));
    await until(() => done.length > before, `the turn ${id}`);
    return done.at(-1)!.result;
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
  assert.deepEqual(await say("3", "three"), { ok: true, recorded: true });
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

Deno.test("SessionHost's done hands over the block that left the window as a fold, and remember queues behind the turns", async () => {
  const store = SqliteStore.open(":memory:");
  const { host, done, lent } = hostWith(store, answerAtOnce, { maxExchanges: 2, dropBlock: 2 });
  for (const [id, line] of [["1", "one"], ["2", "two"], ["3", "three"]]) {
    host.receive(begin(id, line));
  }
  await until(() => done().length === 3, "three turns");
  const folds = done().map((d) => d.result.ok && d.result.fold);
  assert.deepEqual(folds.slice(0, 2), [undefined, undefined]);
  const fold = folds[2];
  assert.ok(fold);
  assert.deepEqual(fold, {
    id: "fold:3",
    memory: "",
    exchanges: [
      { user: "one", model: "re one", at: 0, id: "1" },
      { user: "two", model: "re two", at: 0, id: "2" },
    ],
  });
  // The result comes back while the channel's next turn is already asked for: it is taken in
  // mailbox order, so the turn after it is lent the new memory.
  host.receive({ type: "remember", channelId: "c", id: fold.id, memory: "- one, two 얘기함" });
  host.receive(begin("4", "four"));
  await until(() => done().length === 5, "the remember and the fourth turn");
  assert.deepEqual(done()[3], { type: "done", id: "fold:3", channelId: "c", result: { ok: true } });
  assert.deepEqual(lent().at(-1)!.contents.map((c) => c.parts[0].text), [
    `${MEMORY_PREAMBLE}\n- one, two 얘기함`,
    MEMORY_ACK,
    "three",
    "re three",
    "four",
  ]);
  assert.equal(await store.loadMemory("c"), "- one, two 얘기함");
  assert.deepEqual((await store.load("c")).map((e) => e.user), ["three", "four"]);
  await store.close();
});
