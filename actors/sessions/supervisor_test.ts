/**
 * The supervisor's policy, applied: pure, so driven with plain numbers for time. What crosses
 * workers is tested through `Sessions` in `actors/sessions/sessions_test.ts`.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_SUPERVISOR_POLICY,
  type SupervisorPolicy,
} from "../../lib/sessions/supervisor_policy.ts";
import { Supervisor } from "./supervisor.ts";

const supervisor = (policy: Partial<SupervisorPolicy>) =>
  new Supervisor({ ...DEFAULT_SUPERVISOR_POLICY, ...policy });

/** One whole turn in `channelId` at `now`; returns what its start evicted. */
function turn(s: Supervisor, channelId: string, now: number): string[] {
  const evicted = s.busy(channelId, now);
  s.done(channelId, now);
  return evicted;
}

Deno.test("the LRU cap evicts the least recently used session, not the oldest created", () => {
  const s = supervisor({ maxSessions: 3 });
  assert.deepEqual(turn(s, "a", 1), []);
  assert.deepEqual(turn(s, "b", 2), []);
  assert.deepEqual(turn(s, "c", 3), []);
  turn(s, "a", 4); // a becomes the most recent
  assert.deepEqual(turn(s, "d", 5), ["b"]);
  assert.deepEqual(s.lruOrder, ["c", "a", "d"]);
  assert.equal(s.counts.evicted, 1);
});

Deno.test("a busy session is never evicted, even past the cap", () => {
  const s = supervisor({ maxSessions: 1 });
  s.busy("a", 1);
  assert.deepEqual(s.busy("b", 2), [], "a busy session was evicted");
  assert.equal(s.liveSessions, 2);
  s.done("b", 3);
  // Over the cap again: b is idle and goes, a is still busy and stays.
  assert.deepEqual(s.busy("c", 4), ["b"]);
  assert.deepEqual(s.lruOrder, ["a", "c"]);
  assert.equal(s.evict("a"), false, "evicted a busy session by hand");
  s.done("a", 5);
  assert.equal(s.evict("a"), true);
  assert.equal(s.evict("a"), false, "evicted a session that was no longer live");
  assert.deepEqual(s.lruOrder, ["c"]);
  assert.equal(s.counts.evicted, 2);
});

Deno.test("a session with two turns begun stays busy until both are done", () => {
  const s = supervisor({ maxSessions: 1, idleMs: 10 });
  s.busy("a", 0);
  s.busy("a", 0);
  s.done("a", 1);
  assert.equal(s.evict("a"), false);
  assert.deepEqual(s.sweep(100), []);
  s.done("a", 100);
  assert.deepEqual(s.sweep(110), ["a"]);
});

Deno.test("the sweep reaps only sessions idle for idleMs", () => {
  const s = supervisor({ idleMs: 60_000 });
  turn(s, "a", 0);
  turn(s, "b", 30_000);
  assert.deepEqual(s.sweep(59_999), []);
  assert.deepEqual(s.sweep(70_000), ["a"]); // b has been idle for 40 s only
  assert.deepEqual(s.lruOrder, ["b"]);
  assert.equal(s.counts.reaped, 1);
});

Deno.test("a session is idle from its last done, not from its busy", () => {
  const s = supervisor({ idleMs: 60_000 });
  s.busy("a", 0);
  assert.deepEqual(s.sweep(90_000), [], "a busy session was reaped"); // a long answer
  s.done("a", 90_000);
  assert.deepEqual(s.sweep(120_000), [], "reaped 30 s after its answer");
  assert.deepEqual(s.sweep(150_000), ["a"]);
});

Deno.test("restart intensity: the supervisor gives up past the policy, in a sliding period", () => {
  const s = supervisor({ intensity: 2, periodMs: 1000 });
  const onNoHost = () => false;
  assert.equal(s.hostDied(0, onNoHost), true);
  assert.equal(s.hostDied(100, onNoHost), true);
  assert.equal(s.hostDied(200, onNoHost), false, "a third restart within the period");
  assert.equal(s.hostDied(1250, onNoHost), true, "the earlier restarts have left the period");
  assert.equal(s.counts.restarted, 4);
});

Deno.test("a dead host's sessions are forgotten, the other hosts' kept", () => {
  const s = supervisor({});
  turn(s, "a", 1);
  turn(s, "b", 2);
  s.busy("c", 3);
  assert.equal(s.hostDied(4, (id) => id !== "b"), true);
  assert.deepEqual(s.lruOrder, ["b"]);
  // The turn begun again on the new host makes its session live and busy once more.
  s.busy("c", 5);
  assert.equal(s.evict("c"), false);
});

Deno.test("crashed actors are counted", () => {
  const s = supervisor({});
  s.actorCrashed();
  s.actorCrashed();
  assert.deepEqual(s.counts, { evicted: 0, reaped: 0, restarted: 0, crashed: 2 });
});
