import assert from "node:assert/strict";
import { redisTest } from "../../tests/redis_server.ts";
import { connectRedis, whenReady } from "../redis_client.ts";
import { claimFields, claimShards, ShardsTakenError } from "./shard_claim.ts";

Deno.test("a range claims one field per shard; no range claims them all", () => {
  assert.deepEqual(claimFields({ first: 1, last: 2, total: 4 }), ["1/4", "2/4"]);
  assert.deepEqual(claimFields(undefined), ["all"]);
});

redisTest("claims conflict on a shared shard, on all, and across shard counts", async (s) => {
  const redis = connectRedis(s.url());
  try {
    await whenReady(redis, 5_000);
    const held = await claimShards(redis, { first: 0, last: 1, total: 4 }, "0-1/4", {
      holder: "a pid 1",
    });
    const refused = async (range: { first: number; last: number; total: number } | undefined) =>
      await assert.rejects(
        claimShards(redis, range, "x", { holder: "b pid 2" }),
        (error: Error) => error instanceof ShardsTakenError && error.holder === "a pid 1",
      );
    await refused({ first: 1, last: 1, total: 4 });
    await refused(undefined);
    await refused({ first: 5, last: 5, total: 8 });
    const other = await claimShards(redis, { first: 2, last: 3, total: 4 }, "2-3/4", {
      holder: "b pid 2",
    });
    await held.release();
    const again = await claimShards(redis, { first: 0, last: 0, total: 4 }, "0-0/4", {
      holder: "c pid 3",
    });
    await other.release();
    await again.release();
  } finally {
    redis.disconnect();
  }
});
