import assert from "node:assert/strict";
import { type Content, MAX_EXCHANGES } from "../lib/history_window.ts";
import { SqliteStore, type UnansweredTurn } from "../lib/store.ts";
import { until } from "../tests/harness.ts";
import { SessionActor, type SessionActorDeps } from "./session_actor.ts";

/** An actor's deps on a fresh in-memory store; `lend` plays the main thread's part of a turn. */
function deps(
  lend: (contents: Content[], id: string) => Promise<string | undefined>,
  store = SqliteStore.open(":memory:"),
): SessionActorDeps & { store: SqliteStore } {
  return {
    store,
    now: () => 1000,
    maxExchanges: MAX_EXCHANGES,
    lend: (id, contents) => lend(contents, id),
  };
}

const text = (contents: Content[]) => contents.map((c) => `${c.role}:${c.parts[0].text}`);
const begin = (id: string, line: string) => ({ kind: "begin" as const, id, line });

/** The turns noted in flight, read without forgetting them (`takeUnanswered` consumes). */
async function peekUnanswered(store: SqliteStore): Promise<UnansweredTurn[]> {
  const turns = await store.takeUnanswered();
  for (const turn of turns) await store.beginTurn(turn.channelId, turn.id, 0);
  return turns;
}

Deno.test("SessionActor lends its window with the new line and persists the exchange", async () => {
  const seen: string[][] = [];
  const d = deps((contents) => {
    seen.push(text(contents));
    return Promise.resolve(`re ${seen.length}`);
  });
  const actor = new SessionActor("c1", d);
  assert.deepEqual(await actor.tell(begin("1", "hi")), { ok: true, recorded: true });
  await actor.tell(begin("2", "again"));
  assert.deepEqual(seen, [["user:hi"], ["user:hi", "model:re 1", "user:again"]]);
  assert.deepEqual(await d.store.load("c1"), [
    { user: "hi", model: "re 1", at: 1000, id: "1" },
    { user: "again", model: "re 2", at: 1000, id: "2" },
  ]);
});

Deno.test("SessionActor notes the turn in flight before lending and ends it on commit", async () => {
  const d = deps(() => Promise.resolve(undefined));
  let whileLent: UnansweredTurn[] = [];
  d.lend = async (id) => {
    whileLent = await peekUnanswered(d.store);
    return id === "1" ? "shown" : undefined;
  };
  const actor = new SessionActor("c1", d);
  // Recorded: appending the exchange ends the turn.
  assert.deepEqual(await actor.tell(begin("1", "hi")), { ok: true, recorded: true });
  assert.deepEqual(whileLent, [{ channelId: "c1", id: "1" }]);
  assert.deepEqual(await d.store.takeUnanswered(), []);
  // Nothing shown: the turn is ended all the same.
  assert.deepEqual(await actor.tell(begin("2", "again")), { ok: true, recorded: false });
  assert.deepEqual(whileLent, [{ channelId: "c1", id: "2" }]);
  assert.deepEqual(await d.store.takeUnanswered(), []);
});

Deno.test("SessionActor keeps two identical exchanges: a repeated line is still history", async () => {
  const d = deps(() => Promise.resolve("ㅇㅇ"));
  const actor = new SessionActor("c1", d);
  await actor.tell(begin("1", "민수: 밥 먹었어?"));
  await actor.tell(begin("2", "민수: 밥 먹었어?"));
  assert.equal(actor.windowSize, 2);
  assert.deepEqual((await d.store.load("c1")).map((e) => e.id), ["1", "2"]);
});

Deno.test("SessionActor does not record twice a turn lent again whose id is recorded", async () => {
  // A host that died between recording a turn and saying so gets the turn begun again.
  const store = SqliteStore.open(":memory:");
  await store.append("c1", { user: "hi", model: "yo", at: 1, id: "1" }, MAX_EXCHANGES);
  const actor = new SessionActor("c1", deps(() => Promise.resolve("yo"), store));
  // The exchange is in the history: that is what "recorded" tells the turn's owner.
  assert.deepEqual(await actor.tell(begin("1", "hi")), { ok: true, recorded: true });
  assert.equal(actor.windowSize, 1);
  assert.deepEqual(await store.load("c1"), [{ user: "hi", model: "yo", at: 1, id: "1" }]);
  assert.deepEqual(await store.takeUnanswered(), [], "the turn begun again was not ended");
});

Deno.test("SessionActor reset works even when the stored window cannot be read", async () => {
  const store = SqliteStore.open(":memory:");
  store.load = () => Promise.reject(new SyntaxError("damaged row"));
  const actor = new SessionActor("c1", deps(() => Promise.resolve("r"), store));
  assert.deepEqual(await actor.tell({ kind: "reset", id: "r" }), { ok: true });
  assert.deepEqual(await actor.tell(begin("1", "hi")), { ok: true, recorded: true });
});

Deno.test("SessionActor rehydrates its window from the store", async () => {
  const store = SqliteStore.open(":memory:");
  await store.append("c1", { user: "old", model: "answer", at: 1 }, MAX_EXCHANGES);
  let lent: string[] = [];
  const actor = new SessionActor(
    "c1",
    deps((c) => {
      lent = text(c);
      return Promise.resolve("ok");
    }, store),
  );
  await actor.tell(begin("1", "new"));
  assert.deepEqual(lent, ["user:old", "model:answer", "user:new"]);
});

Deno.test("SessionActor keeps only the last 20 exchanges, in memory and in the store", async () => {
  const d = deps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  for (let i = 0; i < MAX_EXCHANGES + 5; i++) await actor.tell(begin(`${i}`, `m${i}`));
  const stored = await d.store.load("c1");
  assert.equal(stored.length, MAX_EXCHANGES);
  assert.equal(stored[0].user, "m5");
  assert.equal(actor.windowSize, MAX_EXCHANGES);
});

Deno.test("SessionActor records nothing when the turn hands back nothing shown", async () => {
  const d = deps(() => Promise.resolve(undefined));
  const actor = new SessionActor("c1", d);
  assert.deepEqual(await actor.tell(begin("1", "hi")), { ok: true, recorded: false });
  assert.equal(actor.windowSize, 0);
  assert.deepEqual(await d.store.load("c1"), []);
});

Deno.test("SessionActor reset forgets the window in memory and in the store", async () => {
  const d = deps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  await actor.tell(begin("1", "hi"));
  await actor.tell({ kind: "reset", id: "2" });
  assert.equal(actor.windowSize, 0);
  assert.deepEqual(await d.store.load("c1"), []);
});

Deno.test("SessionActor whose store throws reports a crash and bounces later commands", async () => {
  const d = deps(() => Promise.resolve("shown"));
  d.store.append = () => Promise.reject(new Error("disk full"));
  const actor = new SessionActor("c1", d);
  const first = await actor.tell(begin("1", "hi"));
  assert.deepEqual(first, { ok: false, error: "crashed", message: "disk full" });
  assert.equal(actor.crashed, true);
  // Later commands are not run on suspect state: they bounce, and the host re-sends them.
  assert.deepEqual(await actor.tell(begin("2", "again")), { ok: false, error: "bounced" });
  assert.deepEqual(await actor.tell({ kind: "reset", id: "3" }), { ok: false, error: "bounced" });
});

Deno.test("SessionActor stop lets the held turn finish and refuses queued ones", async () => {
  let release: ((shown: string) => void) | undefined;
  const d = deps(() => new Promise<string>((r) => release = r));
  const actor = new SessionActor("c1", d);
  const held = actor.tell(begin("1", "a"));
  const queued = actor.tell(begin("2", "b"));
  await until(() => release !== undefined, "the first turn to be lent the window");
  const stopped = actor.stop();
  assert.deepEqual(await queued, { ok: false, error: "stopping" });
  release!("r");
  await stopped;
  assert.deepEqual(await held, { ok: true, recorded: true });
  assert.deepEqual(await actor.tell(begin("3", "c")), { ok: false, error: "stopping" });
  assert.deepEqual((await d.store.load("c1")).map((e) => e.user), ["a"]);
  // The queued turn never began: nothing is left noted as unanswered.
  assert.deepEqual(await d.store.takeUnanswered(), []);
});
