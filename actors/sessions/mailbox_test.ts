import assert from "node:assert/strict";
import { Mailbox } from "./mailbox.ts";

Deno.test("Mailbox handles messages one at a time in the order posted", async () => {
  const log: string[] = [];
  let running = 0;
  const box = new Mailbox(async (n: number) => {
    running++;
    assert.equal(running, 1, "two handlers ran at once");
    log.push(`start ${n}`);
    await new Promise((r) => setTimeout(r, 3 - n));
    log.push(`end ${n}`);
    running--;
    return n * 10;
  });
  const results = await Promise.all([box.post(1), box.post(2), box.post(3)]);
  assert.deepEqual(results, [10, 20, 30]);
  assert.deepEqual(log, ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
});

Deno.test("Mailbox keeps going after a handler throws, rejecting only that message", async () => {
  const box = new Mailbox((n: number) =>
    n === 2 ? Promise.reject(new Error("boom")) : Promise.resolve(n)
  );
  const results = await Promise.allSettled([box.post(1), box.post(2), box.post(3)]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
});

Deno.test("Mailbox.idle resolves once the queue has drained", async () => {
  const box = new Mailbox((n: number) => new Promise<number>((r) => setTimeout(() => r(n), 5)));
  void box.post(1);
  void box.post(2);
  assert.equal(box.size, 2);
  await box.idle();
  assert.equal(box.size, 0);
});

Deno.test("Mailbox.cancelQueued answers waiting messages without running them, not the running one", async () => {
  const handled: number[] = [];
  let release!: () => void;
  const box = new Mailbox(async (n: number) => {
    handled.push(n);
    if (n === 1) await new Promise<void>((r) => release = r);
    return `done ${n}`;
  });
  const results = [box.post(1), box.post(2), box.post(3)];
  await Promise.resolve();
  assert.equal(box.cancelQueued((n) => `cancelled ${n}`), 2);
  release();
  assert.deepEqual(await Promise.all(results), ["done 1", "cancelled 2", "cancelled 3"]);
  assert.deepEqual(handled, [1]);
  assert.equal(box.size, 0);
});
