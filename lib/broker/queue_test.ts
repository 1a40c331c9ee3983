import assert from "node:assert/strict";
import { endWait, type Job, JobQueue, newJob, planWaits } from "./queue.ts";

function job(seq: number, rank: number, more: Partial<Job> = {}): Job {
  const request = { priority: rank === 0 ? "chat" as const : "summary" as const, contents: [] };
  return { ...newJob(request, { seq, now: 0, maxWaitMs: 60_000, estimate: 1 }), ...more };
}

Deno.test("the queue keeps chat before summaries, oldest first, and a retry returns to its place", () => {
  const queue = new JobQueue();
  for (const j of [job(0, 1), job(1, 0), job(2, 1), job(3, 0)]) queue.insert(j);
  assert.deepEqual(queue.jobs.map((j) => j.seq), [1, 3, 0, 2]);
  const first = queue.takeReady(0)!;
  assert.equal(first.seq, 1);
  queue.insert(first);
  assert.deepEqual(queue.jobs.map((j) => j.seq), [1, 3, 0, 2]);
});

Deno.test("a job waiting out a retry is passed over, and the next change is its start or a deadline", () => {
  const queue = new JobQueue();
  queue.insert(job(0, 0, { notBefore: 5000 }));
  queue.insert(job(1, 1, { deadline: 9000 }));
  assert.equal(queue.peekReady(0)?.seq, 1);
  assert.equal(queue.nextChange(0), 5000);
  assert.equal(queue.takeReady(0)?.seq, 1);
  assert.equal(queue.takeReady(0), undefined);
  assert.equal(queue.drain().length, 1);
  assert.equal(queue.length, 0);
});

Deno.test("planWaits: late jobs are named; callers hear of waits over the threshold, and of moves of 1 s", () => {
  const told = job(0, 0, { request: { priority: "chat", contents: [], onWait() {} } });
  const soon = job(1, 0, { request: { priority: "chat", contents: [], onWait() {} } });
  const silent = job(2, 0);
  const late = job(3, 0, { deadline: 7000 });
  const slots = [8000, 2000, 9000, 9000];
  const at = { now: 0, slots, poolReadyAt: 0, thresholdMs: 5000 };
  const plan = planWaits([told, soon, silent, late], at);
  assert.deepEqual(plan.announce, [[told, 8000]]);
  assert.deepEqual(plan.late, [late]);
  told.announced = 8000;
  assert.deepEqual(planWaits([told], { ...at, slots: [8900] }).announce, []);
  assert.deepEqual(planWaits([told], { ...at, slots: [9000] }).announce, [[told, 9000]]);
  // The pool's own wait, or a retry's delay, outweighs an earlier slot.
  assert.deepEqual(planWaits([soon], { ...at, slots: [], poolReadyAt: 6000 }).announce, [[
    soon,
    6000,
  ]]);
});

Deno.test("endWait tells a caller once that it no longer waits", () => {
  const heard: (number | undefined)[] = [];
  const j = job(0, 0, {
    request: { priority: "chat", contents: [], onWait: (t) => heard.push(t) },
  });
  endWait(j);
  j.announced = 8000;
  endWait(j);
  endWait(j);
  assert.deepEqual(heard, [undefined]);
  assert.equal(j.announced, undefined);
});
