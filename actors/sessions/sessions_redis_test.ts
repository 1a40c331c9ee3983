import assert from "node:assert/strict";
import { RedisStore } from "../../lib/store/redis.ts";
import { REDIS_MISSING, RedisServer } from "../../tests/redis_server.ts";
import { answerTo, say, withSessions } from "./testing.ts";

const TTL_MS = 30 * 86_400_000;

Deno.test({
  name: "Sessions given a Redis config keep every host's history in Redis, shared by processes",
  ignore: REDIS_MISSING,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await RedisServer.start();
    const redis = { url: server.url(), ttlMs: TTL_MS, turnsOf: "0-0/2" };
    try {
      await withSessions({ redis }, async (sessions, databasePath) => {
        await say(sessions, "a", "one");
        await say(sessions, "b", "two");
        assert.deepEqual(await say(sessions, "a", "three"), ["one", answerTo("one"), "three"]);
        // Nothing went to SQLite: the hosts opened Redis instead.
        await assert.rejects(Deno.stat(databasePath), Deno.errors.NotFound);
      });
      // Another process, with another shard range, reads the same windows.
      const other = await RedisStore.connect({ ...redis, turnsOf: "1-1/2" });
      assert.deepEqual((await other.load("a")).map((e) => e.user), ["one", "three"]);
      assert.deepEqual((await other.load("b")).map((e) => e.user), ["two"]);
      await other.close();
      // And a new Sessions (a restarted process) continues them.
      await withSessions({ redis }, async (sessions) => {
        assert.deepEqual(await say(sessions, "b", "four"), ["two", answerTo("two"), "four"]);
      });
    } finally {
      await server.stop();
    }
  },
});
