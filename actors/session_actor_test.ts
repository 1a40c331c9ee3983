import assert from "node:assert/strict";
import type { Content } from "../lib/history_window.ts";
import { SqliteStore } from "../lib/store.ts";
import { until } from "../tests/harness.ts";
import { SessionActor, type SessionActorDeps } from "./session_actor.ts";

function deps(
  reply: (contents: Content[]) => Promise<string | undefined>,
  store = SqliteStore.open(":memory:"),
): SessionActorDeps & { store: SqliteStore } {
  return { store, now: () => 1000, reply: (_id, contents) => reply(contents) };
}

const text = (contents: Content[]) => contents.map((c) => `${c.role}:${c.parts[0].text}`);

Deno.test("SessionActor sends its window with the new message and persists the exchange", async () => {
  const seen: string[][] = [];
  const d = deps((contents) => {
    seen.push(text(contents));
    return Promise.resolve(`re ${seen.length}`);
  });
  const actor = new SessionActor("c1", d);
  assert.deepEqual(await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "hi" }), {
    ok: true,
    reply: "re 1",
  });
  await actor.tell({ kind: "chat", id: "2", channelId: "c1", text: "again" });
  assert.deepEqual(seen[1], ["user:hi", "model:re 1", "user:again"]);
  assert.deepEqual(await d.store.load("c1"), [
    { user: "hi", model: "re 1", at: 1000, id: "1" },
    { user: "again", model: "re 2", at: 1000, id: "2" },
  ]);
});

Deno.test("SessionActor keeps two identical exchanges: a repeated line is still history", async () => {
  const d = deps(() => Promise.resolve("ㅇㅇ"));
  const actor = new SessionActor("c1", d);
  await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "민수: 밥 먹었어?" });
  await actor.tell({ kind: "chat", id: "2", channelId: "c1", text: "민수: 밥 먹었어?" });
  assert.equal(actor.windowSize, 2);
  assert.deepEqual((await d.store.load("c1")).map((e) => e.id), ["1", "2"]);
});

Deno.test("SessionActor reset works even when the stored window cannot be read", async () => {
  const store = SqliteStore.open(":memory:");
  store.load = () => Promise.reject(new SyntaxError("damaged row"));
  const actor = new SessionActor("c1", deps(() => Promise.resolve("r"), store));
  assert.deepEqual(await actor.tell({ kind: "reset", id: "r", channelId: "c1" }), { ok: true });
  assert.deepEqual(await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "hi" }), {
    ok: true,
    reply: "r",
  });
});

Deno.test("SessionActor rehydrates its window from the store", async () => {
  const store = SqliteStore.open(":memory:");
  await store.append("c1", { user: "old", model: "answer", at: 1 }, 20);
  let sent: string[] = [];
  const actor = new SessionActor(
    "c1",
    deps((c) => {
      sent = text(c);
      return Promise.resolve("ok");
    }, store),
  );
  await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "new" });
  assert.deepEqual(sent, ["user:old", "model:answer", "user:new"]);
});

Deno.test("SessionActor keeps only the last 20 exchanges, in memory and in the store", async () => {
  const d = deps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  for (let i = 0; i < 25; i++) {
    await actor.tell({ kind: "chat", id: `${i}`, channelId: "c1", text: `m${i}` });
  }
  const stored = await d.store.load("c1");
  assert.equal(stored.length, 20);
  assert.equal(stored[0].user, "m5");
  assert.equal(actor.windowSize, 20);
});

Deno.test("SessionActor records nothing when no answer could be given", async () => {
  const d = deps(() => Promise.resolve(undefined));
  const actor = new SessionActor("c1", d);
  assert.deepEqual(await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "hi" }), {
    ok: false,
    error: "not_answered",
  });
  assert.deepEqual(await d.store.load("c1"), []);
});

Deno.test("SessionActor reset forgets the window in memory and in the store", async () => {
  const d = deps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "hi" });
  await actor.tell({ kind: "reset", id: "2", channelId: "c1" });
  assert.equal(actor.windowSize, 0);
  assert.deepEqual(await d.store.load("c1"), []);
});

Deno.test("SessionActor that throws reports a crash and bounces later commands", async () => {
  const d = deps(() => Promise.reject(new Error("bug")));
  const actor = new SessionActor("c1", d);
  const first = await actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "hi" });
  assert.deepEqual(first, { ok: false, error: "crashed", message: "bug" });
  assert.equal(actor.crashed, true);
  // Later commands are not run on suspect state: they bounce, and the host re-sends them.
  const later = await actor.tell({ kind: "chat", id: "2", channelId: "c1", text: "again" });
  assert.deepEqual(later, { ok: false, error: "bounced" });
});

Deno.test("SessionActor records an answer already shown, once, without asking for a reply", async () => {
  const d = deps(() => Promise.reject(new Error("must not ask")));
  const actor = new SessionActor("c1", d);
  const record = { kind: "record" as const, id: "1", channelId: "c1", user: "hi", model: "yo" };
  assert.deepEqual(await actor.tell(record), { ok: true, reply: "yo" });
  assert.deepEqual(await actor.tell(record), { ok: true, reply: "yo" }); // a repeat is a no-op
  assert.deepEqual(await d.store.load("c1"), [{ user: "hi", model: "yo", at: 1000, id: "1" }]);
});

Deno.test("SessionActor stop lets the running command finish and refuses queued ones", async () => {
  let release: (() => void) | undefined;
  const d = deps(async () => {
    await new Promise<void>((r) => release = r);
    return "r";
  });
  const actor = new SessionActor("c1", d);
  const running = actor.tell({ kind: "chat", id: "1", channelId: "c1", text: "a" });
  const queued = actor.tell({ kind: "chat", id: "2", channelId: "c1", text: "b" });
  await until(() => release !== undefined, "the first command to ask for its reply");
  const stopped = actor.stop();
  assert.deepEqual(await queued, { ok: false, error: "stopping" });
  release!();
  await stopped;
  assert.deepEqual(await running, { ok: true, reply: "r" });
  assert.deepEqual(
    await actor.tell({ kind: "chat", id: "3", channelId: "c1", text: "c" }),
    { ok: false, error: "stopping" },
  );
  assert.deepEqual((await d.store.load("c1")).map((e) => e.user), ["a"]);
});
