import assert from "node:assert/strict";
import { AttachmentBudget } from "./budget.ts";
import { ManualClock } from "../clock.ts";

Deno.test("a turn that does not fit waits for room, in order, and gets it when bytes come back", async () => {
  const clock = new ManualClock(0);
  const budget = new AttachmentBudget(100, { clock });
  const first = (await budget.take(70, 1000))!;
  const second = budget.take(50, 1000);
  const third = budget.take(10, 1000);
  let thirdDone = false;
  third.then(() => (thirdDone = true));
  await Promise.resolve();
  assert.equal(thirdDone, false, "a small turn does not jump the queue");
  first();
  assert.equal(typeof await second, "function");
  assert.equal(typeof await third, "function");
  assert.equal(budget.held, 60);
});

Deno.test("a turn with no room within its wait is refused, and the next in line moves up", async () => {
  const clock = new ManualClock(0);
  const budget = new AttachmentBudget(100, { clock });
  const held = (await budget.take(90, 1000))!;
  const late = budget.take(50, 500);
  const small = budget.take(5, 2000);
  await clock.tick(500);
  assert.equal(await late, undefined);
  assert.equal(typeof await small, "function", "the small one fits once the big one left");
  held();
  held();
  assert.equal(budget.held, 5, "a second release gives nothing back twice");
});

Deno.test("a turn larger than the whole budget takes all of it rather than waiting forever", async () => {
  const budget = new AttachmentBudget(100);
  const release = await budget.take(500, 0);
  assert.equal(budget.held, 100);
  release!();
  assert.equal(budget.held, 0);
});
