/**
 * Sessions whose worker hosts die, on real Web Workers and a real SQLite file: what a turn has
 * shown is never lost nor recorded twice, and a channel's later turns still queue behind it.
 */
import assert from "node:assert/strict";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import { delay, until } from "../../tests/harness.ts";
import { hostIndex } from "../../lib/sessions/host_index.ts";
import type { SessionsEvent } from "./sessions.ts";
import { answerTo, lease, say, texts, withSessions } from "./testing.ts";

type Restarted = Extract<SessionsEvent, { type: "host_restarted" }>;

/** Collects host restarts as `[resent, failed]`, with their errors. */
function restartLog() {
  const restarts: Restarted[] = [];
  return {
    restarts,
    counts: () => restarts.map((r) => [r.resent, r.failed]),
    onEvent: (e: SessionsEvent) => e.type === "host_restarted" && restarts.push(e),
  };
}

/** Whether `promise` is still pending after the hosts have had time to act. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  await delay(50);
  return await Promise.race([promise.then(() => false), delay(0).then(() => true)]);
}

/** The exchanges' user lines stored for `channelId`, read on a connection of our own. */
async function storedLines(databasePath: string, channelId: string): Promise<string[]> {
  const store = SqliteStore.open(databasePath);
  try {
    return (await store.load(channelId)).map((e) => e.user);
  } finally {
    await store.close();
  }
}

Deno.test("a host that dies is restarted, history intact, and a turn not yet lent retried once", async () => {
  const log = restartLog();
  await withSessions({ hosts: 1, onEvent: log.onEvent }, async (s) => {
    await say(s, "a", "remember me");
    // An uncaught error in the host: it is restarted.
    s.faultHost(0);
    await until(() => log.restarts.length > 0, "the first restart");
    assert.match(log.restarts[0].error, /fault injected/);
    // A turn whose host dies before it was lent the window is begun again on the new host.
    const inFlight = s.begin("a", "m2", "after crash");
    s.killHost(0);
    const retried = await inFlight;
    assert.ok(retried.ok);
    // The window survived both deaths: it came back from the store.
    assert.deepEqual(texts(retried.lease.contents), [
      "remember me",
      answerTo("remember me"),
      "after crash",
    ]);
    assert.deepEqual(await retried.lease.commit(answerTo("after crash")), {
      ok: true,
      recorded: true,
      unsaved: false,
    });
    // Retried once only: a turn whose host dies twice before it is lent fails.
    const unlucky = s.begin("a", "m3", "unlucky");
    s.killHost(0);
    s.killHost(0);
    assert.deepEqual(await unlucky, { ok: false, error: "host_crashed" });
    assert.deepEqual(log.counts(), [[0, 0], [1, 0], [1, 0], [0, 1]]);
    assert.equal(s.counts.restarted, 4);
    // The channel works on, and the failed turn left no trace in its history.
    assert.deepEqual((await say(s, "a", "still here")).slice(-2), [
      answerTo("after crash"),
      "still here",
    ]);
  });
});

Deno.test("a host that dies under a lent turn records its commit, and the next turn sees it", async () => {
  const log = restartLog();
  await withSessions({ hosts: 1, onEvent: log.onEvent }, async (s, databasePath) => {
    await say(s, "a", "first");
    const slow = await lease(s, "a", "slow");
    const queued = s.begin("a", "q", "queued behind");
    s.killHost(0); // dies while the answer is being shown: neither lost nor overtaken
    assert.deepEqual(log.counts(), [[2, 0]]);
    assert.equal(await stillPending(queued), true, "the queued turn overtook the lent one");
    assert.deepEqual(await slow.commit(answerTo("slow")), {
      ok: true,
      recorded: true,
      unsaved: false,
    });
    const next = await queued;
    assert.ok(next.ok);
    assert.deepEqual(texts(next.lease.contents), [
      "first",
      answerTo("first"),
      "slow",
      answerTo("slow"),
      "queued behind",
    ]);
    await next.lease.commit(answerTo("queued behind"));
    await s.stop();
    assert.deepEqual(await storedLines(databasePath, "a"), ["first", "slow", "queued behind"]);
  });
});

Deno.test("a host that dies with a commit on its way records it once on the new host", async () => {
  const log = restartLog();
  await withSessions({ hosts: 1, onEvent: log.onEvent }, async (s, databasePath) => {
    await say(s, "a", "first");
    const slow = await lease(s, "a", "slow");
    const queued = s.begin("a", "q", "queued behind");
    const committed = slow.commit(answerTo("slow"));
    s.killHost(0); // the old host may or may not have recorded it: the outcome is the same
    assert.deepEqual(log.counts(), [[2, 0]]);
    assert.deepEqual(await committed, { ok: true, recorded: true, unsaved: false });
    const next = await queued;
    assert.ok(next.ok);
    assert.deepEqual(texts(next.lease.contents).slice(-3), [
      "slow",
      answerTo("slow"),
      "queued behind",
    ]);
    await next.lease.commit(undefined);
    await s.stop();
    assert.deepEqual(await storedLines(databasePath, "a"), ["first", "slow"]);
  });
});

Deno.test("a host that dies after recording a commit, before saying so, does not record it twice", async () => {
  await withSessions({ hosts: 1 }, async (s, databasePath) => {
    await say(s, "a", "first");
    const slow = await lease(s, "a", "slow");
    const queued = s.begin("a", "q", "queued behind");
    const committed = slow.commit(answerTo("slow"));
    // Only microtasks run in this loop, so the host's "done" cannot reach Sessions before the
    // kill: the host has recorded the turn and dies before anyone knows.
    const peek = SqliteStore.open(databasePath);
    const deadline = Date.now() + 10_000;
    while (!(await peek.load("a")).some((e) => e.user === "slow")) {
      if (Date.now() > deadline) throw new Error("the host never recorded the commit");
    }
    s.killHost(0);
    assert.deepEqual(await committed, { ok: true, recorded: true, unsaved: false });
    const next = await queued;
    assert.ok(next.ok);
    assert.deepEqual(texts(next.lease.contents), [
      "first",
      answerTo("first"),
      "slow",
      answerTo("slow"),
      "queued behind",
    ]);
    await next.lease.commit(undefined);
    await s.stop();
    assert.deepEqual((await peek.load("a")).map((e) => e.user), ["first", "slow"]);
    assert.deepEqual(await peek.takeUnanswered(), [], "the turn begun again was left in flight");
    await peek.close();
  });
});

Deno.test("a session over the cap when a host restarts is evicted on its own host", async () => {
  const channelOn = (host: number) =>
    Array.from({ length: 64 }, (_, i) => `ch${i}`).find((c) => hostIndex(c, 2) === host)!;
  const [x, y] = [channelOn(0), channelOn(1)];
  const evicted: string[] = [];
  await withSessions({
    policy: { maxSessions: 1 },
    onEvent: (e) => e.type === "evicted" && evicted.push(`${e.channelId}:${e.reason}`),
  }, async (s) => {
    const held = await lease(s, x, "held"); // busy: the cap cannot evict it
    await say(s, y, "over the cap"); // live while x is busy, idle once done
    assert.deepEqual(s.lruOrder, [x, y]);
    s.killHost(0); // x is begun again on the new host: over the cap, y must go
    assert.deepEqual(s.lruOrder, [x]);
    assert.deepEqual(evicted, [`${y}:lru`], "the supervisor forgot y but its host keeps it");
    assert.equal(s.counts.evicted, 1);
    assert.deepEqual(await held.commit(answerTo("held")), {
      ok: true,
      recorded: true,
      unsaved: false,
    });
    assert.deepEqual(await say(s, y, "back"), ["over the cap", answerTo("over the cap"), "back"]);
  });
});

Deno.test("Sessions gives up when hosts die more often than the policy allows", async () => {
  const gaveUp: string[] = [];
  await withSessions({
    hosts: 1,
    policy: { intensity: 2 },
    onGiveUp: (reason) => gaveUp.push(reason),
  }, (s) => {
    s.killHost(0);
    s.killHost(0);
    assert.deepEqual(gaveUp, []);
    s.killHost(0);
    assert.equal(gaveUp.length, 1);
    assert.match(gaveUp[0], /session host 0 died too often; last error: terminated/);
    return Promise.resolve();
  });
});

Deno.test("a fold out when its host dies is dropped, and the new host offers the same block again", async () => {
  await withSessions({ maxExchanges: 2, dropBlock: 2 }, async (s) => {
    await say(s, "a", "one");
    await say(s, "a", "two");
    const lost = await (await lease(s, "a", "three")).commit(answerTo("three"));
    assert.ok(lost.ok && lost.fold);
    s.killHost(hostIndex("a", 2));
    // Its result reaches an actor that never handed it out: dropped, not applied.
    assert.deepEqual(await s.remember("a", lost.fold.id, "- 늦게 온 기억"), { ok: true });
    const again = await (await lease(s, "a", "four")).commit(answerTo("four"));
    assert.ok(again.ok && again.fold, JSON.stringify(again));
    assert.notEqual(again.fold.id, lost.fold.id);
    assert.deepEqual(again.fold.exchanges, lost.fold.exchanges);
    assert.equal(again.fold.memory, "");
  });
});
