/**
 * Scale-out mistakes, end to end with real bot processes and a real `redis-server`: a second
 * process started with shards another holds refuses to start, naming the holder; a SIGKILLed
 * process's unused Gemini lease frees its room within seconds, as the README says.
 */
import assert from "node:assert/strict";
import { connectRedis, whenReady } from "../lib/redis_client.ts";
import { BotProcess, until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000001";

const redisTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: REDIS_MISSING, sanitizeOps: false, sanitizeResources: false, fn });

redisTest(
  "a second process with shards another holds refuses to start, naming the holder",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create({ discord: { shards: 2 } });
    try {
      const env = { REDIS_URL: redis.url(), SHARD_COUNT: "2", USER_RATE_LIMIT: "1000" };
      const first = await world.startBot({ ...env, SHARDS: "0" });
      for (const shards of ["0", "0-1"]) {
        const second = new BotProcess(world.env({ ...env, SHARDS: shards }));
        // Bounded: a process that takes the shards anyway is stopped, and fails the check.
        const timer = setTimeout(() => second.stop("SIGKILL"), 20_000);
        const status = await second.exited;
        clearTimeout(timer);
        assert.equal(status.code, 1, second.output);
        const refusals = second.output.split("\n").filter((l) => /held by/.test(l));
        assert.equal(refusals.length, 1, second.output);
        assert.match(refusals[0], new RegExp(`^soyebot: shards ${shards.replace("-", "\\-")}`));
        assert.match(refusals[0], new RegExp(`held by \\S+ pid ${first.child.pid}\\b`));
      }
      // The other shard is free: a process for it starts.
      await world.startBot({ ...env, SHARDS: "1" });
      assert.deepEqual(world.discord.connectedShards, [0, 1]);
    } finally {
      await world.close();
      await redis.stop();
    }
  },
);

redisTest(
  "a SIGKILLed process's unused quota lease frees its room within seconds, not a minute",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create();
    const peek = connectRedis(redis.url());
    try {
      await whenReady(peek, 5_000);
      // A lease is about 1/8 of the RPM: 20 requests, one of them used.
      const bot = await world.startBot({
        REDIS_URL: redis.url(),
        GEMINI_RPM: "160",
        USER_RATE_LIMIT: "1000",
      });
      world.gemini.reply("하나.");
      await world.mention(CHANNEL, GUILD, "하나");
      await until(() => world.botMessages(CHANNEL).includes("하나."), "the answer");
      await bot.stop("SIGKILL");
      const killedAt = Date.now();
      // What each lease holds and until when, as Redis scores it: what the dead process had
      // leased and not used must leave within a lease's life and grace (4 s), not a minute;
      // only what it used (at most the one call, once settled) stays for the window.
      let heldPastGrace = 0;
      for (const key of await peek.keys("soyebot:quota:*:minute")) {
        const scored = await peek.zrangebyscore(key, killedAt + 4_000, "+inf");
        for (const member of scored) heldPastGrace += Number(member.split("|")[1]);
      }
      assert.ok(heldPastGrace <= 1, `${heldPastGrace} requests held past 4 s after the kill`);
    } finally {
      peek.disconnect();
      await world.close();
      await redis.stop();
    }
  },
);
