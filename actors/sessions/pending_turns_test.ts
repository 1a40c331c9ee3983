import assert from "node:assert/strict";
import { afterHostDied, commitResultOf, newPending, settlePending } from "./pending_turns.ts";

const begin = (channelId: string, id: string) =>
  newPending({ type: "begin", channelId, id, line: "민수: 안녕" } as never);

Deno.test("afterHostDied: a dead host's entries in arrival order; a second unlent try fails", () => {
  const first = begin("1", "a");
  const lent = begin("1", "b");
  lent.stage = "lent";
  lent.attempts = 2;
  const retried = begin("1", "c");
  retried.attempts = 2;
  const elsewhere = begin("2", "d");
  const pending = new Map([["a", first], ["b", lent], ["c", retried], ["d", elsewhere]]);
  const plan = afterHostDied(pending, (channelId) => channelId === "1");
  assert.deepEqual(plan.map((p) => [p.id, p.resend]), [["a", true], ["b", true], ["c", false]]);
  assert.equal(first.attempts, 2);
  assert.equal(lent.attempts, 3);
  assert.equal(retried.attempts, 2);
  assert.equal(elsewhere.attempts, 1);
});

Deno.test("settlePending: a turn that never got its window is told so at once", async () => {
  const pending = begin("1", "a");
  settlePending(pending, { ok: false, error: "host_crashed" });
  assert.deepEqual(await pending.lent.promise, { ok: false, error: "host_crashed" });
  assert.deepEqual(await pending.done.promise, { ok: false, error: "host_crashed" });
});

Deno.test("commitResultOf: a bounced turn reads as a crash; a fold is handed on", () => {
  assert.deepEqual(commitResultOf({ ok: false, error: "bounced" } as never), {
    ok: false,
    error: "crashed",
    message: undefined,
  });
  const fold = { id: "f" } as never;
  assert.deepEqual(commitResultOf({ ok: true, recorded: true, fold } as never), {
    ok: true,
    recorded: true,
    unsaved: false,
    fold,
  });
});
