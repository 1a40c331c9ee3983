import assert from "node:assert/strict";
import type { Exchange } from "../sessions/window.ts";
import { type PendingWrite, PendingWrites } from "./pending_writes.ts";

const exchange = (user: string): Exchange => ({ user, model: `re ${user}`, at: 0 });
const append = (channelId: string, user: string, keep = 20): PendingWrite => ({
  kind: "append",
  channelId,
  exchange: exchange(user),
  keep,
});

/** The users of a channel's queued writes, oldest first; "×" stands for a delete. */
function drain(pending: PendingWrites, channelId: string): string[] {
  const out: string[] = [];
  for (let write = pending.peek(channelId); write; write = pending.peek(channelId)) {
    out.push(write.kind === "delete" ? "×" : write.exchange.user);
    pending.shift(channelId);
  }
  return out;
}

Deno.test("PendingWrites keeps each channel's writes in order, channels in first-queued order", () => {
  const pending = new PendingWrites();
  pending.add(append("b", "b1"));
  pending.add(append("a", "a1"));
  pending.add(append("b", "b2"));
  assert.equal(pending.size, 3);
  assert.deepEqual(pending.channels, ["b", "a"]);
  assert.deepEqual(drain(pending, "b"), ["b1", "b2"]);
  assert.equal(pending.has("b"), false);
  assert.deepEqual(pending.channels, ["a"]);
  assert.equal(pending.size, 1);
});

Deno.test("PendingWrites overlays the queued writes on the stored window, trimmed to keep", () => {
  const pending = new PendingWrites();
  const stored = [exchange("s1"), exchange("s2")];
  assert.deepEqual(pending.overlay("a", stored), stored);
  pending.add(append("a", "p1", 3));
  pending.add(append("a", "p2", 3));
  assert.deepEqual(pending.overlay("a", stored).map((e) => e.user), ["s2", "p1", "p2"]);
  pending.add({ kind: "delete", channelId: "a" });
  pending.add(append("a", "p3", 3));
  assert.deepEqual(pending.overlay("a", stored).map((e) => e.user), ["p3"]);
});

Deno.test("PendingWrites drops only what the store would have dropped: before a delete, beyond keep", () => {
  const pending = new PendingWrites();
  for (let i = 1; i <= 5; i++) pending.add(append("a", `a${i}`, 3));
  assert.equal(pending.size, 3);
  pending.add({ kind: "delete", channelId: "a" });
  pending.add({ kind: "delete", channelId: "a" });
  pending.add(append("a", "after", 3));
  assert.deepEqual(drain(pending, "a"), ["×", "after"]);
  assert.equal(pending.size, 0);
});

Deno.test("PendingWrites refuses a write past maxWrites and changes nothing", () => {
  const pending = new PendingWrites({ maxWrites: 2 });
  assert.equal(pending.add(append("a", "a1")), true);
  assert.equal(pending.add(append("b", "b1")), true);
  assert.equal(pending.add(append("c", "c1")), false);
  assert.equal(pending.add(append("a", "a2")), false);
  assert.deepEqual(pending.channels, ["a", "b"]);
  // A delete that replaces a channel's queue fits where a new write would not.
  assert.equal(pending.add({ kind: "delete", channelId: "a" }), true);
  assert.equal(pending.size, 2);
  assert.equal(pending.clear(), 2);
  assert.equal(pending.size, 0);
});
