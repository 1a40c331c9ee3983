import assert from "node:assert/strict";
import { parseShardIds, processCount, shardLabel, shardOf } from "./shard_range.ts";

Deno.test("parseShardIds reads one id or an inclusive range, and refuses the rest", () => {
  assert.deepEqual(parseShardIds("2"), { first: 2, last: 2 });
  assert.deepEqual(parseShardIds(" 0 - 3 "), { first: 0, last: 3 });
  for (const bad of ["", "-1", "a", "1-", "3-2", "1,2", "1.5", "1-2-3"]) {
    assert.equal(parseShardIds(bad), undefined, bad);
  }
});

Deno.test("processCount is how many equal ranges cover every shard", () => {
  assert.equal(processCount({ first: 0, last: 0, total: 2 }), 2);
  assert.equal(processCount({ first: 0, last: 3, total: 4 }), 1);
  assert.equal(processCount({ first: 4, last: 6, total: 8 }), 3, "rounded up: never too large");
});

Deno.test("shardOf follows Discord's rule: (guild_id >> 22) % shard_count", () => {
  const guild = (timestampBits: bigint) => String(timestampBits << 22n | 12345n);
  assert.equal(shardOf(guild(0n), 4), 0);
  assert.equal(shardOf(guild(5n), 4), 1);
  assert.equal(shardOf(guild(7n), 4), 3);
  assert.equal(shardOf(undefined, 4), 0, "DMs arrive on shard 0");
  assert.equal(shardLabel({ first: 1, last: 1, total: 2 }), "1-1/2");
});
