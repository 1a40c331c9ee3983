import assert from "node:assert/strict";
import {
  correctSend,
  endedLeases,
  forgetSettled,
  leaseKeys,
  leaseWithRoom,
  newLease,
  offlineInWindow,
  requestsLeft,
  spendFrom,
  usedMember,
} from "./leases.ts";

const keyWith = (...leases: ReturnType<typeof newLease>[]) => {
  const key = leaseKeys(["secret"]).get("key1")!;
  key.leases.push(...leases);
  return key;
};

Deno.test("leaseKeys: Redis sees a fingerprint, never the key", () => {
  const key = leaseKeys(["AIza-secret"]).get("key1")!;
  assert.match(key.fingerprint, /^[0-9a-f]{16}$/);
  assert.ok(!key.fingerprint.includes("secret"));
});

Deno.test("a lease is spent request by request and says when it is used up", () => {
  const lease = newLease("p:1", 2, 100, 0, "2026-01-01");
  const key = keyWith(lease);
  assert.equal(leaseWithRoom(key, 60), lease);
  assert.equal(spendFrom(lease, 60, 10), false);
  assert.equal(leaseWithRoom(key, 60), undefined); // 120 tokens would pass the grant
  assert.equal(requestsLeft(key), 1);
  assert.equal(spendFrom(lease, 40, 20), true);
  assert.equal(usedMember(lease), "p:1|2|100");
});

Deno.test("correctSend: a refusal gives its request back; a settled lease is written again", () => {
  const lease = newLease("p:1", 3, 300, 0, "2026-01-01");
  const key = keyWith(lease);
  spendFrom(lease, 100, 5);
  assert.equal(correctSend(key, 5, -1, -100), undefined);
  assert.equal(usedMember(lease), "");
  spendFrom(lease, 100, 6);
  lease.settled = true;
  assert.equal(correctSend(key, 6, 0, 20), lease);
  assert.equal(lease.usedTokens, 120);
});

Deno.test("correctSend: sends made without Redis are corrected too", () => {
  const key = keyWith();
  key.offline.push({ at: 1, tokens: 50, day: "d" }, { at: 2, tokens: 50, day: "d" });
  correctSend(key, 1, 0, -20);
  correctSend(key, 2, -1, -50);
  assert.deepEqual(key.offline, [{ at: 1, tokens: 30, day: "d" }]);
});

Deno.test("ended leases are settled after their life; settled ones leave with the window", () => {
  const old = newLease("p:1", 2, 100, 0, "d");
  const young = newLease("p:2", 2, 100, 1500, "d");
  const key = keyWith(old, young);
  assert.deepEqual(endedLeases(key, 2000, 2000), [old]);
  old.settled = true;
  forgetSettled(key, 2000, 1000);
  assert.deepEqual(key.leases, [young]);
});

Deno.test("offlineInWindow: the sends still in the window, together", () => {
  const key = keyWith();
  assert.equal(offlineInWindow(key, 0, 1000), undefined);
  key.offline.push({ at: 0, tokens: 10, day: "d" }, { at: 600, tokens: 20, day: "d" });
  assert.deepEqual(offlineInWindow(key, 1200, 1000), { requests: 1, tokens: 20, lastAt: 600 });
});
