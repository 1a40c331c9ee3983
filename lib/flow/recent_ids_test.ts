import assert from "node:assert/strict";
import { RecentIds } from "./recent_ids.ts";

Deno.test("an id added again is refused, whether or not its first handling is over", () => {
  const seen = new RecentIds(3);
  assert.equal(seen.add("1"), true);
  assert.equal(seen.add("2"), true);
  assert.equal(seen.add("1"), false);
  assert.equal(seen.add("2"), false);
});

Deno.test("past its capacity the oldest id is forgotten, and the set stays bounded", () => {
  const seen = new RecentIds(3);
  for (const id of ["1", "2", "3", "4"]) assert.equal(seen.add(id), true);
  assert.equal(seen.size, 3);
  assert.equal(seen.add("1"), true, "the oldest was forgotten");
  assert.equal(seen.add("3"), false, "a recent one is still known");
  for (let i = 0; i < 10_000; i++) seen.add(`x${i}`);
  assert.equal(seen.size, 3);
});

Deno.test("a refused id does not refresh its place: it leaves when its turn comes", () => {
  const seen = new RecentIds(2);
  seen.add("1");
  seen.add("2");
  seen.add("1");
  seen.add("3");
  assert.equal(seen.add("1"), true, "1 was the oldest and left for 3");
});

Deno.test("a capacity below one is refused", () => {
  assert.throws(() => new RecentIds(0), RangeError);
});
