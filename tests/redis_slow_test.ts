/**
 * The real bot process with `REDIS_URL` pointing at a real `redis-server` through a proxy that
 * slows every command down (400 ms, as the red team's did): the bot keeps answering on its local
 * share of Discord's budget, says so once in the log, and `/readyz` and `/metrics` show it; every
 * Gemini call made meanwhile is counted in the shared day.
 */
import assert from "node:assert/strict";
import { connectRedis, whenReady } from "../lib/redis_client.ts";
import { until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";
import { SlowProxy } from "./slow_proxy.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000001";

/** Requests counted today over every process and key, as the shared quota's day hashes hold. */
async function dayCounted(server: RedisServer): Promise<number> {
  const redis = connectRedis(server.url());
  try {
    await whenReady(redis, 5_000);
    const keys = await redis.keys("soyebot:quota:*:day:*");
    let total = 0;
    for (const key of keys) {
      for (const [field, value] of Object.entries(await redis.hgetall(key))) {
        if (field !== "spent") total += Number(value);
      }
    }
    return total;
  } finally {
    redis.disconnect();
  }
}

Deno.test({
  name: "with Redis 400 ms slow the bot keeps answering, warns, and /readyz and /metrics show it",
  ignore: REDIS_MISSING,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await RedisServer.start();
    const proxy = SlowProxy.start(server.port);
    const world = await World.create();
    try {
      const bot = await world.startBot({
        REDIS_URL: proxy.url(),
        USER_RATE_LIMIT: "1000",
        HTTP_PORT: "0",
        // Two processes' worth: a local share is half of the budget.
        SHARDS: "0",
        SHARD_COUNT: "1",
      });
      const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
      await bot.waitForOutput(pattern);
      const [, host, port] = bot.output.match(pattern)!;
      const base = `http://${host}:${port}`;
      proxy.latencyMs = 400;

      const total = 6;
      for (let i = 0; i < total; i++) {
        world.gemini.reply(`대답 ${i}.`);
        await world.mention(CHANNEL, GUILD, `질문 ${i}`, `사람${i}`);
      }
      // Unshared, every grant came back after its 250 ms slot and nothing was sent for 25 s.
      await until(
        () => world.botMessages(CHANNEL).filter((m) => m.startsWith("대답")).length === total,
        "every answer while Redis is slow",
        20_000,
      );
      await bot.waitForOutput(/WARN.*Redis is slow: keeping to this process's local share/);

      const ready = await fetch(`${base}/readyz`);
      const body = await ready.text();
      assert.equal(ready.status, 503, body);
      assert.match(body, /discord_budget_shared: down/);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /\nsoyebot_discord_budget_local 1\n/);

      // Quick again: it leases from Redis once more (seen at its next request), and is ready.
      proxy.latencyMs = 0;
      world.gemini.reply("대답 끝.");
      await world.mention(CHANNEL, GUILD, "마지막", "민수");
      await until(() => world.botMessages(CHANNEL).includes("대답 끝."), "the answer after");
      await bot.waitForOutput(/Redis answers quickly again/);
      const healed = await fetch(`${base}/readyz`);
      assert.equal(healed.status, 200, await healed.text());

      // Every call is in the shared day, however slow Redis was while it was counted.
      const calls = world.generateRequests().filter((r) => r.status === 200).length;
      assert.equal(calls, total + 1);
      let counted = 0;
      const deadline = Date.now() + 10_000;
      while ((counted = await dayCounted(server)) !== calls && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(counted, calls, `the shared day counts ${counted} of ${calls} calls`);
    } finally {
      await world.close();
      await proxy.close();
      await server.stop();
    }
  },
});
