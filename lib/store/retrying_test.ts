import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ManualClock } from "../clock.ts";
import type { Exchange } from "../sessions/window.ts";
import { RetryingStore, type StoreEvent } from "./retrying.ts";
import { SqliteStore } from "./sqlite.ts";

/**
 * A real SQLite database whose disk can be filled and freed: `PRAGMA max_page_count` makes
 * SQLite itself refuse to grow the file with "database or disk is full".
 */
function disk() {
  const db = new DatabaseSync(":memory:");
  const store = SqliteStore.over(db);
  return {
    store,
    fill() {
      const { page_count } = db.prepare("PRAGMA page_count").get() as { page_count: number };
      db.exec(`PRAGMA max_page_count = ${page_count}`);
    },
    free: () => db.exec("PRAGMA max_page_count = 1000000"),
  };
}

/** An exchange too large to fit in the pages a full database still has free. */
const big = (user: string): Exchange => ({ user, model: "m".repeat(20_000), at: 0 });
/** An exchange that fits in a page already there. */
const small = (user: string): Exchange => ({ user, model: "m", at: 0 });

function retrying(inner: SqliteStore, options: { maxPending?: number } = {}) {
  const clock = new ManualClock(0);
  const events: StoreEvent[] = [];
  const store = new RetryingStore(inner, {
    clock,
    retry: { baseMs: 1000, maxMs: 8000, jitter: 0 },
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { store, clock, events };
}

const users = async (store: { load(c: string): Promise<Exchange[]> }, channelId: string) =>
  (await store.load(channelId)).map((e) => e.user);

Deno.test("RetryingStore holds a write the full disk refuses and writes it once the disk frees", async () => {
  const d = disk();
  const { store, clock, events } = retrying(d.store);
  assert.equal(await store.append("a", big("before"), 20), "saved");
  d.fill();
  assert.equal(await store.append("a", big("during"), 20), "unsaved");
  assert.deepEqual(events, [{
    type: "write_failed",
    channelId: "a",
    error: "database or disk is full",
    pending: 1,
  }]);
  assert.equal(store.writable, false);
  // What the actor would load back is the window as it will be, held write included.
  assert.deepEqual(await users(store, "a"), ["before", "during"]);
  assert.deepEqual(await users(d.store, "a"), ["before"]);

  d.free();
  await clock.tick(1000);
  assert.deepEqual(events.at(-1), { type: "recovered", written: 1 });
  assert.equal(store.writable, true);
  assert.equal(store.pending, 0);
  assert.deepEqual(await users(d.store, "a"), ["before", "during"]);
  assert.equal(clock.pendingTimers, 0);
  await store.close();
});

Deno.test("RetryingStore keeps a channel's later writes behind its held ones, even ones that would fit", async () => {
  const d = disk();
  const { store, clock, events } = retrying(d.store);
  d.fill();
  assert.equal(await store.append("a", big("first"), 20), "unsaved");
  // Small enough for the full disk, but written ahead it would put the history out of order.
  assert.equal(await store.append("a", small("second"), 20), "unsaved");
  assert.deepEqual(await users(d.store, "a"), []);
  assert.deepEqual(await users(store, "a"), ["first", "second"]);
  assert.equal(events.filter((e) => e.type === "write_failed").length, 2);

  // Another channel's small write goes through, and that the disk took it starts a retry.
  d.free();
  assert.equal(await store.append("b", small("other"), 20), "saved");
  await clock.tick(0);
  assert.deepEqual(await users(d.store, "a"), ["first", "second"]);
  assert.deepEqual(events.at(-1), { type: "recovered", written: 2 });
  await store.close();
});

Deno.test("RetryingStore retries with growing delays while the disk stays full", async () => {
  const d = disk();
  const { store, clock, events } = retrying(d.store);
  d.fill();
  await store.append("a", big("x"), 20);
  await clock.tick(1000 + 2000 + 4000 + 8000 + 8000);
  const retries = events.filter((e) => e.type === "retry_failed");
  assert.deepEqual(retries.map((e) => e.retryInMs), [2000, 4000, 8000, 8000, 8000]);
  assert.equal(store.pending, 1);
  d.free();
  await clock.tick(8000);
  assert.deepEqual(events.at(-1), { type: "recovered", written: 1 });
  await store.close();
});

Deno.test("RetryingStore forgets a channel's held writes when the delete itself reaches the disk", async () => {
  const d = disk();
  const { store, clock } = retrying(d.store);
  await store.append("a", small("kept before"), 20);
  d.fill();
  await store.append("a", big("held"), 20);
  await store.delete("a");
  await store.append("a", big("after reset"), 20);
  assert.deepEqual(await users(store, "a"), ["after reset"]);
  d.free();
  await clock.tick(1000);
  assert.deepEqual(await users(d.store, "a"), ["after reset"]);
  await store.close();
});

Deno.test("RetryingStore reports a write it cannot hold, never dropping it silently", async () => {
  const d = disk();
  const { store, events } = retrying(d.store, { maxPending: 1 });
  d.fill();
  assert.equal(await store.append("a", big("held"), 20), "unsaved");
  assert.equal(await store.append("b", big("no room"), 20), "unsaved");
  assert.deepEqual(events.at(-1), {
    type: "dropped",
    reason: "queue_full",
    count: 1,
    channelId: "b",
    error: "database or disk is full",
  });
  assert.equal(store.pending, 1);
  await store.close();
});

Deno.test("RetryingStore close tries the held writes once more and reports what is left", async () => {
  const d = disk();
  const { store, events, clock } = retrying(d.store);
  d.fill();
  await store.append("a", big("one"), 20);
  await store.append("b", big("two"), 20);
  await store.close();
  assert.deepEqual(events.at(-1), {
    type: "dropped",
    reason: "closed",
    count: 2,
    error: "database or disk is full",
  });
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("RetryingStore close writes what the disk takes by then", async () => {
  const d = disk();
  const { store, events } = retrying(d.store);
  d.fill();
  await store.append("a", big("one"), 20);
  d.free();
  await store.close();
  assert.deepEqual(events.at(-1), { type: "recovered", written: 1 });
  assert.equal(store.pending, 0);
});

Deno.test("RetryingStore throws an error that is not SQLite's: a bug is not held", async () => {
  const d = disk();
  d.store.append = () => Promise.reject(new TypeError("bug"));
  const { store, events } = retrying(d.store);
  await assert.rejects(store.append("a", small("x"), 20), TypeError);
  assert.equal(store.pending, 0);
  assert.deepEqual(events, []);
  await store.close();
});
