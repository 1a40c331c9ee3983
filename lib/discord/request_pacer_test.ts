import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { RequestPacer, type RequestPriority } from "./request_pacer.ts";

/** Takes `count` slots and records the clock time each was granted. */
function takeMany(
  pacer: RequestPacer,
  clock: ManualClock,
  count: number,
  priority: RequestPriority = "post",
) {
  const granted: number[] = [];
  for (let i = 0; i < count; i++) {
    pacer.take(priority).then(() => granted.push(clock.now()));
  }
  return granted;
}

Deno.test("RequestPacer never lets a sliding second hold more than burst + perSecond", async () => {
  const clock = new ManualClock(0);
  const pacer = new RequestPacer({ perSecond: 40, burst: 5, clock });
  const granted = takeMany(pacer, clock, 200);
  await clock.tick(6000);
  assert.equal(granted.length, 200);
  for (const start of granted) {
    const inWindow = granted.filter((t) => t >= start && t < start + 1000).length;
    assert.ok(inWindow <= 45, `${inWindow} requests in the second from ${start}`);
  }
});

Deno.test("RequestPacer spreads a backlog evenly instead of in bursts", async () => {
  const clock = new ManualClock(0);
  const pacer = new RequestPacer({ perSecond: 10, burst: 1, clock });
  const granted = takeMany(pacer, clock, 4);
  await clock.tick(400);
  assert.deepEqual(granted, [0, 100, 200, 300]);
});

Deno.test("RequestPacer serves queued posts first, then final edits, then growing edits", async () => {
  const clock = new ManualClock(0);
  const pacer = new RequestPacer({ perSecond: 10, burst: 1, clock });
  const order: string[] = [];
  await pacer.take("post");
  for (const name of ["edit 1", "edit 2"]) pacer.take("edit").then(() => order.push(name));
  pacer.take("final").then(() => order.push("final edit"));
  pacer.take("post").then(() => order.push("first post"));
  await clock.tick(400);
  assert.deepEqual(order, ["first post", "final edit", "edit 1", "edit 2"]);
});

Deno.test("RequestPacer.tryTakeIdle takes a slot only when nothing waits and a token is free", async () => {
  const clock = new ManualClock(0);
  const pacer = new RequestPacer({ perSecond: 10, burst: 2, clock });
  assert.equal(pacer.tryTakeIdle(), true, "a quiet budget");
  const granted = takeMany(pacer, clock, 2);
  await clock.tick(0);
  assert.equal(granted.length, 1, "the burst's second token went to a post; the other waits");
  assert.equal(pacer.tryTakeIdle(), false, "a post is waiting");
  await clock.tick(100);
  assert.equal(granted.length, 2);
  assert.equal(pacer.tryTakeIdle(), false, "nothing waits, but no token is free yet");
  await clock.tick(100);
  assert.equal(pacer.tryTakeIdle(), true, "idle again");
});

Deno.test("RequestPacer refills after a quiet spell, up to the burst", async () => {
  const clock = new ManualClock(0);
  const pacer = new RequestPacer({ perSecond: 10, burst: 3, clock });
  takeMany(pacer, clock, 3);
  await clock.tick(10_000);
  const granted = takeMany(pacer, clock, 4);
  await clock.tick(0);
  assert.equal(granted.length, 3, "a full burst, not ten seconds' worth");
});

Deno.test("RequestPacer refuses a rate that is not positive", () => {
  assert.throws(() => new RequestPacer({ perSecond: 0 }), /'perSecond' must be positive/);
});

Deno.test("RequestPacer takes a token of the shared budget for every request, waiting for more", async () => {
  const clock = new ManualClock(0);
  let shared = 2;
  let asked = 0;
  const pacer = new RequestPacer({
    perSecond: 100,
    burst: 5,
    clock,
    shared: {
      tryTake: () => {
        asked++;
        if (shared === 0) return false;
        shared--;
        return true;
      },
    },
  });
  const granted = takeMany(pacer, clock, 4);
  await clock.tick(0);
  assert.deepEqual(granted, [0, 0], "the local burst is 5, the shared budget 2");
  await clock.tick(50);
  assert.equal(granted.length, 2, "nothing more without shared tokens");
  assert.ok(asked > 3, "it kept asking, a few times, not spinning");
  assert.ok(asked < 20, `it asked ${asked} times in 50 ms`);
  shared = 5;
  await clock.tick(20);
  assert.equal(granted.length, 4, "shared tokens came: the queue goes on");
});
