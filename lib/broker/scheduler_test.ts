import assert from "node:assert/strict";
import { brokerSettings } from "./options.ts";
import { type Job, newJob } from "./queue.ts";
import { BrokerScheduler, type LateReason } from "./scheduler.ts";
import { ManualClock } from "../clock.ts";
import { MemoryTokenPool } from "../quota/token_pool.ts";

function job(seq: number, more: Partial<Job> = {}): Job {
  const request = { priority: "chat" as const, contents: [] };
  return { ...newJob(request, { seq, now: 0, maxWaitMs: 60_000, estimate: 10 }), ...more };
}

function setup(rpm: number, maxConcurrency: number) {
  const clock = new ManualClock(0);
  const pool = new MemoryTokenPool(["k1"], { rpm, tpm: 1_000_000, rpd: 1000 });
  const started: number[] = [];
  const late: [number, LateReason][] = [];
  const scheduler = new BrokerScheduler(
    { pool, clock, settings: brokerSettings({ maxConcurrency }) },
    {
      start: (j) => started.push(j.seq),
      late: (j, reason) => late.push([j.seq, reason]),
    },
  );
  return { clock, scheduler, started, late };
}

Deno.test("no more than maxConcurrency start; a finished one lets the next in", () => {
  const { scheduler, started } = setup(100, 2);
  for (let i = 0; i < 3; i++) scheduler.enqueue(job(i));
  scheduler.pump();
  assert.deepEqual(started, [0, 1]);
  assert.equal(scheduler.active, 2);
  assert.equal(scheduler.length, 1);
  scheduler.done();
  assert.deepEqual(started, [0, 1, 2]);
});

Deno.test("a retry's delay and the pool's quota are waited for on the clock", async () => {
  const { clock, scheduler, started } = setup(1, 10);
  scheduler.enqueue(job(0, { notBefore: 2000, deadline: 600_000 }));
  scheduler.enqueue(job(1));
  scheduler.pump();
  assert.deepEqual(started, [1]);
  await clock.tick(2000);
  assert.deepEqual(started, [1], "the minute's one request is spent");
  await clock.tick(60_000);
  assert.deepEqual(started, [1, 0]);
});

Deno.test("a job that cannot start before its deadline is handed back late, and stop drains the rest", async () => {
  const { clock, scheduler, started, late } = setup(1, 10);
  scheduler.enqueue(job(0));
  scheduler.enqueue(job(1, { deadline: 30_000 }));
  scheduler.enqueue(job(2, { deadline: 600_000 }));
  scheduler.pump();
  assert.deepEqual(started, [0]);
  assert.deepEqual(late, [[1, "unavailable"]], "the pool's next room is after its deadline");
  assert.deepEqual(scheduler.stop().map((j) => j.seq), [2]);
  await clock.tick(120_000);
  assert.deepEqual(started, [0], "a stopped scheduler starts nothing");
  let idle = false;
  void scheduler.idle().then(() => idle = true);
  scheduler.done();
  await Promise.resolve();
  assert.ok(idle);
});
