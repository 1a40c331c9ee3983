/**
 * Supervisor tests on real Web Worker hosts and a real SQLite file: what crosses workers is
 * tested across workers.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../lib/clock.ts";
import type { Content } from "../lib/history_window.ts";
import { SqliteStore } from "../lib/store.ts";
import { delay, until } from "../tests/harness.ts";
import { type ReplyRequest, Supervisor, type SupervisorOptions } from "./supervisor.ts";

const turns = (contents: Content[]) => contents.map((c) => c.parts[0].text);

async function withSupervisor(
  options: Partial<SupervisorOptions>,
  fn: (s: Supervisor, calls: ReplyRequest[], dir: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir("data", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "data" });
  const calls: ReplyRequest[] = [];
  const supervisor = new Supervisor({
    databasePath: `${dir}/s.db`,
    hosts: 2,
    sweepMs: 0,
    onReply: (request) => {
      calls.push(request);
      return Promise.resolve(`answer to ${request.contents.at(-1)!.parts[0].text}`);
    },
    onGiveUp: () => {},
    ...options,
  });
  try {
    await fn(supervisor, calls, dir);
  } finally {
    await supervisor.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const chat = (channelId: string, text: string, id = crypto.randomUUID()) => ({
  kind: "chat" as const,
  id,
  channelId,
  text,
});

Deno.test("an evicted session is rehydrated with its window intact", async () => {
  await withSupervisor({ maxSessions: 2 }, async (s, calls) => {
    await s.deliver(chat("a", "hello a"));
    await s.deliver(chat("b", "hello b"));
    await s.deliver(chat("c", "hello c")); // evicts a, the least recently used
    assert.deepEqual(s.lruOrder, ["b", "c"]);
    assert.equal(s.counts.evicted, 1);
    await s.deliver(chat("a", "back again"));
    assert.deepEqual(turns(calls.at(-1)!.contents), ["hello a", "answer to hello a", "back again"]);
  });
});

Deno.test("the LRU cap evicts the least recently used session, not the oldest created", async () => {
  await withSupervisor({ maxSessions: 3 }, async (s) => {
    for (const id of ["a", "b", "c"]) await s.deliver(chat(id, "x"));
    await s.deliver(chat("a", "touch")); // a becomes most recent
    await s.deliver(chat("d", "x")); // evicts b
    assert.deepEqual(s.lruOrder, ["c", "a", "d"]);
  });
});

Deno.test("idle sessions are reaped by the sweep and come back from the store", async () => {
  const clock = new ManualClock(0);
  await withSupervisor({ idleMs: 60_000, clock }, async (s, calls) => {
    await s.deliver(chat("a", "first"));
    await clock.tick(30_000);
    await s.deliver(chat("b", "first"));
    await clock.tick(40_000);
    assert.equal(s.sweep(), 1); // only a has been idle for 60 s
    assert.deepEqual(s.lruOrder, ["b"]);
    assert.equal(s.counts.reaped, 1);
    await s.deliver(chat("a", "second"));
    assert.deepEqual(turns(calls.at(-1)!.contents), ["first", "answer to first", "second"]);
  });
});

Deno.test("messages in one channel are handled in order while channels run concurrently", async () => {
  const active = new Map<string, number>();
  let maxParallel = 0;
  const order = new Map<string, string[]>();
  await withSupervisor({
    onReply: async (request) => {
      const channel = request.channelId;
      assert.equal(active.get(channel) ?? 0, 0, `two messages of ${channel} ran at once`);
      active.set(channel, 1);
      maxParallel = Math.max(maxParallel, [...active.values()].filter((v) => v > 0).length);
      await delay(Math.random() * 5);
      const text = request.contents.at(-1)!.parts[0].text;
      order.set(channel, [...(order.get(channel) ?? []), text]);
      active.set(channel, 0);
      return `ok ${text}`;
    },
  }, async (s) => {
    const channels = Array.from({ length: 8 }, (_, i) => `ch${i}`);
    const sends = [];
    for (let n = 0; n < 10; n++) {
      for (const channel of channels) sends.push(s.deliver(chat(channel, `${channel}-${n}`)));
    }
    const results = await Promise.all(sends);
    assert.ok(results.every((r) => r.ok));
    for (const channel of channels) {
      assert.deepEqual(order.get(channel), Array.from({ length: 10 }, (_, n) => `${channel}-${n}`));
    }
    assert.ok(maxParallel > 1, "channels never ran concurrently");
  });
});

Deno.test("a host that dies is restarted, history intact, and its in-flight message retried once", async () => {
  const restarts: string[] = [];
  const seen: ReplyRequest[] = [];
  await withSupervisor({
    hosts: 1,
    onEvent: (e) => e.type === "host_restarted" && restarts.push(e.error),
    onReply: (request) => {
      seen.push(request);
      return Promise.resolve(`answer to ${request.contents.at(-1)!.parts[0].text}`);
    },
  }, async (s) => {
    await s.deliver(chat("a", "remember me"));
    // An uncaught error in the host: the supervisor restarts it.
    s.faultHost(0);
    await until(() => restarts.length > 0, "the first restart");
    assert.match(restarts[0], /fault injected/);
    // A message whose host dies before it asked for a reply is retried on the new host.
    const inFlight = s.deliver(chat("a", "after crash"));
    s.killHost(0);
    const retried = await inFlight;
    assert.equal(restarts.length, 2);
    assert.deepEqual(retried, { ok: true, reply: "answer to after crash" });
    // The window survived both crashes: it came back from the store.
    assert.deepEqual(turns(seen.at(-1)!.contents), [
      "remember me",
      "answer to remember me",
      "after crash",
    ]);
    // Retried once only: a message whose host dies twice is answered with an error.
    const unlucky = s.deliver(chat("a", "unlucky"));
    s.killHost(0);
    s.killHost(0);
    assert.deepEqual(await unlucky, { ok: false, error: "host_crashed" });
  });
});

Deno.test("a host that dies while an answer is being shown records that answer once shown", async () => {
  let hold: (() => void) | undefined;
  const seen: ReplyRequest[] = [];
  const events: unknown[] = [];
  await withSupervisor({
    hosts: 1,
    onEvent: (e) => e.type === "host_restarted" && events.push(e),
    onReply: async (request) => {
      seen.push(request);
      const text = request.contents.at(-1)!.parts[0].text;
      if (text === "slow") await new Promise<void>((r) => hold = r);
      return `answer to ${text}`;
    },
  }, async (s) => {
    await s.deliver(chat("a", "first"));
    const pending = s.deliver(chat("a", "slow"));
    await until(() => hold !== undefined, "the slow answer to start");
    const queued = s.deliver(chat("a", "queued behind")); // must not overtake the answer
    s.killHost(0); // dies while the answer is being shown: neither asked again nor lost
    assert.deepEqual(events, [{
      type: "host_restarted",
      host: 0,
      error: "terminated",
      retried: 1,
      recorded: 1,
      failed: 0,
    }]);
    hold!();
    assert.deepEqual(await pending, { ok: true, reply: "answer to slow" });
    assert.deepEqual(await queued, { ok: true, reply: "answer to queued behind" });
    assert.equal(seen.filter((r) => turns(r.contents).at(-1) === "slow").length, 1);
    assert.deepEqual(turns(seen.at(-1)!.contents), [
      "first",
      "answer to first",
      "slow",
      "answer to slow",
      "queued behind",
    ]);
  });
});

Deno.test("the sweep runs on its own timer, off the message path", async () => {
  const clock = new ManualClock(0);
  const evicted: string[] = [];
  await withSupervisor({
    idleMs: 60_000,
    sweepMs: 10_000,
    clock,
    onEvent: (e) => e.type === "evicted" && evicted.push(`${e.channelId}:${e.reason}`),
  }, async (s) => {
    await s.deliver(chat("a", "hi"));
    await clock.tick(50_000);
    assert.deepEqual(evicted, []);
    await clock.tick(10_000); // the sweep at 60 s finds a idle for 60 s
    assert.deepEqual(evicted, ["a:idle"]);
    assert.equal(s.liveSessions, 0);
    assert.equal(s.counts.reaped, 1);
  });
});

Deno.test("a session is idle from its last answer, not from its last question", async () => {
  const clock = new ManualClock(0);
  let release: (() => void) | undefined;
  await withSupervisor({
    idleMs: 60_000,
    clock,
    onReply: async () => {
      await new Promise<void>((r) => release = r);
      return "late answer";
    },
  }, async (s) => {
    const pending = s.deliver(chat("a", "hi"));
    await until(() => release !== undefined, "the reply to start");
    await clock.tick(90_000); // a long answer
    assert.equal(s.sweep(), 0, "a busy session was reaped");
    release!();
    await pending;
    await clock.tick(30_000);
    assert.equal(s.sweep(), 0, "reaped 30 s after its answer");
    await clock.tick(30_000);
    assert.equal(s.sweep(), 1);
  });
});

Deno.test("stop finishes the answer in flight, answers queued messages at once, and flushes", async () => {
  let release: (() => void) | undefined;
  await withSupervisor({
    onReply: async (request) => {
      const text = request.contents.at(-1)!.parts[0].text;
      if (text === "in flight") await new Promise<void>((r) => release = r);
      return `answer to ${text}`;
    },
  }, async (s, _calls, dir) => {
    const running = s.deliver(chat("a", "in flight"));
    await until(() => release !== undefined, "the reply to start");
    const queued = s.deliver(chat("a", "queued"));
    const stopped = s.stop();
    assert.deepEqual(await queued, { ok: false, error: "stopping" });
    assert.deepEqual(await s.deliver(chat("b", "late")), { ok: false, error: "stopping" });
    release!();
    assert.deepEqual(await running, { ok: true, reply: "answer to in flight" });
    await stopped;
    const store = SqliteStore.open(`${dir}/s.db`);
    assert.deepEqual((await store.load("a")).map((e) => e.user), ["in flight"]);
    await store.close();
  });
});

Deno.test("evict drops a live session and the next message rehydrates it", async () => {
  await withSupervisor({}, async (s, calls) => {
    await s.deliver(chat("a", "one"));
    assert.equal(s.evict("a"), true);
    assert.equal(s.evict("a"), false);
    assert.equal(s.liveSessions, 0);
    await s.deliver(chat("a", "two"));
    assert.deepEqual(turns(calls.at(-1)!.contents), ["one", "answer to one", "two"]);
  });
});

Deno.test("the supervisor gives up when hosts die more often than its intensity allows", async () => {
  const gaveUp: string[] = [];
  await withSupervisor({ hosts: 1, maxRestarts: 2, onGiveUp: (r) => gaveUp.push(r) }, (s) => {
    s.killHost(0);
    s.killHost(0);
    assert.equal(gaveUp.length, 0);
    s.killHost(0);
    assert.equal(gaveUp.length, 1);
    return Promise.resolve();
  });
});
