import assert from "node:assert/strict";
import { type Content, MAX_EXCHANGES } from "../../lib/sessions/window.ts";
import { MEMORY_ACK, MEMORY_PREAMBLE } from "../../lib/text/prompts.ts";
import { SqliteStore, type UnansweredTurn } from "../../lib/store/sqlite.ts";
import { until } from "../../tests/harness.ts";
import { SessionActor, type SessionActorDeps } from "./actor.ts";

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

Deno.test("SessionActor lends at most 20 exchanges and keeps the ones that left stored until folded", async () => {
  const d = deps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  for (let i = 0; i < MAX_EXCHANGES + 5; i++) await actor.tell(begin(`${i}`, `m${i}`));
  assert.equal(actor.windowSize, MAX_EXCHANGES);
  // No fold came back: the five that left the window wait in the store for one.
  const stored = await d.store.load("c1");
  assert.equal(stored.length, MAX_EXCHANGES + 5);
  assert.equal(stored[0].user, "m0");
});

/** Runs turns `from`..`to - 1` ("m<i>", id "<i>"), returning each commit's result. */
async function turns(actor: SessionActor, from: number, to: number) {
  const results = [];
  for (let i = from; i < to; i++) results.push(await actor.tell(begin(`${i}`, `m${i}`)));
  return results;
}

const blockDeps = (lend: (contents: Content[]) => Promise<string>, store?: SqliteStore) => ({
  ...deps(lend, store),
  dropBlock: 10,
});

Deno.test("SessionActor hands the block that left its window to one turn as a fold, and takes back the memory", async () => {
  let lent: string[] = [];
  const d = blockDeps((contents) => (lent = text(contents), Promise.resolve("r")));
  const actor = new SessionActor("c1", d);
  const results = await turns(actor, 0, MAX_EXCHANGES + 1);
  assert.ok(results.slice(0, MAX_EXCHANGES).every((r) => r.ok && !r.fold));
  const offered = results[MAX_EXCHANGES];
  assert.ok(offered.ok && offered.fold);
  assert.equal(offered.fold.id, "fold:20");
  assert.equal(offered.fold.memory, "");
  assert.deepEqual(
    offered.fold.exchanges.map((e) => e.user),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `m${i}`),
  );
  // One fold out at a time: the next commit hands out none.
  const [next] = await turns(actor, 21, 22);
  assert.ok(next.ok && !next.fold);

  assert.deepEqual(
    await actor.tell({ kind: "remember", id: "fold:20", memory: "- m0~m9 얘기함" }),
    { ok: true },
  );
  assert.equal(await d.store.loadMemory("c1"), "- m0~m9 얘기함");
  assert.deepEqual((await d.store.load("c1")).map((e) => e.user)[0], "m10");
  assert.equal((await d.store.load("c1")).length, 12);
  await turns(actor, 22, 23);
  assert.deepEqual(lent.slice(0, 3), [
    `user:${MEMORY_PREAMBLE}\n- m0~m9 얘기함`,
    `model:${MEMORY_ACK}`,
    "user:m10",
  ]);
});

Deno.test("SessionActor keeps the old memory when a fold fails, and offers the fold again at the next commit", async () => {
  const d = blockDeps(() => Promise.resolve("r"));
  const actor = new SessionActor("c1", d);
  const offered = (await turns(actor, 0, MAX_EXCHANGES + 1)).at(-1)!;
  assert.ok(offered.ok && offered.fold);
  assert.deepEqual(await actor.tell({ kind: "remember", id: offered.fold.id, memory: undefined }), {
    ok: true,
  });
  assert.equal(await d.store.loadMemory("c1"), "");
  const [again] = await turns(actor, 21, 22);
  assert.ok(again.ok && again.fold);
  assert.equal(again.fold.id, "fold:21");
  assert.deepEqual(again.fold.exchanges, offered.fold.exchanges);
  // A late answer for the fold that failed changes nothing.
  await actor.tell({ kind: "remember", id: offered.fold.id, memory: "- 늦은 기억" });
  assert.equal(await d.store.loadMemory("c1"), "");
});

Deno.test("SessionActor drops a fold that began before a /reset", async () => {
  let lent: string[] = [];
  const d = blockDeps((contents) => (lent = text(contents), Promise.resolve("r")));
  const actor = new SessionActor("c1", d);
  const offered = (await turns(actor, 0, MAX_EXCHANGES + 1)).at(-1)!;
  assert.ok(offered.ok && offered.fold);
  await actor.tell({ kind: "reset", id: "r" });
  await actor.tell({ kind: "remember", id: offered.fold.id, memory: "- 지워진 대화" });
  assert.equal(await d.store.loadMemory("c1"), "");
  await turns(actor, 21, 22);
  assert.deepEqual(lent, ["user:m21"]);
});

Deno.test("SessionActor restarted from the store lends the memory first and offers the unfolded block", async () => {
  const store = SqliteStore.open(":memory:");
  const first = new SessionActor("c1", blockDeps(() => Promise.resolve("r"), store));
  const offered = (await turns(first, 0, MAX_EXCHANGES + 1)).at(-1)!;
  assert.ok(offered.ok && offered.fold);
  await first.tell({ kind: "remember", id: offered.fold.id, memory: "- 첫 기억" });
  // Ten more leave the window; the actor is dropped before their fold comes back.
  const second = (await turns(first, 21, 31)).at(-1)!;
  assert.ok(second.ok && second.fold);
  assert.deepEqual(second.fold.exchanges.map((e) => e.user)[0], "m10");

  let lent: string[] = [];
  const restarted = new SessionActor(
    "c1",
    blockDeps((contents) => (lent = text(contents), Promise.resolve("r")), store),
  );
  // The old actor's fold means nothing to the new one.
  await restarted.tell({ kind: "remember", id: second.fold.id, memory: "- 잃어버린 기억" });
  const [again] = await turns(restarted, 31, 32);
  assert.deepEqual(lent.slice(0, 3), [
    `user:${MEMORY_PREAMBLE}\n- 첫 기억`,
    `model:${MEMORY_ACK}`,
    "user:m20",
  ]);
  assert.ok(again.ok && again.fold);
  assert.deepEqual(again.fold.memory, "- 첫 기억");
  assert.deepEqual(
    again.fold.exchanges.map((e) => e.user),
    second.fold.exchanges.map((e) => e.user),
  );
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
