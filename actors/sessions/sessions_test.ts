/**
 * Sessions on real Web Worker hosts and a real SQLite file: eviction, reaping, ordering and
 * shutdown, as the message flow sees them. Host deaths are in `actors/sessions/sessions_restart_test.ts`.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../lib/clock.ts";
import { MEMORY_ACK, MEMORY_PREAMBLE } from "../../lib/text/prompts.ts";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import { delay } from "../../tests/harness.ts";
import type { Sessions } from "./sessions.ts";
import { answerTo, lease, say, texts, withSessions } from "./testing.ts";

Deno.test("an evicted session is rehydrated with its window intact", async () => {
  await withSessions({ policy: { maxSessions: 2 } }, async (s) => {
    await say(s, "a", "hello a");
    await say(s, "b", "hello b");
    await say(s, "c", "hello c"); // evicts a, the least recently used
    assert.deepEqual(s.lruOrder, ["b", "c"]);
    assert.equal(s.counts.evicted, 1);
    assert.deepEqual(await say(s, "a", "back again"), [
      "hello a",
      answerTo("hello a"),
      "back again",
    ]);
  });
});

Deno.test("idle sessions are reaped by the sweep and come back from the store", async () => {
  const clock = new ManualClock(0);
  await withSessions({ clock, policy: { idleMs: 60_000 } }, async (s) => {
    await say(s, "a", "first");
    await clock.tick(30_000);
    await say(s, "b", "first");
    await clock.tick(40_000);
    assert.equal(s.sweep(), 1); // only a has been idle for 60 s
    assert.deepEqual(s.lruOrder, ["b"]);
    assert.equal(s.counts.reaped, 1);
    assert.deepEqual(await say(s, "a", "second"), ["first", answerTo("first"), "second"]);
  });
});

Deno.test("a session is idle from its commit, not from its begin", async () => {
  const clock = new ManualClock(0);
  await withSessions({ clock, policy: { idleMs: 60_000 } }, async (s) => {
    const lent = await lease(s, "a", "hi");
    await clock.tick(90_000); // a long answer
    assert.equal(s.sweep(), 0, "a session holding a lent turn was reaped");
    await lent.commit("late answer");
    await clock.tick(30_000);
    assert.equal(s.sweep(), 0, "reaped 30 s after its commit");
    await clock.tick(30_000);
    assert.equal(s.sweep(), 1);
  });
});

Deno.test("the sweep runs on its own timer, off the message path", async () => {
  const clock = new ManualClock(0);
  const evicted: string[] = [];
  await withSessions({
    clock,
    policy: { idleMs: 60_000, sweepMs: 10_000 },
    onEvent: (e) => e.type === "evicted" && evicted.push(`${e.channelId}:${e.reason}`),
  }, async (s) => {
    await say(s, "a", "hi");
    await clock.tick(50_000);
    assert.deepEqual(evicted, []);
    await clock.tick(10_000); // the sweep at 60 s finds a idle for 60 s
    assert.deepEqual(evicted, ["a:idle"]);
    assert.equal(s.liveSessions, 0);
    assert.equal(s.counts.reaped, 1);
    await s.stop();
    assert.equal(clock.pendingTimers, 0, "the sweep timer outlived stop");
  });
});

Deno.test("turns in one channel run in order while channels run concurrently", async () => {
  const channels = Array.from({ length: 8 }, (_, i) => `ch${i}`);
  const holding = new Set<string>();
  let maxParallel = 0;
  const order = new Map<string, string[]>();
  await withSessions({}, async (s) => {
    /** A turn that holds its lease a few ms, as streaming an answer would. */
    const slowTurn = async (channel: string, line: string) => {
      const lent = await lease(s, channel, line);
      assert.ok(!holding.has(channel), `two turns of ${channel} held its window at once`);
      holding.add(channel);
      maxParallel = Math.max(maxParallel, holding.size);
      await delay(Math.random() * 5);
      order.set(channel, [...(order.get(channel) ?? []), texts(lent.contents).at(-1)!]);
      holding.delete(channel);
      return lent.commit(answerTo(line));
    };
    const turns = [];
    for (let n = 0; n < 10; n++) {
      for (const channel of channels) turns.push(slowTurn(channel, `${channel}-${n}`));
    }
    const results = await Promise.all(turns);
    assert.ok(results.every((r) => r.ok && r.recorded), JSON.stringify(results));
    for (const channel of channels) {
      assert.deepEqual(order.get(channel), Array.from({ length: 10 }, (_, n) => `${channel}-${n}`));
    }
    assert.ok(maxParallel > 1, "channels never ran concurrently");
  });
});

Deno.test("stop finishes the lent turn, answers queued turns at once, and flushes", async () => {
  await withSessions({}, async (s, databasePath) => {
    const running = await lease(s, "a", "in flight");
    const queued = s.begin("a", "q1", "queued");
    const stopped = s.stop();
    assert.deepEqual(await queued, { ok: false, error: "stopping" });
    assert.deepEqual(await s.begin("b", "l1", "late"), { ok: false, error: "stopping" });
    assert.deepEqual(await s.reset("b", "r1"), { ok: false, error: "stopping" });
    assert.deepEqual(await running.commit(answerTo("in flight")), {
      ok: true,
      recorded: true,
      unsaved: false,
    });
    await stopped;
    const store = SqliteStore.open(databasePath);
    assert.deepEqual((await store.load("a")).map((e) => e.user), ["in flight"]);
    assert.deepEqual(await store.takeUnanswered(), [], "a turn was left noted in flight");
    await store.close();
  });
});

Deno.test("evict drops an idle session, never a busy one, and the next turn rehydrates it", async () => {
  const evicted: string[] = [];
  await withSessions({
    onEvent: (e) => e.type === "evicted" && evicted.push(`${e.channelId}:${e.reason}`),
  }, async (s) => {
    await say(s, "a", "one");
    assert.equal(s.evict("a"), true);
    assert.equal(s.evict("a"), false);
    assert.equal(s.liveSessions, 0);
    assert.deepEqual(evicted, ["a:lru"]);
    const held = await lease(s, "a", "two");
    assert.deepEqual(texts(held.contents), ["one", answerTo("one"), "two"]);
    assert.equal(s.evict("a"), false, "evicted a session whose turn holds its window");
    await held.commit(answerTo("two"));
    assert.equal(s.evict("a"), true);
  });
});

Deno.test("reset forgets a channel's conversation, in memory and in the store", async () => {
  await withSessions({}, async (s, databasePath) => {
    await say(s, "a", "one");
    assert.deepEqual(await s.reset("a", "r1"), { ok: true });
    assert.deepEqual(await say(s, "a", "two"), ["two"]);
    assert.equal(s.evict("a"), true);
    assert.deepEqual(await say(s, "a", "three"), ["two", answerTo("two"), "three"]);
    const store = SqliteStore.open(databasePath);
    assert.deepEqual((await store.load("a")).map((e) => e.user), ["two", "three"]);
    await store.close();
  });
});

Deno.test("a turn that commits nothing shown records nothing and frees the channel", async () => {
  await withSessions({}, async (s) => {
    await say(s, "a", "one");
    const lent = await lease(s, "a", "unanswered");
    const next = s.begin("a", "n2", "next");
    await delay(20);
    assert.equal(
      await Promise.race([next.then(() => "lent"), delay(0).then(() => "held")]),
      "held",
    );
    assert.deepEqual(await lent.commit(undefined), { ok: true, recorded: false, unsaved: false });
    const begun = await next;
    assert.ok(begun.ok);
    assert.deepEqual(texts(begun.lease.contents), ["one", answerTo("one"), "next"]);
    await begun.lease.commit(undefined);
    assert.equal(s.evict("a"), true, "the channel was left busy");
  });
});

/** One whole chat turn, as {@link say}, returning its commit's result. */
async function commitTurn(s: Sessions, channelId: string, line: string) {
  return await (await lease(s, channelId, line)).commit(answerTo(line));
}

Deno.test("a fold handed over at commit goes back through remember: the next turn is lent the memory", async () => {
  await withSessions({ maxExchanges: 2, dropBlock: 2 }, async (s, databasePath) => {
    await say(s, "a", "one");
    await say(s, "a", "two");
    const committed = await commitTurn(s, "a", "three");
    assert.ok(committed.ok && committed.fold, JSON.stringify(committed));
    assert.deepEqual(committed.fold.exchanges.map((e) => e.user), ["one", "two"]);
    assert.deepEqual(await s.remember("a", committed.fold.id, "- one, two"), { ok: true });
    assert.deepEqual(
      (await say(s, "a", "four")).slice(0, 3),
      [`${MEMORY_PREAMBLE}\n- one, two`, MEMORY_ACK, "three"],
    );
    const store = SqliteStore.open(databasePath);
    assert.equal(await store.loadMemory("a"), "- one, two");
    await store.close();
  });
});

Deno.test("reset forgets the memory too, and drops a fold still out", async () => {
  await withSessions({ maxExchanges: 2, dropBlock: 2 }, async (s, databasePath) => {
    for (const line of ["one", "two"]) await say(s, "a", line);
    const first = await commitTurn(s, "a", "three");
    assert.ok(first.ok && first.fold);
    await s.remember("a", first.fold.id, "- one, two");
    await say(s, "a", "four");
    const second = await commitTurn(s, "a", "five");
    assert.ok(second.ok && second.fold);
    assert.deepEqual(await s.reset("a", "r1"), { ok: true });
    assert.deepEqual(await s.remember("a", second.fold.id, "- 지워질 기억"), { ok: true });
    assert.deepEqual(await say(s, "a", "six"), ["six"]);
    const store = SqliteStore.open(databasePath);
    assert.equal(await store.loadMemory("a"), "");
    await store.close();
  });
});
